"""Hooks: code the application registers by name (``Router(hooks={"name": hook})``) and the
spec attaches to requests by that name (``defaults.hooks``, ``tasks.X.hooks``,
``rules[i].hooks``). A spec never imports code: a name it lists that is not registered fails
when the Router is built.

A hook is a plain callable (a ``before`` hook), or an object (a :class:`Hook` subclass, or any
object) with any of these methods, each a plain ``def`` or an ``async def``:

``before(ctx)``
    Before anything is sent, once per request, in spec order. May rewrite ``ctx.messages``
    and ``ctx.params`` (the rewritten call is checked and planned again, under the rule the
    caller's request matched); may refuse by raising :class:`~router.errors.RequestRefused`.
    Returns None.
``after(ctx, response)``
    On each answer, in reverse order. Returns a rewritten Response (``dataclasses.replace``)
    or None to keep it; raising :class:`~router.errors.ResponseRejected` fails the attempt
    as a content filter's refusal does, and the chain moves on.
``after_chunk(ctx, chunk)``
    On each chunk of a stream, in reverse order. Returns a rewritten Chunk or None to keep
    it; may hold text back (return it with a shorter ``delta``) and must give it back by the
    chunk that carries ``finish_reason``. Raising ResponseRejected fails the attempt.
``on_attempt(ctx, attempt)``
    An observer: once per attempt (:class:`~router.types.Attempt`), in spec order, after it
    is recorded. It cannot change anything: what it returns is ignored, and what it raises
    (or an overrun of the deadline) is logged on the ``router.hooks`` logger, never raised.

Streams: ``after_chunk`` rewrites each chunk as it comes; then, once the stream has ended,
``after`` sees the whole answer. A hook with ``after`` but no ``after_chunk`` makes the router
hold a stream's chunks back until its ``after`` has passed the whole answer (so a hook written
for whole answers is never bypassed by streaming); a stream without such a hook flows chunk by
chunk, and its hooks' ``after`` can then only reject (what it returns is ignored: the text is
delivered). A rejection before any chunk reached the caller moves the chain on; after, it ends
the stream with StreamInterrupted.

Each call of a hook is bounded by the request's deadline (``timeouts.total``, counted from
the request's start): a plain ``def`` runs in a worker thread (never on the event loop), an
``async def`` on the caller's event loop (on a sync call, on a private one in a worker
thread). One that overruns ends the request with HookTimeout; one that raises anything but a
refusal, with HookFailed naming it. ``ctx.state`` is the hook's own dict for the request: what
``before`` saves there (a map of masked values), ``after``, ``after_chunk`` and
``on_attempt`` read (on a hedged call ``after`` may run on two answers at once).
"""

from __future__ import annotations

import asyncio
import copy
import difflib
import inspect
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from router.aio.workers import Workers
from router.diagnostics import Diagnostic
from router.errors import ConfigError
from router.messages import coerce_messages
from router.routing.hookplan import HookStep, hook_names
from router.specmodel import Spec
from router.types import Attempt, Message

if TYPE_CHECKING:
    from router.routing.call import Call

__all__ = [
    "HOOK_METHODS",
    "Hook",
    "HookContext",
    "HookFns",
    "HookRegistry",
    "SharedRequest",
    "stand_ins",
    "where_raised",
]

#: The methods a hook object may define (a plain callable is a ``before`` hook).
HOOK_METHODS = ("before", "after", "after_chunk", "on_attempt")


class Hook:
    """The optional base class of a hook object: define any of ``before(ctx)``,
    ``after(ctx, response)``, ``after_chunk(ctx, chunk)``, ``on_attempt(ctx, attempt)``, each
    a plain ``def`` or an ``async def`` (see :mod:`router.engine.hooks`). Any object with
    those methods works as well; a plain function is a ``before`` hook.

    ``inline = True`` (a class or instance attribute) runs the hook's plain methods on the
    caller's thread (on an async call, the event loop) instead of a worker thread: for hooks
    that do little, bounded work and never block (a chunk transform restoring placeholders),
    so a stream does not pay a thread hop per chunk. Such a call cannot be interrupted: one
    that overran the request's deadline fails with HookTimeout once it returns."""

    __slots__ = ()
    inline: bool = False


class SharedRequest:
    """The request as every hook of it sees it (one per request, shared by its hooks)."""

    __slots__ = ("embed", "messages", "params", "requested_task", "rule", "run", "stage", "stream")

    def __init__(self, call: Call) -> None:
        plan = call.plan
        self.requested_task = plan.requested_task
        self.rule = plan.rule.name if plan.rule is not None else None
        self.stream = "streaming" in plan.features.capabilities
        self.embed = call.embed is not None
        if call.embed is not None:  # one user message per text to embed
            self.messages: list[Any] = [Message("user", text) for text in call.embed]
        else:
            self.messages = list(call.messages)
        # A copy all the way down: a hook changing a nested value (``metadata``) changes
        # neither the caller's objects nor the call, and the change is seen.
        self.params: dict[str, Any] = copy.deepcopy(dict(call.params))
        self.stage = "before"
        self.run: Any = None  # the ChainRun, once the walk has begun


