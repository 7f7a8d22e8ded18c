"""Deployments through the real SDKs against the sandbox: one model served at several
endpoints (each deployment's base URL carries a sandbox fault prefix, so the sandbox tells
which deployment every request reached), its load spread, holds and breakers per deployment."""

from __future__ import annotations

import asyncio
from collections import Counter

from router import Router
from router.sandbox import Sandbox

from .helpers import PROVIDERS, MakeRouter

# Every deployment's base URL is the sandbox's under /fault/SPEC: a no-op spec (delay=0, 1...)
# names the deployment in the recorded request; a real one (500, 429...) is that deployment's
# fault.


def at(sb: Sandbox, spec: str, wire: str = "openai") -> str:
    return sb.fault_url(spec) + ("/v1" if wire == "openai" else "")


def reached(sb: Sandbox) -> Counter[str]:
    """Completion requests per fault prefix (per deployment)."""
    return Counter(r.raw_path.split("/")[2] for r in sb.requests)


def mixed(sb: Sandbox, faulty: str = "500") -> str:
    return (
        PROVIDERS
        + f"""
models:
  chat:
    id: sandbox-gpt
    deployments:
      - {{name: east, provider: oai, base_url: "{at(sb, "delay=0")}"}}
      - {{name: west, provider: oai, base_url: "{at(sb, faulty)}"}}
      - name: claude
        provider: ant
        id: sandbox-claude
        base_url: "{at(sb, "delay=1", "anthropic")}"
tasks:
  default: {{candidates: [chat]}}
"""
    )


