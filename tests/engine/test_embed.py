"""Router.embed / aembed: embedding tasks through the real openai SDK against the sandbox,
with the same fallbacks, limits, cache, budgets and ledger as completions."""

from __future__ import annotations

import base64
import json
import math
from io import StringIO
from pathlib import Path

import pytest

from router import AllModelsFailed, Embeddings, ProviderConfigError, RequestError
from router.cli import run as cli_run
from router.engine.spend import BudgetExceeded
from router.sandbox import Sandbox
from router.sandbox.embeddings import vector

from .helpers import PROVIDERS, MakeRouter, run_async

SPEC = (
    PROVIDERS
    + """
models:
  emb-a: {provider: oai, id: emb-a, kind: embedding, dimensions: 64, pricing: {input: 0.02}}
  emb-b: {provider: oai, id: emb-b, kind: embedding, dimensions: 64, pricing: {input: 0.13}}
  limited:
    provider: oai
    id: emb-l
    kind: embedding
    dimensions: 64
    limits: {requests_per_minute: 1}
  chat: {provider: oai, id: chat-a, pricing: {input: 1, output: 2}}
tasks:
  vectors: {candidates: [emb-a], fallback: [emb-b], fallback_on: [unavailable, rate_limit]}
  limited: {candidates: [limited], fallback: [emb-b]}
  cached: {candidates: [emb-a], cache: {enabled: true, ttl: 600}}
  capped: {candidates: [emb-b], budget: {daily: 0.000002}}
  chat: {candidates: [chat]}
"""
)


def _log(attempts: object) -> list[tuple[str, str]]:
    return [(a.model, a.outcome) for a in attempts]  # type: ignore[attr-defined]


def _sent(sb: Sandbox) -> list[tuple[str, str | None]]:
    return [(r.path, r.model) for r in sb.requests]


