"""``Router(spec, carry_from=old)``: what a Router replacing another keeps (the state backend
when the state section is unchanged, the breakers of unchanged models), and that the old one
then leaves the shared backend open. Real SDKs over HTTP to the sandbox."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from router.engine.router import Router
from router.errors import AllModelsFailed, ProviderUnavailable, RateLimitError
from router.sandbox import Sandbox
from router.spec import load_spec
from router.specmodel import Spec, StateSpec

from .helpers import PROVIDERS, SANDBOX_KEY

SPEC = (
    PROVIDERS
    + """\
models:
  gpt:
    provider: oai
    id: sandbox-gpt
    breaker: {failures: 2, cooldown: 600}
  mini:
    provider: oai
    id: sandbox-gpt-mini
    breaker: {failures: 2, cooldown: 600}
    limits: {requests_per_minute: 1}
defaults:
  retry: {attempts: 1}
  timeouts: {total: 5}
tasks:
  chat: {candidates: [gpt]}
  small: {candidates: [mini]}
"""
)
ENV = {"SANDBOX_API_KEY": SANDBOX_KEY}


@pytest.fixture
def spec(sb: Sandbox, tmp_path: Path) -> Spec:
    path = tmp_path / "routes.yaml"
    path.write_text(
        SPEC.replace("{openai}", sb.openai_base_url).replace("{anthropic}", sb.anthropic_base_url)
    )
    return load_spec(path, environ=ENV)


def _fail_once(router: Router, sb: Sandbox, task: str, model_id: str) -> None:
    sb.script("503", times=1, model=model_id)
    with pytest.raises(AllModelsFailed):
        router.complete(task, prompt="Hello there.")


def test_state_and_unchanged_breakers_carry_over_changed_ones_start_afresh(
    spec: Spec, sb: Sandbox
) -> None:
    old = Router(spec, environ=ENV)
    _fail_once(old, sb, "chat", "sandbox-gpt")  # one failure of two, on each model
    old.complete("small", prompt="Hello there.")  # the minute's one request for mini
    # The new spec changes mini (its breaker policy) and keeps gpt as it was.
    mini = spec.models["mini"]
    policy = dataclasses.replace(mini.breaker, failures=3)
    changed = dataclasses.replace(
        spec,
        models={**spec.models, "mini": dataclasses.replace(mini, breaker=policy)},
    )
    new = Router(changed, environ=ENV, carry_from=old)
    try:
        assert new.state is old.state
        rt_new, rt_old = new._rt, old._rt
        assert rt_new.breakers["gpt"] is rt_old.breakers["gpt"]
        assert rt_new.breakers["mini"] is not rt_old.breakers["mini"]
        # gpt's count carried: its second failure opens the circuit.
        _fail_once(new, sb, "chat", "sandbox-gpt")
        sent = len(sb.requests)
        with pytest.raises(AllModelsFailed) as refused:
            new.complete("chat", prompt="Hello there.")
        assert len(sb.requests) == sent
        (error,) = refused.value.exceptions
        assert isinstance(error, ProviderUnavailable) and error.circuit_open
        # mini's rate limit lives in the shared state: still no room this minute.
        with pytest.raises(AllModelsFailed) as limited:
            new.complete("small", prompt="Hello there.")
        assert isinstance(limited.value.exceptions[0], RateLimitError)
        assert len(sb.requests) == sent
        # The old Router handed its backend over: closing it leaves the state in place.
        old.close()
        with pytest.raises(AllModelsFailed):
            new.complete("small", prompt="Hello there.")
        assert len(sb.requests) == sent
    finally:
        old.close()
        new.close()


def test_a_changed_state_section_gets_its_own_backend(spec: Spec, sb: Sandbox) -> None:
    old = Router(spec, environ=ENV)
    moved = dataclasses.replace(spec, state=StateSpec(key_prefix="other:"))
    new = Router(moved, environ=ENV, carry_from=old)
    try:
        assert new.state is not old.state
        old.close()  # closes its own backend; the new one is untouched
        assert new.complete("chat", prompt="Hello there.").content
    finally:
        new.close()
