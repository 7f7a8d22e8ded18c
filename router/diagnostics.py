"""One finding about a spec file: where it is, what is wrong, and what to do."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

#: ``error``: the spec is refused (by ``router validate`` and by the Router). ``warning``: worth
#: a look; ``--strict`` makes it an error. ``note``: a fact about where the check ran (a key
#: variable unset on this machine), never a failure unless asked for (``--require-env``).
Severity = Literal["error", "warning", "note"]

#: Every warning code the checks give (``--strict`` turns them into errors; ``--ignore CODE``
#: or a ``# router: ignore[CODE]`` comment drops them).
WARNING_CODES = frozenset(
    {
        "classifier-ambiguous-example",
        "context-window-unknown",
        "duplicate-in-chain",
        "hedge-without-target",
        "insecure-base-url",
        "priority-without-data",
        "rule-drops-fallbacks",
        "task-fallback-adds-nothing",
        "timeout-total-ignored",
        "unreachable-model",
    }
)
#: Every note code: facts about the environment the spec was checked in (``env-unset``:
#: ``--require-env`` makes it an error), or about what the spec needs from the code that
#: runs it (``hooks-named``: the hooks it names, which only a Router's registry can have).
NOTE_CODES = frozenset({"env-unset", "hooks-named"})
#: The notes ``--require-env`` turns into errors.
ENV_NOTE_CODES = frozenset({"env-unset"})


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A single error or warning.

    ``path`` is a JSON path such as ``$.tasks.summarize.fallback[1]`` (empty for problems with
    the file as a whole); ``line`` and ``column`` are 1-based; ``code`` is a stable identifier
    (``unknown-model``, ``fallback-cycle``...) that tests and tools can match on.
    """

    message: str
    severity: Severity = "error"
    code: str = "config"
    path: str = ""
    file: str | None = None
    line: int | None = None
    column: int | None = None
    hint: str | None = field(default=None)

    def location(self) -> str:
        parts = [self.file or "<spec>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def render(self) -> str:
        where = f"{self.path}: " if self.path else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.location()}: {self.severity}: {where}{self.message}{hint} [{self.code}]"

    def as_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
        }
