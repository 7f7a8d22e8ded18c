"""The node interface: a stack is walked through ``wrapped``, ``describe()`` and
``health()``; a wrapper forwards what it does not act on. Pure: no HTTP, the innermost node is
a fake adapter answering at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterator
from pathlib import Path

from router.engine.compile import compile_spec
from router.engine.graph import Graph
from router.nodes.adapter import AdapterNode
from router.nodes.base import Node, NodeHealth, Wrapper, walk
from router.nodes.breaker import BreakerNode
from router.nodes.cache import CacheNode
from router.nodes.limiter import LimiterNode
from router.providers.base import Adapter, ProviderSettings
from router.spec import validate_bytes
from router.specmodel import Spec
from router.state import make_backend
from router.types import Chunk, Message, Request, Response, Usage

SPECS = Path(__file__).resolve().parent.parent / "specs"
ENV = {"ROUTER_TEST_KEY": "sk-test"}


def load(tasks: str, *, extra: str = "") -> Spec:
    """``tests/specs/models.yaml`` with these tasks, built by the real loader."""
    text = (SPECS / "models.yaml").read_text(encoding="utf-8") + "tasks:\n" + tasks + extra
    report = validate_bytes(text.encode(), "<test spec>", environ=ENV)
    assert report.spec is not None, [d.message for d in report.errors]
    return report.spec


def request() -> Request:
    return Request(
        model="small", model_id="small-1", provider="oai", messages=(Message("user", "hi"),)
    )


def answer(request: Request) -> Response:
    return Response(
        content="hello",
        finish_reason="stop",
        usage=Usage(3, 1),
        model=request.model,
        model_id=request.model_id,
        provider=request.provider,
        cost=None,
        latency_s=0.0,
    )


class Answering(Adapter):
    """An adapter answering at once, without I/O."""

    type_name = "openai"

    def complete(self, request: Request) -> Response:
        return answer(request)

    async def acomplete(self, request: Request) -> Response:
        return answer(request)

    def stream(self, request: Request) -> Iterator[Chunk]:
        yield Chunk("hel", request.model, request.provider)
        yield Chunk("lo", request.model, request.provider, finish_reason="stop", usage=Usage(3, 1))

    async def astream(self, request: Request) -> AsyncGenerator[Chunk, None]:
        for chunk in self.stream(request):
            yield chunk

    def list_models(self) -> list[str]:
        return []

    async def alist_models(self) -> list[str]:
        return []

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


class Counting(Wrapper):
    """A wrapper acting on nothing but what it reports: it counts nothing, says ``seen``."""

    __slots__ = ()

    def describe(self) -> str:
        return "counting"

    def health(self) -> NodeHealth:
        return {"seen": True}


LIMITED = """\
  default: {candidates: [small, large], cache: {enabled: true}}
"""


def compiled_stack() -> Node:
    spec = load(
        LIMITED,
        extra="defaults:\n  limits: {requests_per_minute: 6000}\n",
    )
    runtime = compile_spec(
        spec,
        environ=ENV,
        state=make_backend("memory"),
        adapter_factory=lambda provider, environ: Answering(ProviderSettings(provider.name)),
    )
    return runtime.targets["small"].node


def test_a_compiled_stack_is_cache_breaker_limiter_adapter_top_down() -> None:
    kinds = [type(node) for node in walk(compiled_stack())]
    assert kinds == [CacheNode, BreakerNode, LimiterNode, AdapterNode]


def test_each_node_with_state_reports_it_and_the_others_report_nothing() -> None:
    reports = {type(node).__name__: node.health() for node in walk(compiled_stack())}
    assert reports["CacheNode"] == {} and reports["AdapterNode"] == {}
    assert reports["BreakerNode"]["breaker"]["state"] == "closed"  # type: ignore[index]
    assert reports["LimiterNode"] == {"limits": ["provider 'oai': 6000 requests/min"]}


def test_a_wrapper_forwards_every_call_it_does_not_act_on() -> None:
    node = Counting(compiled_stack())
    assert node.complete(request()).content == "hello"
    assert asyncio.run(node.acomplete(request())).content == "hello"
    assert "".join(c.delta for c in node.stream(request())) == "hello"

    async def read() -> str:
        return "".join([c.delta async for c in node.astream(request())])

    assert asyncio.run(read()) == "hello"


def test_the_graph_draws_a_stack_from_each_nodes_own_words() -> None:
    spec = load(LIMITED)
    top = Counting(compiled_stack())
    line = next(s for s in str(Graph(spec, {"small": top})).splitlines() if "small  " in s)
    assert line.endswith(
        "counting → cache(for default) → breaker(closed) → "
        "limiter(provider 'oai': 6000 requests/min) → adapter"
    )