class HookContext:
    """What one hook sees of one request: a new one per hook and request.

    ``hook`` is the name the hook is registered under; ``state`` its own dict for this
    request (``before`` saves, ``after``/``after_chunk``/``on_attempt`` read). ``messages``
    (a list of :class:`~router.types.Message`; OpenAI-shaped dicts may be put in) and
    ``params`` (the call's keyword arguments: ``temperature``, ``max_tokens``, ``metadata``,
    ``tags``, ``tools``...) may be changed in ``before`` only; afterwards they are what was
    sent. On an ``embed()`` call (``embed`` True) the messages are its texts, one user message
    each. Its repr never shows the messages, the parameters or the state."""

    __slots__ = ("_request", "_task", "hook", "state")

    def __init__(self, request: SharedRequest, hook: str, task: str) -> None:
        self._request = request
        self._task = task
        self.hook = hook
        self.state: dict[str, Any] = {}

    @property
    def task(self) -> str:
        """The task serving the request (a rule's ``route_to`` may have changed it)."""
        return self._task

    @property
    def requested_task(self) -> str:
        """The task the call named."""
        return self._request.requested_task

    @property
    def rule(self) -> str | None:
        """The name of the rule the request matched, or None."""
        return self._request.rule

    @property
    def stream(self) -> bool:
        return self._request.stream

    @property
    def embed(self) -> bool:
        return self._request.embed

    @property
    def stage(self) -> str:
        """``before`` while the request may still be rewritten, then ``walk``."""
        return self._request.stage

    @property
    def messages(self) -> list[Any]:
        return self._request.messages if self.stage == "before" else list(self._request.messages)

    @messages.setter
    def messages(self, value: Any) -> None:
        if self.stage != "before":
            raise AttributeError("ctx.messages can be changed in before() only")
        self._request.messages = list(value)

    @property
    def params(self) -> Any:
        """A dict in ``before``; a read-only view afterwards."""
        params = self._request.params
        return params if self.stage == "before" else MappingProxyType(params)

    @property
    def metadata(self) -> Mapping[str, Any]:
        return MappingProxyType(dict(self._request.params.get("metadata") or {}))

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(self._request.params.get("tags") or ())

    @property
    def attempts(self) -> tuple[Attempt, ...]:
        """The attempts of the request so far."""
        run = self._request.run
        return tuple(run.attempts) if run is not None else ()

    def text(self) -> str:
        """Every text part of the messages, one per line (what a check on the prompt reads)."""
        out = []
        for m in coerce_messages(self._request.messages):
            if isinstance(m.content, str):
                out.append(m.content)
            else:
                out += [p.text for p in m.content if hasattr(p, "text")]
        return "\n".join(out)

    def __repr__(self) -> str:
        return f"HookContext(hook={self.hook!r}, task={self.task!r}, stage={self.stage!r})"


@dataclass(frozen=True, slots=True)
class HookFns:
    """A registered hook, read once: the methods it has, and which are ``async def``."""

    name: str
    before: Callable[..., Any] | None = None
    after: Callable[..., Any] | None = None
    after_chunk: Callable[..., Any] | None = None
    on_attempt: Callable[..., Any] | None = None
    asynchronous: frozenset[str] = frozenset()
    inline: bool = False  # plain methods run on the caller's thread (Hook.inline)

    @property
    def holds_streams(self) -> bool:
        """It reads whole answers only: a stream is held back until its ``after`` passed."""
        return self.after is not None and self.after_chunk is None


def _is_async(fn: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - an object whose __call__ is async
    )


def read_hook(name: str, hook: object) -> HookFns | str:
    """``hook`` as :class:`HookFns`, or why it cannot be one."""
    if isinstance(hook, type):
        return f"is the class {hook.__name__}: register an instance ({hook.__name__}())"
    found: dict[str, Callable[..., Any]] = {}
    for method in HOOK_METHODS:
        fn = getattr(hook, method, None)
        if fn is None:
            continue
        if not callable(fn):
            return f"has a {method} that is not callable ({type(fn).__name__})"
        found[method] = fn
    if not found:
        if not callable(hook):
            return (
                f"is a {type(hook).__name__}: expected a function (a before hook) or an "
                f"object with any of {', '.join(HOOK_METHODS)}"
            )
        found["before"] = hook  # a plain callable
    inline = getattr(hook, "inline", False)
    if not isinstance(inline, bool):
        return f"has inline = {inline!r}: expected True or False"
    return HookFns(
        name,
        asynchronous=frozenset(m for m, fn in found.items() if _is_async(fn)),
        inline=inline,
        **found,
    )


