"""The Router: compiles a spec once, then routes calls through it.

``Router.from_yaml(path)`` validates and compiles the spec into targets (one per model, each
a stack of nodes over a provider adapter). Every call is planned by the pure core
(:mod:`router.routing.call`, :mod:`router.routing.plan`) and carried out by one of two thin
drivers (:mod:`router.engine.drive`): the sync one calls the adapters' sync methods (never an
event loop), the async one awaits theirs.
"""

from __future__ import annotations

import asyncio
import os
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from router.engine import inventory
from router.engine.classifier import ClassifierRunner
from router.engine.compile import AdapterFactory, Runtime, compile_spec, make_adapter
from router.engine.drive import adrive, drive
from router.engine.inventory import ModelInfo
from router.engine.prepare import Calls
from router.engine.streams import AsyncStream, Stream
from router.errors import RequestError
from router.routing.classify import Classification
from router.routing.embed import embeddings_of
from router.routing.plan import Plan
from router.specmodel import Spec
from router.state import StateBackend
from router.types import Embeddings, Message, Response

if TYPE_CHECKING:
    from router.sandbox import Sandbox

__all__ = ["AsyncStream", "ModelInfo", "Router", "Stream"]


class Router:
    """Routes completions by task through the compiled spec. Thread-safe and asyncio-safe;
    create one per process and share it."""

    def __init__(
        self,
        spec: Spec,
        *,
        environ: Mapping[str, str] | None = None,
        state: StateBackend | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        asleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        redact: Callable[[str], str] | None = None,
        preload: bool = True,
        adapter_factory: AdapterFactory = make_adapter,
        sandbox: bool | Sandbox = False,
        random: Callable[[], float] | None = None,
        carry_from: Router | None = None,
        hooks: Mapping[str, object] | None = None,
    ) -> None:
        """``state`` overrides the spec's state backend; ``clock`` (monotonic: latencies,
        deadlines, breakers), ``wall`` (shared holds) and the two sleeps are injectable so
        tests never wait. ``redact`` is applied to prompt and response text before it is
        logged (only with ``telemetry.log.content: true``), e.g. to mask personal data.

        ``preload`` (default): import each usable provider's SDK and build its clients now, so
        that no call does it (an async call would otherwise stall the event loop for the
        import, 0.3-0.8 s). ``preload=False`` defers that to each provider's first call (done
        in a worker thread for async calls): for tools that only plan, like ``router explain``.

        ``adapter_factory(provider, environ) -> Adapter`` makes each provider's adapter
        (default :func:`~router.engine.compile.make_adapter`: the registry's class for the
        provider's type, with its key and headers from ``environ``). Wrap it to put something
        between the router and the real adapters, as the simulator does; every node of the
        stack above the adapter stays the engine's.

        ``sandbox=True`` runs the spec keys-free on an in-process :class:`~router.sandbox.Sandbox`
        started now and stopped by :meth:`close` (a ``Sandbox`` passed in stays yours to stop),
        state in memory: see :mod:`router.engine.sandboxed`. ``self.sandbox`` is the sandbox.

        ``carry_from`` (a Router this one replaces, as a reload does) keeps its state backend
        when the spec's ``state`` section is unchanged (limits, holds, spend, cache: the old
        Router then leaves it open for this one) and the breakers of unchanged deployments:
        see :mod:`router.engine.succession`.

        ``hooks`` (name -> hook) registers the code the spec's ``hooks`` lists name: a
        function (a before hook) or an object with any of ``before``, ``after``,
        ``after_chunk``, ``on_attempt`` (see :mod:`router.engine.hooks`). A name the spec
        lists that is not registered raises ConfigError here.
        """
        self.sandbox: Sandbox | None = None
        self._stop_sandbox: Callable[[], Any] = lambda: None
        owned: Sandbox | None = None
        env = dict(os.environ if environ is None else environ)
        if sandbox is not False:
            from router.engine.sandboxed import sandboxed, start_sandbox

            self.sandbox, owned = start_sandbox(sandbox)
            spec, env = sandboxed(spec, self.sandbox)
        self.spec = spec
        self._owns_state = True
        carried = None
        # First, before anything is built: a missing extra is refused here (ConfigError).
        self._classifier: ClassifierRunner | None = None
        if spec.classifier is not None:
            old = carry_from._classifier if carry_from is not None else None
            try:
                self._classifier = ClassifierRunner(spec, carry=old)
            except BaseException:
                if owned is not None:
                    owned.stop()
                raise
        if carry_from is not None:
            from router.engine.succession import carry_over

            carried = carry_over(carry_from._rt, spec)
            state = state if state is not None else carried.state
        try:
            self._rt: Runtime = compile_spec(
                spec,
                environ=env,
                state=state,
                breakers=carried.breakers if carried is not None else None,
                clock=clock,
                wall=wall,
                sleep=sleep,
                asleep=asleep,
                redact=redact,
                preload=preload,
                adapter_factory=adapter_factory,
                random=random,
                hooks=hooks,
            )
        except BaseException:
            if owned is not None:
                owned.stop()
            raise
        if owned is not None:  # a Router dropped without close() still stops its sandbox
            self._stop_sandbox = weakref.finalize(self, owned.stop)
        self._calls = Calls(spec, self._rt, self._classifier)
        self.state = self._rt.state
        if carry_from is not None and carry_from.state is self.state:
            carry_from._owns_state = False  # handed over: closed by this Router

    @classmethod
    def from_yaml(
        cls,
        path: str | os.PathLike[str],
        *,
        strict: bool = False,
        require_env: bool = False,
        environ: Mapping[str, str] | None = None,
        **options: Any,
    ) -> Router:
        """Load, validate and compile the spec at ``path``; raises ConfigError listing every
        problem when it is invalid (``strict``: warnings too; ``require_env``: an unset key,
        header or Redis URL variable too). ``options`` are the constructor's (state, clock,
        ``sandbox=True`` to run the spec keys-free against the in-process sandbox...)."""
        # The spec loader (YAML, the schema, the semantic checks) is imported here, when a
        # Router is built from a file, not by `from router import Router`.
        from router.spec import load_spec

        spec = load_spec(path, strict=strict, require_env=require_env, environ=environ)
        return cls(spec, environ=environ, **options)

    # --- decisions without calls -------------------------------------------------------------

    def explain(
        self,
        task: str | None = None,
        messages: Iterable[Message | Mapping[str, Any]] | None = None,
        *,
        prompt: str | None = None,
        stream: bool = False,
        **params: Any,
    ) -> Plan:
        """The plan a call would follow: matched rule, ordered candidates with their scores,
        skipped models and why, the fallback chain. Calls nothing."""
        if messages is None and prompt is None:
            prompt = ""
        return self._calls.call(task, messages, prompt, params, stream, route=False).plan

    def classify(
        self,
        messages: Iterable[Message | Mapping[str, Any]] | None = None,
        *,
        prompt: str | None = None,
        timeout: float | None = None,
    ) -> Classification:
        """What the spec's classifier decides for these messages (or ``prompt``): every
        label's score, the label or an abstention, and the task a call would go to. Waits for
        the training (up to ``timeout`` seconds; None: until done). Calls nothing; raises
        RequestError when the spec has no ``classifier`` section."""
        return self._calls.classify(messages, prompt, timeout)

    def deployments(self, model: str, *, session: str | None = None) -> list[dict[str, Any]]:
        """Where ``model`` is served, as ``router explain`` shows it: each deployment's
        provider, id, weight and share, whether it can be chosen now, its in-flight count,
        latency and rate-limit headroom (this process's view), its prices, and which one a
        request (carrying ``session``) would take first, and why. Calls nothing."""
        pool = self._rt.pools.get(model)
        if pool is None:
            raise RequestError(f"unknown model '{model}'", argument="model")
        return pool.describe(self._rt.clock(), session)

    @property
    def graph(self) -> Any:
        from router.engine.graph import Graph

        several = {
            name: [(t.deployment or "", f"{t.provider}/{t.model.id}", t.node) for t in pool.every]
            for name, pool in self._rt.pools.items()
            if len(pool.every) > 1
        }
        return Graph(self.spec, {n: t.node for n, t in self._rt.targets.items()}, several)

    # --- sync driver -------------------------------------------------------------------------

    def complete(
        self,
        task: str | None = None,
        messages: Iterable[Message | Mapping[str, Any]] | None = None,
        *,
        prompt: str | None = None,
        **params: Any,
    ) -> Response:
        """Answer with the first model of the task's chain that succeeds. Without a task (or
        with ``task="auto"``) the spec's classifier chooses it from the messages. Raises
        RequestError for an invalid call and AllModelsFailed (carrying every attempt) when
        no model could answer."""
        call = self._calls.call(task, messages, prompt, params, stream=False)
        return drive(self._rt, self._rt.enter(call))

    def stream(
        self,
        task: str | None = None,
        messages: Iterable[Message | Mapping[str, Any]] | None = None,
        *,
        prompt: str | None = None,
        **params: Any,
    ) -> Stream:
        """Stream the answer as Chunks. Failover is transparent until the first chunk with
        content reaches you; after that a failure raises StreamInterrupted with the partial
        text. The returned Stream's ``response`` holds the whole answer once it ends."""
        call = self._rt.enter(self._calls.call(task, messages, prompt, params, stream=True))
        return Stream(self._rt, call)

    # --- async driver ------------------------------------------------------------------------

    async def acomplete(
        self,
        task: str | None = None,
        messages: Iterable[Message | Mapping[str, Any]] | None = None,
        *,
        prompt: str | None = None,
        **params: Any,
    ) -> Response:
        """The async twin of :meth:`complete`."""
        call = await self._calls.acall(task, messages, prompt, params, stream=False)
        return await adrive(self._rt, await self._rt.aenter(call))

    def astream(
        self,
        task: str | None = None,
        messages: Iterable[Message | Mapping[str, Any]] | None = None,
        *,
        prompt: str | None = None,
        **params: Any,
    ) -> AsyncStream:
        """The async twin of :meth:`stream`: ``async for chunk in router.astream(...)``."""
        # The budget gate needs I/O; the async stream runs it when iteration starts, and a
        # costly classification too (in a thread).
        if self._calls.costly(task):
            return AsyncStream(
                self._rt, lambda: self._calls.acall(task, messages, prompt, params, stream=True)
            )
        return AsyncStream(self._rt, self._calls.call(task, messages, prompt, params, stream=True))

    # --- embeddings ----------------------------------------------------------------------------

    def embed(
        self,
        task: str,
        input: str | Iterable[str],
        *,
        dimensions: int | None = None,
        **params: Any,
    ) -> Embeddings:
        """Embed ``input`` (one text or a list) with the first embedding model of the task's
        chain that succeeds: the same limits, breakers, retries, cache, budgets and ledger as
        :meth:`complete`. ``dimensions`` asks for shorter vectors where the model can give
        them. Raises RequestError for an invalid call (a task of chat models included) and
        AllModelsFailed (carrying every attempt) when no model could answer."""
        call = self._calls.embed(task, input, dimensions, params)
        return embeddings_of(drive(self._rt, self._rt.enter(call)))

    async def aembed(
        self,
        task: str,
        input: str | Iterable[str],
        *,
        dimensions: int | None = None,
        **params: Any,
    ) -> Embeddings:
        """The async twin of :meth:`embed`."""
        call = self._calls.embed(task, input, dimensions, params)
        return embeddings_of(await adrive(self._rt, await self._rt.aenter(call)))

    # --- models and lifecycle ----------------------------------------------------------------

    def models(self, *, remote: bool = False) -> list[ModelInfo]:
        """The configured models; with ``remote=True`` also asks each available provider for
        its model list and notes whether each model's id is in it."""
        return inventory.models(self._rt, remote=remote)

    def health(self) -> dict[str, Any]:
        """Every breaker, hold and limit, and the state backend: what ``router health``
        prints. Never raises for an unreachable state backend: ``state`` then says so
        (``ok: False``; ``status``: ``degraded`` when failing open, ``refusing`` when failing
        closed, ``unreachable`` for a backend without either policy), and each model's holds
        are those this process serves with, or unknown (``holds_known: False``) when the
        backend refuses."""
        from router.engine.health import health

        return health(self._rt)

    def forget_session(self, session: str) -> bool:
        """Sticky routing: unbind ``session`` from the deployment it was moved to (or stayed
        on), so its next request is balanced afresh and may return to the one it left. True
        when some model had it bound. (A session stays where it was last served: after its
        deployment fails it moves on, and it comes back only when asked, here.)"""
        found = False
        for pool in self._rt.pools.values():
            found = pool.forget(session) or found
        return found

    @property
    def telemetry(self) -> Any:
        """The Telemetry (ledger, event log, metrics, tracing) this router records to."""
        return self._rt.accounting.telemetry

    def close(self) -> None:
        """Closes the sync clients and the state backend; each event loop's async clients are
        closed on their own loop (asked from any thread), or released if that loop is closed.
        Callable from any thread."""
        for lazy in self._rt.adapters.values():
            if lazy.created is not None:
                lazy.created.close()
        if self._owns_state:
            self.state.close()
        self._rt.accounting.close()
        self._rt.close_workers()
        self._stop_sandbox()  # the sandbox this Router started, after its clients

    async def aclose(self) -> None:
        """Closes the running event loop's clients at once, then as :meth:`close`. (Without
        it, ``asyncio.run`` closes a loop's clients as that loop shuts down.)"""
        for lazy in self._rt.adapters.values():
            if lazy.created is not None:
                await lazy.created.aclose()
        if self._owns_state:
            await self.state.aclose()
        self._rt.accounting.close()
        self._rt.close_workers()
        await asyncio.to_thread(self._stop_sandbox)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return (
            f"Router(source={self.spec.source!r}, providers={len(self.spec.providers)}, "
            f"models={len(self.spec.models)}, tasks={len(self.spec.tasks)})"
        )