def test_embed_returns_one_vector_per_input_with_usage_and_cost(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(SPEC)
    out = router.embed("vectors", ["the cat", "sat on the mat"])
    assert isinstance(out, Embeddings)
    assert out.vectors == (tuple(vector("the cat", 64)), tuple(vector("sat on the mat", 64)))
    assert out.dimensions == 64 and len(out) == 2
    assert (out.model, out.provider, out.model_id) == ("emb-a", "oai", "emb-a")
    assert out.usage.input_tokens > 0 and out.usage.output_tokens == 0
    assert out.cost == pytest.approx(out.usage.input_tokens * 0.02 / 1e6)
    assert _log(out.attempts) == [("emb-a", "ok")]
    [req] = sb.requests
    assert req.path == "/v1/embeddings"
    assert req.body == {
        "model": "emb-a",
        "input": ["the cat", "sat on the mat"],
        "encoding_format": "float",
    }
    # One string is one input; dimensions are sent when asked for.
    one = router.embed("vectors", "hello", dimensions=8)
    assert one.vectors == (tuple(vector("hello", 8)),)
    assert sb.requests[-1].body["dimensions"] == 8


def test_aembed_is_the_async_twin(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(SPEC)
    out = run_async(router, lambda r: r.aembed("vectors", ["a b c"]))
    assert out.vectors == (tuple(vector("a b c", 64)),) and out.model == "emb-a"


def test_a_failed_embedding_model_falls_back_to_one_of_the_same_dimensions(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(SPEC)
    sb.script("503", times=1, model="emb-a")
    out = router.embed("vectors", ["x"])
    assert out.model == "emb-b"
    assert _log(out.attempts) == [("emb-a", "error"), ("emb-b", "ok")]
    assert out.cost == pytest.approx(out.usage.input_tokens * 0.13 / 1e6)
    sb.set_fault("500")
    with pytest.raises(AllModelsFailed) as failed:
        router.embed("vectors", ["x"])
    assert [e.model for e in failed.value.exceptions] == ["emb-a", "emb-b"]  # type: ignore[attr-defined]


def test_a_reached_limit_sends_nothing_and_moves_on(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(SPEC)
    assert router.embed("limited", ["one"]).model == "limited"
    second = router.embed("limited", ["two"])
    assert _log(second.attempts) == [("limited", "skipped"), ("emb-b", "ok")]
    assert [m for _, m in _sent(sb)] == ["emb-l", "emb-b"]
    router.fake_time.sleep(60)  # type: ignore[attr-defined]
    assert router.embed("limited", ["three"]).model == "limited"


def test_the_cache_answers_the_same_input_and_only_it(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(SPEC)
    first = router.embed("cached", ["alpha", "beta"])
    again = router.embed("cached", ["alpha", "beta"])
    assert again.cached and not first.cached
    assert again.vectors == first.vectors and again.cost == 0.0
    assert len(sb.requests) == 1
    assert not router.embed("cached", ["beta", "alpha"]).cached  # order matters
    assert not router.embed("cached", ["alpha\nbeta"]).cached  # not the same texts
    assert not router.embed("cached", ["alpha", "beta"], dimensions=8).cached
    assert not router.embed("cached", ["alpha", "beta"], cache=False).cached
    assert len(sb.requests) == 5


def test_a_spent_budget_refuses_before_anything_is_sent(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(SPEC)
    text = "word " * 40  # ~50 tokens at $0.13/M: about $0.0000065, over the $0.000002 cap
    router.embed("capped", [text])
    sent = len(sb.requests)
    with pytest.raises(BudgetExceeded) as exc:
        router.embed("capped", [text])
    assert exc.value.scope == "task:capped"
    assert len(sb.requests) == sent


def test_embeddings_land_in_the_ledger_priced_by_input(
    make_router: MakeRouter, sb: Sandbox, tmp_path: Path
) -> None:
    ledger = tmp_path / "usage.sqlite"
    router = make_router(SPEC + f"telemetry: {{ledger: {{path: '{ledger}'}}}}\n")
    costs = sum(router.embed("vectors", [f"text {i}"]).cost or 0 for i in range(3))
    router.close()
    out, err = StringIO(), StringIO()
    assert cli_run(["report", "--ledger", str(ledger), "--format", "json"], out, err) == 0
    rows = json.loads(out.getvalue())["models"]
    assert [r["name"] for r in rows] == ["emb-a"]
    assert sum(r["cost"] for r in rows) == pytest.approx(costs)


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda r: r.embed("chat", ["x"]), "embed() needs a task whose candidates are embedding"),
        (lambda r: r.complete("vectors", prompt="x"), "call embed()/aembed() for it"),
        (lambda r: r.stream("vectors", prompt="x"), "call embed()/aembed() for it"),
        (lambda r: r.embed("vectors", []), "input: the list is empty"),
        (lambda r: r.embed("vectors", ["ok", 3]), "input[1]: expected a string"),
        (lambda r: r.embed("vectors", [""]), "input[0]: an empty string"),
        (lambda r: r.embed("vectors", "x", dimensions=0), "dimensions: expected a whole number"),
        (lambda r: r.embed("vectors", "x", temperature=0), "embed() does not take temperature"),
    ],
)
def test_a_wrong_call_is_a_request_error_before_anything_is_sent(
    make_router: MakeRouter, sb: Sandbox, call: object, needle: str
) -> None:
    router = make_router(SPEC)
    with pytest.raises(RequestError) as exc:
        call(router)  # type: ignore[operator]
    assert needle in str(exc.value)
    assert sb.requests == []


def test_an_anthropic_adapter_refuses_to_embed_with_a_typed_error(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    from router.providers.anthropic import AnthropicAdapter
    from router.providers.base import ProviderSettings
    from router.types import Message, Request

    adapter = AnthropicAdapter(
        ProviderSettings(name="ant", api_key="k", base_url=sb.anthropic_base_url)
    )
    request = Request("m", "m", "ant", (Message("user", "x"),), embed=("x",))
    with pytest.raises(ProviderConfigError, match="cannot embed: provider type anthropic"):
        adapter.complete(request)
    assert sb.requests == []


def test_a_base64_answer_is_decoded(sb: Sandbox) -> None:
    from router.providers._embed_wire import parse_embeddings
    from router.types import Message, Request

    floats = [0.5, -0.25]
    raw = base64.b64encode(b"".join(__import__("struct").pack("<f", f) for f in floats)).decode()
    request = Request("m", "m", "p", (Message("user", "x"),), embed=("x",))
    out = parse_embeddings({"data": [{"index": 0, "embedding": raw}]}, request, 0.0)
    assert out.vectors == ((0.5, -0.25),)
    assert math.isclose(sum(x * x for x in vector("x", 64)), 1.0, rel_tol=1e-4)
