"""One finding about a spec file: where it is, what is wrong, and what to do."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]


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
