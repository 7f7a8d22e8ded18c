"""What a hook can end a request with: a refusal before anything is sent, an answer rejected
(the chain moves on), or the hook itself failing (raising, or overrunning the deadline)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from router.errors.base import RequestError, RouterError
from router.errors.provider import ContentFiltered


class RequestRefused(RequestError):
    """A hook refused the request before anything was sent. A hook's ``before`` raises it
    (``raise RequestRefused("a private key was pasted", code="secret_in_prompt")``); the
    router then raises a fresh one naming the hook: ``hook`` is its registered name, ``code``
    the hook's own short reason (or None). Also a :class:`RequestError`."""

    def __init__(self, message: str, *, code: str | None = None, hook: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.hook = hook

    def __str__(self) -> str:
        if self.hook is None:
            return self.message
        code = f", {self.code}" if self.code else ""
        return f"refused by hook '{self.hook}'{code}: {self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_refused, (self.message, self.code, self.hook))


def _rebuild_refused(message: str, code: str | None, hook: str | None) -> RequestRefused:
    return RequestRefused(message, code=code, hook=hook)


class ResponseRejected(ContentFiltered):
    """A hook rejected a model's answer (its ``after`` or ``after_chunk`` raised it). The
    attempt fails as a content filter's refusal does: the chain moves on when the task's
    ``fallback_on`` holds ``content_filter`` (the default). ``hook`` and ``code`` as
    :class:`RequestRefused`; ``provider`` and ``model`` name the answer's model."""

    def __init__(
        self, message: str, *, code: str | None = None, hook: str | None = None, **kw: Any
    ) -> None:
        super().__init__(message, **kw)
        self.code = code
        self.hook = hook

    def __str__(self) -> str:
        base = super().__str__()
        if self.hook is None:
            return base
        code = f", {self.code}" if self.code else ""
        return f"rejected by hook '{self.hook}'{code}: {base}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_rejected,
            (self.message, self.code, self.hook, self.provider, self.model),
        )


def _rebuild_rejected(
    message: str, code: str | None, hook: str | None, provider: str | None, model: str | None
) -> ResponseRejected:
    return ResponseRejected(message, code=code, hook=hook, provider=provider, model=model)


class HookFailed(RouterError):
    """A hook failed: it raised something other than a refusal, or returned what its stage
    cannot use. The request ends here (no other model is tried: the same hook would run
    again). ``hook`` is its registered name, ``stage`` one of ``before``, ``after``,
    ``after_chunk``; ``attempts`` lists every attempt made. ``str()`` names the hook, the
    stage, the exception's type and the line that raised it, never the exception's message
    (it could quote the prompt); the hook's exception is not chained."""

    def __init__(
        self, message: str, *, hook: str, stage: str, attempts: Sequence[Any] = ()
    ) -> None:
        super().__init__(message)
        self.hook = hook
        self.stage = stage
        self.attempts = tuple(attempts)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_failed, (type(self), str(self), self.hook, self.stage, self.attempts))


def _rebuild_failed(
    cls: type[HookFailed], message: str, hook: str, stage: str, attempts: tuple[Any, ...]
) -> HookFailed:
    return cls(message, hook=hook, stage=stage, attempts=attempts)


class HookTimeout(HookFailed):
    """A hook was still running when the request's deadline (``timeouts.total``) came; or the
    spec's guardrails were still checking the request (``hook`` is then ``"guardrails"``, the
    stage ``before``): nothing was sent."""