def test_two_openai_and_one_anthropic_deployment_with_faults_on_one_lose_no_request(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(mixed(sb), seed=11)

    async def many() -> list[str | None]:
        answers = await asyncio.gather(*(router.acomplete("chat", prompt="hi") for _ in range(40)))
        return [r.deployment for r in answers]

    served = [router.complete("chat", prompt="hi").deployment for _ in range(20)]
    served += asyncio.run(many())

    assert len(served) == 60 and set(served) <= {"east", "claude"}
    assert {"east", "claude"} <= set(served)  # both healthy ones took a share
    # The failing deployment's breaker opened after its 5 failures in a row; the others are
    # closed, and the model as a whole never stopped answering.
    assert reached(sb)["500"] == 5
    health = router.health()["models"]["chat"]["deployments"]
    assert health["west"]["breaker"]["state"] == "open"
    assert health["east"]["breaker"]["state"] == "closed"
    assert health["claude"]["breaker"]["state"] == "closed"


def test_attempts_name_the_deployment_and_never_a_key(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(mixed(sb), seed=3, OTHER_KEY="sk-other-canary-123")
    for _ in range(12):
        response = router.complete("chat", prompt="hi")
        for a in response.attempts:
            assert a.model == "chat" and a.deployment in ("east", "west", "claude")
            assert "sk-" not in repr(a)
        if response.attempts[0].deployment == "west":
            assert response.attempts[0].error is not None
            assert response.attempts[1].deployment != "west"


KEY_POOL = """
models:
  chat:
    provider: oai
    id: sandbox-gpt
    deployments:
      - {{name: k1, base_url: "{k1}", api_key_env: KEY_1, weight: 100}}
      - {{name: k2, base_url: "{k2}", api_key_env: KEY_2}}
      - {{name: k3, base_url: "{k3}", api_key_env: KEY_3}}
  backup: {{provider: ant, id: sandbox-claude}}
tasks:
  default: {{candidates: [chat], fallback: [backup]}}
"""


def test_a_429_with_retry_after_on_one_key_holds_that_key_and_moves_to_the_others(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    spec = PROVIDERS + KEY_POOL.format(
        k1=at(sb, "429,retry-after=30"), k2=at(sb, "delay=2"), k3=at(sb, "delay=3")
    )
    keys = {"KEY_1": "sk-test", "KEY_2": "sk-test", "KEY_3": "sk-test"}
    router = make_router(spec, seed=5, **keys)

    first = router.complete("chat", prompt="hi")
    assert next(a.deployment for a in first.attempts) == "k1"
    assert first.attempts[0].error is not None and first.attempts[0].error.kind == "rate_limit"
    assert first.model == "chat" and first.deployment in ("k2", "k3")  # the same model

    during = [router.complete("chat", prompt="hi") for _ in range(30)]
    assert all(len(r.attempts) == 1 and r.deployment in ("k2", "k3") for r in during)
    assert reached(sb)["429,retry-after=30"] == 1  # nothing went to the held key
    assert not any(r.model == "backup" for r in [first, *during])

    router.fake_time.sleep(31)  # type: ignore[attr-defined]
    after = router.complete("chat", prompt="hi")
    assert after.attempts[0].deployment == "k1"  # back in the draw (weight 100) once free
    assert reached(sb)["429,retry-after=30"] == 2


def test_every_key_held_moves_the_chain_to_the_next_model(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    spec = PROVIDERS + KEY_POOL.format(
        k1=at(sb, "429,retry-after=30"),
        k2=at(sb, "429,retry-after=20"),
        k3=at(sb, "429,retry-after=10"),
    )
    router = make_router(spec, seed=1, KEY_1="sk-test", KEY_2="sk-test", KEY_3="sk-test")
    response = router.complete("chat", prompt="hi")
    assert [a.deployment for a in response.attempts[:3]] and response.model == "backup"
    assert Counter(a.model for a in response.attempts) == {"chat": 3, "backup": 1}
    # Held, not called again: the next request goes straight to the next model.
    again = router.complete("chat", prompt="hi")
    assert again.model == "backup"
    assert sum(n for p, n in reached(sb).items() if p.startswith("429")) == 3


def test_a_breaker_opens_per_deployment_not_per_model(make_router: MakeRouter, sb: Sandbox) -> None:
    spec = (
        PROVIDERS
        + f"""
models:
  chat:
    provider: oai
    id: sandbox-gpt
    breaker: {{failures: 2, cooldown: 60}}
    base_urls: ["{at(sb, "503")}", "{at(sb, "delay=0")}"]
tasks:
  default: {{candidates: [chat]}}
"""
    )
    router = make_router(spec, seed=2)
    for _ in range(20):
        assert router.complete("chat", prompt="hi").deployment == "oai-2"
    assert reached(sb)["503"] == 2  # opened after two failures; skipped from then on
    states = {
        name: d["breaker"]["state"]
        for name, d in router.health()["models"]["chat"]["deployments"].items()
    }
    assert states == {"oai-1": "open", "oai-2": "closed"}


def test_least_busy_spreads_64_concurrent_slow_calls_evenly(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    urls = ", ".join(f'"{at(sb, f"delay={ms}")}"' for ms in (400, 401, 402, 403))
    spec = (
        PROVIDERS
        + f"""
models:
  chat: {{provider: oai, id: sandbox-gpt, balance: least_busy, base_urls: [{urls}]}}
tasks:
  default: {{candidates: [chat]}}
"""
    )
    router: Router = make_router(spec, seed=9)

    async def burst() -> list[str | None]:
        answers = await asyncio.gather(*(router.acomplete("chat", prompt="hi") for _ in range(64)))
        return [r.deployment for r in answers]

    served = Counter(asyncio.run(burst()))
    # Each call picks while every earlier one is still in flight (the sandbox holds each
    # answer 0.4 s; a call counts as in flight from the moment it is chosen, before any I/O).
    assert served == {"oai-1": 16, "oai-2": 16, "oai-3": 16, "oai-4": 16}


# --- sticky sessions --------------------------------------------------------------------------


def sticky_spec(sb: Sandbox) -> str:
    urls = ", ".join(f'"{at(sb, f"delay={n}")}"' for n in range(4))
    return (
        PROVIDERS
        + f"""
models:
  chat: {{provider: oai, id: sandbox-gpt, base_urls: [{urls}]}}
tasks:
  default: {{candidates: [chat]}}
"""
    )


def test_a_session_stays_on_its_deployment_while_it_is_healthy(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(sticky_spec(sb), seed=4)
    alone = {router.complete("chat", prompt="hi").deployment for _ in range(20)}
    assert len(alone) > 1  # without a session the requests spread
    first = router.complete("chat", prompt="hi", session="conv-1").deployment
    again = [router.complete("chat", prompt="hi", session="conv-1").deployment for _ in range(20)]
    assert set(again) == {first}
    other = {router.complete("chat", prompt="hi", session=f"c{i}").deployment for i in range(20)}
    assert len(other) > 1  # each session is bound on its own


def test_a_session_moves_when_its_deployment_fails_and_returns_only_when_asked(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    spec = (
        PROVIDERS
        + """
models:
  chat:
    provider: oai
    id: sandbox-gpt
    deployments:
      - {name: home, weight: 100, id: sandbox-home}
      - {name: away, id: sandbox-away}
tasks:
  default: {candidates: [chat]}
"""
    )
    router = make_router(spec, seed=1)
    assert router.complete("chat", prompt="hi", session="s").deployment == "home"
    sb.set_fault("429,retry-after=10", model="sandbox-home")  # "come back in 10 s"
    moved = router.complete("chat", prompt="hi", session="s")
    assert [a.deployment for a in moved.attempts] == ["home", "away"] and moved.deployment == "away"
    sb.set_fault(None, model="sandbox-home")
    router.fake_time.sleep(11)  # type: ignore[attr-defined]  # home's hold is over
    stayed = [router.complete("chat", prompt="hi", session="s").deployment for _ in range(5)]
    assert stayed == ["away"] * 5  # healthy again, but the session does not move back by itself
    assert router.complete("chat", prompt="hi").deployment == "home"  # others do go there
    assert router.forget_session("s") is True
    assert router.complete("chat", prompt="hi", session="s").deployment == "home"
    assert router.forget_session("never-seen") is False


def test_a_session_argument_is_checked(make_router: MakeRouter, sb: Sandbox) -> None:
    import pytest

    from router import RequestError

    router = make_router(sticky_spec(sb))
    with pytest.raises(RequestError) as caught:
        router.complete("chat", prompt="hi", session="")
    assert caught.value.argument == "session"


def test_headroom_sends_to_the_deployment_with_the_most_rate_limit_capacity_left(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    spec = (
        PROVIDERS
        + f"""
models:
  chat:
    provider: oai
    id: sandbox-gpt
    balance: headroom
    deployments:
      - {{name: big, base_url: "{at(sb, "delay=0")}", limits: {{tokens_per_minute: 60000}}}}
      - {{name: small, base_url: "{at(sb, "delay=1")}", limits: {{tokens_per_minute: 20000}}}}
tasks:
  default: {{candidates: [chat], params: {{max_tokens: 1000}}}}
"""
    )
    router = make_router(spec, seed=6)
    served = Counter(router.complete("chat", prompt="hi").deployment for _ in range(24))
    # Each call books its estimate (prompt + 1000 tokens of output), then gives back what it
    # did not use: the three-times-larger quota keeps the larger share of its minute free, so
    # it takes the calls until its bookings add up to more than the small one's single one.
    assert served["big"] > 3 * served["small"] > 0
    load = router.health()["models"]["chat"]["deployments"]
    assert 0 < load["small"]["load"]["headroom"] < 1 and 0 < load["big"]["load"]["headroom"] < 1


def test_a_deployment_at_its_own_limit_is_skipped_until_its_next_slot(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    spec = (
        PROVIDERS
        + f"""
models:
  chat:
    provider: oai
    id: sandbox-gpt
    deployments:
      - name: capped
        base_url: "{at(sb, "delay=0")}"
        limits: {{requests_per_minute: 2}}
      - {{name: open, weight: 0, base_url: "{at(sb, "delay=1")}"}}  # a standby
tasks:
  default: {{candidates: [chat]}}
"""
    )
    router = make_router(spec, seed=3)
    served = [router.complete("chat", prompt="hi") for _ in range(10)]
    # 2 a minute: one now, the next in 30 s. The second request is refused by capped's own
    # limit (nothing sent) and taken by open; from then on capped is not chosen until its
    # next slot, when it is again.
    assert served[0].deployment == "capped"
    assert [(a.deployment, a.outcome) for a in served[1].attempts] == [
        ("capped", "skipped"),
        ("open", "ok"),
    ]
    assert all(len(r.attempts) == 1 and r.deployment == "open" for r in served[2:])
    assert reached(sb)["delay=0"] == 1
    router.fake_time.sleep(30)  # type: ignore[attr-defined]
    assert router.complete("chat", prompt="hi").deployment == "capped"


def test_a_hedge_goes_to_the_models_next_deployment_and_the_winner_is_kept(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    spec = (
        PROVIDERS
        + f"""
models:
  chat:
    provider: oai
    id: sandbox-gpt
    deployments:
      - {{name: slow, base_url: "{at(sb, "delay=1000")}"}}
      - {{name: fast, weight: 0, base_url: "{at(sb, "delay=0")}"}}
tasks:
  default: {{candidates: [chat], hedge: {{after: 0.05, max_share: 1.0}}}}
"""
    )
    router = make_router(spec, seed=1)
    response = asyncio.run(router.acomplete("chat", prompt="hi"))
    assert response.deployment == "fast"
    assert sorted((a.deployment, a.outcome) for a in response.attempts) == [
        ("fast", "ok"),
        ("slow", "cancelled"),
    ]


def test_a_stream_fails_over_between_deployments_before_its_first_chunk(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(mixed(sb, faulty="503"), seed=5)
    for _ in range(12):
        stream = router.stream("chat", prompt="hi")
        text = "".join(chunk.delta for chunk in stream)
        assert text and stream.response is not None
        assert stream.response.deployment in ("east", "claude")
