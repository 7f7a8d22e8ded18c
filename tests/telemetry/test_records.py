"""records_from: the engine's attempts, response or interruption turned into a record."""

from __future__ import annotations

import pytest

from router.errors import ProviderUnavailable, RateLimitError, StreamInterrupted
from router.telemetry import records_from, render_prompt
from router.types import Attempt, Message, Response, Usage


def _response(attempts: tuple[Attempt, ...], **kw: object) -> Response:
    values: dict[str, object] = {
        "content": "the answer",
        "finish_reason": "stop",
        "usage": Usage(100, 20, cached_input_tokens=40),
        "model": "big",
        "model_id": "big-2025",
        "provider": "ant",
        "cost": 0.0125,
        "latency_s": 3.0,
        "attempts": attempts,
    }
    values.update(kw)
    return Response(**values)  # type: ignore[arg-type]


def _error(model: str, provider: str = "oai") -> ProviderUnavailable:
    return ProviderUnavailable("upstream 503", provider=provider, model=model, status=503)


def test_success_after_a_retry_and_a_fallback() -> None:
    attempts = (
        Attempt("small", "oai", "error", _error("small"), 0.5),
        Attempt("small", "oai", "error", _error("small"), 0.25),
        Attempt("big", "ant", "ok", None, 2.0),
    )
    rec = records_from(
        attempts, task="summarize", response=_response(attempts), stream=True, now=1000.0
    )
    assert (rec.task, rec.requested_task, rec.outcome) == ("summarize", "summarize", "ok")
    assert (rec.model, rec.provider, rec.stream) == ("big", "ant", True)
    assert rec.latency_s == 3.0 and rec.ts == 997.0
    assert rec.fallbacks == 1
    assert [a.depth for a in rec.attempts] == [0, 0, 1]
    assert [a.outcome for a in rec.attempts] == ["error", "error", "ok"]
    first, _, ok = rec.attempts
    assert (first.error_kind, first.status, first.error) == ("unavailable", 503, "upstream 503")
    assert (first.cost, first.input_tokens) == (0.0, 0)
    assert (ok.input_tokens, ok.output_tokens, ok.cached_input_tokens) == (100, 20, 40)
    assert ok.cost == rec.cost == 0.0125
    assert [a.ts for a in rec.attempts] == [997.0, 997.5, 997.75]
    assert rec.prompt is None and rec.response is None


def test_unpriced_answer_leaves_the_request_unpriced() -> None:
    attempts = (Attempt("big", "ant", "ok", None, 1.0),)
    rec = records_from(attempts, task="t", response=_response(attempts, cost=None))
    assert rec.attempts[0].cost is None
    assert rec.cost is None


def test_cache_hit_is_marked_on_the_attempt_and_the_request() -> None:
    attempts = (Attempt("big", "ant", "ok", None, 0.01, cached=True),)
    rec = records_from(attempts, task="t", response=_response(attempts, cost=0.0, cached=True))
    assert rec.cache_hit and rec.attempts[0].cache_hit
    assert rec.cost == 0.0


def test_all_models_failed() -> None:
    limited = RateLimitError("limit reached", provider="oai", model="small", local=True)
    attempts = (
        Attempt("small", "oai", "skipped", limited, 0.0),
        Attempt("big", "ant", "error", _error("big", "ant"), 1.5),
    )
    rec = records_from(attempts, task="default", requested_task="nope", now=10.0)
    assert (rec.outcome, rec.model, rec.provider) == ("failed", None, None)
    assert (rec.task, rec.requested_task) == ("default", "nope")
    assert rec.latency_s == 1.5 and rec.ts == 8.5
    assert rec.fallbacks == 1
    assert [a.outcome for a in rec.attempts] == ["skipped", "error"]
    assert rec.attempts[0].error_kind == "rate_limit"
    assert rec.cost == 0.0


def test_no_model_could_serve() -> None:
    rec = records_from((), task="t", latency_s=0.001)
    assert rec.outcome == "failed" and rec.attempts == () and rec.fallbacks == 0


def test_interrupted_stream_charges_the_usage_seen_to_the_cut_attempt() -> None:
    attempts = (
        Attempt("small", "oai", "error", _error("small"), 0.5),
        Attempt("big", "ant", "error", _error("big", "ant"), 1.0),
    )
    cut = StreamInterrupted(
        "cut",
        partial_text="half an ans",
        usage=Usage(50, 7),
        model="big",
        provider="ant",
        attempts=attempts,
    )
    rec = records_from(
        cut.attempts,
        task="t",
        interrupted=cut,
        interrupted_cost=0.002,
        stream=True,
        latency_s=2.0,
        content=True,
        messages=[Message("user", "hi")],
    )
    assert (rec.outcome, rec.model, rec.provider) == ("interrupted", "big", "ant")
    last = rec.attempts[-1]
    assert (last.input_tokens, last.output_tokens, last.cost) == (50, 7, 0.002)
    assert rec.attempts[0].input_tokens == 0
    assert rec.cost == 0.002
    assert (rec.prompt, rec.response) == ("user: hi", "half an ans")


def test_interrupted_stream_without_a_price_is_unpriced() -> None:
    attempts = (Attempt("big", "ant", "error", _error("big", "ant"), 1.0),)
    cut = StreamInterrupted("cut", usage=Usage(5, 5), model="big", provider="ant")
    rec = records_from(attempts, task="t", interrupted=cut)
    assert rec.cost is None


def test_content_only_when_asked() -> None:
    attempts = (Attempt("big", "ant", "ok", None, 1.0),)
    msgs = [Message("system", "be brief"), Message("user", "hello")]
    off = records_from(attempts, task="t", response=_response(attempts), messages=msgs)
    on = records_from(attempts, task="t", response=_response(attempts), messages=msgs, content=True)
    assert (off.prompt, off.response) == (None, None)
    assert (on.prompt, on.response) == ("system: be brief\nuser: hello", "the answer")


def test_records_are_frozen() -> None:
    rec = records_from((), task="t")
    with pytest.raises(AttributeError):
        rec.task = "other"  # type: ignore[misc]


def test_render_prompt_leaves_images_out() -> None:
    msg = Message.from_dict(
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
            ],
        }
    )
    assert render_prompt([msg]) == "user: what is this?"
