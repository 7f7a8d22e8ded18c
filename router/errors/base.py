"""The root of the tree and the errors of a spec or a call refused before anything is sent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from router.diagnostics import Diagnostic


class RouterError(Exception):
    """Base class of every error the router raises on purpose."""


class ConfigError(RouterError):
    """The routing spec is invalid. ``diagnostics`` lists every problem found, not just the
    first; ``str()`` renders them one per line as ``file:line:col: severity: $.path: message``."""

    def __init__(self, diagnostics: Sequence[Diagnostic] | str) -> None:
        if isinstance(diagnostics, str):
            from router.diagnostics import Diagnostic

            diagnostics = [Diagnostic(message=diagnostics)]
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        errors = [d for d in self.diagnostics if d.severity == "error"] or list(self.diagnostics)
        head = f"{len(errors)} error{'s' if len(errors) != 1 else ''} in the routing spec"
        super().__init__(head + ":\n" + "\n".join("  " + d.render() for d in errors))


class RequestError(RouterError, ValueError):
    """The call is invalid before anything is sent: an unknown task (and no ``default``), an
    unknown parameter, a refused per-call override (``base_url``, ``api_key``), an argument of
    the wrong type or out of range, or messages in a shape that cannot be read. ``argument``
    names the offending argument when there is one (``temperature``,
    ``messages[2].content[1].image_url``)."""

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument


class NoRouteError(RequestError):
    """No model in the task's chain can take this request, so nothing was sent: it is too
    large for every context window, needs a capability (vision, tools, json) no candidate has,
    or every model is excluded. ``task`` is the task that was planned; ``skipped`` holds
    ``(model, reason)`` for every model considered, as ``router explain`` shows them."""

    def __init__(
        self, message: str, *, task: str | None = None, skipped: Sequence[tuple[str, str]] = ()
    ) -> None:
        super().__init__(message)
        self.task = task
        self.skipped = tuple(skipped)


class GuardrailRefused(RequestError):
    """A guardrail of the spec refused the request before anything was sent: ``guardrail``
    names it (as the spec does), ``kind`` says what it found (``openai_key``, ``email``,
    ``term``, ``total_tokens``...) and ``argument`` where (``messages[1].content``). Neither
    the message nor any attribute holds the value found."""

    def __init__(
        self, message: str, *, guardrail: str, kind: str, argument: str | None = None
    ) -> None:
        super().__init__(message, argument=argument)
        self.guardrail = guardrail
        self.kind = kind