class HookRegistry:
    """The hooks a Router was given, read once, checked against the names its spec lists;
    the chain of each request's hooks (cached); the worker threads plain hooks run in, and the
    event loop (in a thread of its own) that runs ``async def`` hooks for sync calls."""

    __slots__ = ("_chains", "_lock", "_loop", "_workers", "hooks")

    def __init__(self, spec: Spec, hooks: Mapping[str, object]) -> None:
        if not isinstance(hooks, Mapping):
            raise ConfigError(
                f"Router(hooks=...): expected a mapping of names to hooks, got "
                f"{type(hooks).__name__}"
            )
        read: dict[str, HookFns] = {}
        problems: list[Diagnostic] = []
        for name, hook in hooks.items():
            fns = (
                read_hook(str(name), hook)
                if isinstance(name, str)
                else "has a name that is not a string"
            )
            if isinstance(fns, str):
                problems.append(Diagnostic(f"hook {name!r} {fns}", code="bad-hook"))
            else:
                read[name] = fns
        problems += _unregistered(spec, read)
        if problems:
            raise ConfigError(problems)
        self.hooks: Mapping[str, HookFns] = MappingProxyType(read)
        self._chains: dict[tuple[HookStep, ...], tuple[HookFns, ...]] = {}
        self._workers = Workers(32, "router-hook")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def chain(self, steps: tuple[HookStep, ...]) -> tuple[HookFns, ...]:
        """The hooks of a plan's ``hooks``, in order."""
        found = self._chains.get(steps)
        if found is None:
            found = self._chains[steps] = tuple(self.hooks[s.name] for s in steps)
        return found

    @property
    def pool(self) -> ThreadPoolExecutor:
        """The worker threads of plain (not ``async def``) hooks, started on first use."""
        return self._workers.pool

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop of ``async def`` hooks on sync calls (one for the Router, so what a
        hook keeps between calls, a client, stays on one loop), started on first use."""
        with self._lock:
            if self._loop is None:
                loop = self._loop = asyncio.new_event_loop()
                threading.Thread(
                    target=loop.run_forever, name="router-hook-loop", daemon=True
                ).start()
            return self._loop

    def close(self) -> None:
        """Stops the worker threads and the hook loop (a hook still running finishes on its
        own)."""
        self._workers.close()
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)


def _unregistered(spec: Spec, hooks: Mapping[str, HookFns]) -> list[Diagnostic]:
    from router.spec.yamlload import json_path  # only to word the error

    out = []
    for name, path in hook_names(spec):
        if name in hooks:
            continue
        close = difflib.get_close_matches(name, list(hooks), n=1, cutoff=0.6)
        hint = (
            f"did you mean '{close[0]}'?"
            if close
            else (
                f"register it in code: Router(..., hooks={{'{name}': ...}}); on the command "
                f"line: --hooks {name}=module:attribute"
            )
        )
        known = ", ".join(sorted(hooks)) or "none"
        out.append(
            Diagnostic(
                f"hook '{name}' is not registered (registered: {known})",
                code="hook-not-registered",
                path=json_path(path),
                file=spec.source,
                hint=hint,
            )
        )
    return out


def where_raised(exc: BaseException) -> str:
    """`` at file.py:12``: the innermost line the exception passed (never its message, which
    could quote the prompt)."""
    tb = exc.__traceback__
    if tb is None:
        return ""
    while tb.tb_next is not None:
        tb = tb.tb_next
    return f" at {os.path.basename(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}"


class _NotRegistered:
    """Stands in for a hook the spec names, in a Router that only plans (``router explain``,
    ``graph``, ``models``): it never runs there, and fails the request if it ever does; or,
    ``passing``, in a simulation, where it does nothing."""

    __slots__ = ("name", "passing")

    def __init__(self, name: str, passing: bool) -> None:
        self.name = name
        self.passing = passing

    def before(self, ctx: HookContext) -> None:
        if not self.passing:
            raise LookupError(f"hook '{self.name}' is named by the spec but was not registered")


def stand_ins(
    spec: Spec, hooks: Mapping[str, object] | None = None, *, passing: bool = False
) -> dict[str, object]:
    """``hooks`` plus a stand-in for every other hook name the spec lists, for a Router that
    plans but never calls (the CLI's explain, graph, models, health), or (``passing``) one
    that simulates routing and runs no hook (``router simulate``)."""
    out: dict[str, object] = dict(hooks or {})
    for name, _ in hook_names(spec):
        out.setdefault(name, _NotRegistered(name, passing))
    return out
