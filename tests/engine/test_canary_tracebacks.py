"""The canary, through every error path: no key or password reaches anything the router raises
(its chain, args, notes, attributes, group members, attempts), its formatted traceback (for
request errors even with every frame's local variables, as error trackers record them), what
``logging.exception`` prints, or the logs, while the error still says what went wrong.

Real SDKs over real HTTP against the sandbox, which echoes the key in its 401s the way
api.openai.com does (masked: first 8 and last 4 characters) or, with ``echo-key``, whole, as
some gateways do; a real closed port for connection errors; a dead Redis with the password in
its URL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from state.helpers import free_port

from router import AllModelsFailed, ConfigError, ProviderError, Router, StreamInterrupted
from router.errors import AuthenticationError, ProviderTimeout, ProviderUnavailable
from router.sandbox import Sandbox
from router.state import StateUnavailable

from .canary import Canary, leaks, strings_in

OPENAI_KEY = "sk-proj-Tq8Zr3Wn6Mv1Xk4Pb9Lc2Hd7Fj5Gs0Ay"
ANTHROPIC_KEY = "sk-ant-api03-Qz7Wm2Xk9Lp4Rt8Yv3Bn6Hc1Jd5Fg0"
REDIS_PASSWORD = "Rp4Xw9Kz2Qm7Vn3Ts8"
CANARY = Canary([OPENAI_KEY, ANTHROPIC_KEY, REDIS_PASSWORD])
PROMPT = "Tell me something. Please."

SPEC = """
version: 1
providers:
  oai: {type: openai, base_url: "OPENAI", api_key_env: OAI_KEY, local: true}
  ant: {type: anthropic, base_url: "ANTHROPIC", api_key_env: ANT_KEY, local: true}
  closed: {type: openai, base_url: "http://127.0.0.1:PORT/v1", api_key_env: OAI_KEY, local: true}
models:
  a: {provider: oai, id: a}
  b: {provider: ant, id: b}
  gone: {provider: closed, id: gone}
tasks:
  one: {candidates: [a]}
  one-b: {candidates: [b]}
  both:
    candidates: [a]
    fallback: [b]
    fallback_on: [authentication, unavailable, timeout, rate_limit, model_error]
  hedged: {candidates: [a], fallback: [b], hedge: {after: 0.001, max_share: 1}}
  unreachable: {candidates: [gone]}
defaults:
  retry: {attempts: 1}
"""


def _spec(sb: Sandbox, extra: str = "") -> str:
    return (
        SPEC.replace("OPENAI", sb.openai_base_url)
        .replace("ANTHROPIC", sb.anthropic_base_url)
        .replace("PORT", str(free_port()))
    ) + extra


ENV = {"OAI_KEY": OPENAI_KEY, "ANT_KEY": ANTHROPIC_KEY}


@pytest.fixture
def router(sb: Sandbox, tmp_path: Path) -> Iterator[Router]:
    path = tmp_path / "routes.yaml"
    path.write_text(_spec(sb))
    made = Router.from_yaml(path, environ=ENV)
    yield made
    made.close()


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every record of every logger, the router's included, at every level."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="router")
    return caplog


# --- the drivers: each runs a call and returns what it raised --------------------------------

Driver = Callable[[Router, str, dict[str, Any]], None]


def _sync(router: Router, task: str, kw: dict[str, Any]) -> None:
    router.complete(task, prompt=PROMPT, **kw)


def _async(router: Router, task: str, kw: dict[str, Any]) -> None:
    asyncio.run(router.acomplete(task, prompt=PROMPT, **kw))


def _stream(router: Router, task: str, kw: dict[str, Any]) -> None:
    list(router.stream(task, prompt=PROMPT, **kw))


def _astream(router: Router, task: str, kw: dict[str, Any]) -> None:
    async def drain() -> None:
        async for _ in router.astream(task, prompt=PROMPT, **kw):
            pass

    asyncio.run(drain())


DRIVERS: dict[str, Driver] = {
    "sync": _sync,
    "async": _async,
    "stream": _stream,
    "astream": _astream,
}


def _raised(driver: Driver, router: Router, task: str, **kw: Any) -> BaseException:
    try:
        driver(router, task, kw)
    except Exception as exc:
        return exc
    raise AssertionError(f"{task}: nothing was raised")


def _attempt_errors(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, AllModelsFailed):
        return list(exc.exceptions)
    if isinstance(exc, StreamInterrupted):
        return [a.error for a in exc.attempts if a.error is not None]
    return [exc]


# --- the detector works ----------------------------------------------------------------------


def test_the_detector_finds_the_key_in_an_sdk_exception_s_request(sb: Sandbox) -> None:
    """What the adapters used to chain: the SDK's exception holds the request, whose headers
    carry the key. The walker finds it there, and in a masked echo of it."""
    client = openai.OpenAI(base_url=sb.openai_base_url, api_key=OPENAI_KEY, max_retries=0)
    sb.set_fault("401")
    try:
        client.chat.completions.create(model="a", messages=[{"role": "user", "content": "x"}])
    except openai.AuthenticationError as exc:
        sdk_error = exc
    finally:
        client.close()
    try:
        raise RuntimeError("wrapped") from sdk_error
    except RuntimeError as exc:
        wrapped = exc
    assert OPENAI_KEY[:8] in str(sdk_error)  # the masked echo: first 8 characters
    assert "object graph" in leaks(CANARY, wrapped)
    assert any(OPENAI_KEY in s for s in strings_in(wrapped))  # the Authorization header


# --- every provider error path ---------------------------------------------------------------

# (case, faults by model, task, driver, what is raised, what its attempts are)
CASES: list[tuple[str, dict[str, str], str, str, type[BaseException], type[ProviderError]]] = [
    ("401-openai-masked", {"a": "401"}, "one", "sync", AllModelsFailed, AuthenticationError),
    (
        "401-openai-echoed",
        {"a": "401,echo-key"},
        "one",
        "sync",
        AllModelsFailed,
        AuthenticationError,
    ),
    (
        "401-anthropic-echoed",
        {"b": "401,echo-key"},
        "one-b",
        "async",
        AllModelsFailed,
        AuthenticationError,
    ),
    ("401-stream", {"a": "401,echo-key"}, "one", "stream", AllModelsFailed, AuthenticationError),
    (
        "401-astream",
        {"b": "401,echo-key"},
        "one-b",
        "astream",
        AllModelsFailed,
        AuthenticationError,
    ),
    (
        "403-openai-echoed",
        {"a": "403,echo-key"},
        "one",
        "async",
        AllModelsFailed,
        AuthenticationError,
    ),
    (
        "fallback-then-all-failed",
        {"a": "401,echo-key", "b": "403,echo-key"},
        "both",
        "sync",
        AllModelsFailed,
        AuthenticationError,
    ),
    (
        "async-fallback-then-all-failed",
        {"a": "401,echo-key", "b": "401,echo-key"},
        "both",
        "async",
        AllModelsFailed,
        AuthenticationError,
    ),
    (
        "stream-fallback-then-all-failed",
        {"a": "401,echo-key", "b": "401,echo-key"},
        "both",
        "astream",
        AllModelsFailed,
        AuthenticationError,
    ),
    (
        "hedged-all-failed",
        {"a": "401,echo-key,delay=20", "b": "401,echo-key"},
        "hedged",
        "async",
        AllModelsFailed,
        AuthenticationError,
    ),
    ("stream-cut", {"a": "cut=2"}, "one", "stream", StreamInterrupted, ProviderUnavailable),
    (
        "astream-error-event",
        {"b": "stream-error=2,401"},
        "one-b",
        "astream",
        StreamInterrupted,
        AuthenticationError,
    ),
    ("timeout", {"a": "delay=3000"}, "one", "sync", AllModelsFailed, ProviderTimeout),
    ("async-timeout", {"b": "delay=3000"}, "one-b", "async", AllModelsFailed, ProviderTimeout),
    ("stream-timeout", {"a": "delay=3000"}, "one", "stream", AllModelsFailed, ProviderTimeout),
    ("connection-refused", {}, "unreachable", "sync", AllModelsFailed, ProviderUnavailable),
    (
        "async-connection-refused",
        {},
        "unreachable",
        "astream",
        AllModelsFailed,
        ProviderUnavailable,
    ),
    ("connection-reset", {"a": "reset"}, "one", "async", AllModelsFailed, ProviderUnavailable),
    ("html-error-page", {"b": "html,502"}, "one-b", "sync", AllModelsFailed, ProviderUnavailable),
]


@pytest.mark.parametrize(
    ("faults", "task", "driver", "raised", "attempt"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_no_error_path_carries_a_key(
    router: Router,
    sb: Sandbox,
    logs: pytest.LogCaptureFixture,
    faults: dict[str, str],
    task: str,
    driver: str,
    raised: type[BaseException],
    attempt: type[ProviderError],
) -> None:
    for model, fault in faults.items():
        sb.set_fault(fault, model=model)
    timeout = {"timeout": 0.3} if "timeout" in str(faults) or "delay=3000" in str(faults) else {}
    exc = _raised(DRIVERS[driver], router, task, **timeout)
    assert type(exc) is raised, exc
    errors = _attempt_errors(exc)
    assert errors and all(type(e) is attempt for e in errors), errors
    assert leaks(CANARY, exc, logs.text) == {}
    for error in errors:
        # Nothing from the SDK or HTTP stack rides along: no cause, no context.
        assert error.__cause__ is None and error.__context__ is None, repr(error.__cause__)
        assert isinstance(error, ProviderError) and error.provider and error.model
    if attempt is AuthenticationError and "stream-error" not in str(faults):
        first = errors[0]
        assert isinstance(first, ProviderError) and first.status in (401, 403)
        # ... and yet the error still says what happened, to whom, and how to follow it up.
        assert first.request_id and first.error_type and first.request_id in str(exc)
        assert "authentication failed" in str(first) and f"HTTP {first.status}" in str(first)
    if "echo-key" in str(faults) or faults == {"a": "401"}:
        assert "***" in str(errors[0])  # the provider's words, the key taken out


# --- Redis down, with the password in its URL --------------------------------------------------


def _redis_router(sb: Sandbox, tmp_path: Path, mode: str) -> Router:
    url = f"redis://:{REDIS_PASSWORD}@127.0.0.1:{free_port()}/0"  # nobody listens there
    state = f"state: {{backend: redis, url_env: REDIS_URL, on_unavailable: {mode}}}\n"
    spec = _spec(sb, state).replace(
        "  one: {candidates: [a]}", "  one: {candidates: [a], cache: {enabled: true}}"
    )
    path = tmp_path / f"routes-{mode}.yaml"
    path.write_text(spec)
    return Router.from_yaml(path, environ={**ENV, "REDIS_URL": url})


@pytest.mark.parametrize("driver", list(DRIVERS))
def test_a_dead_redis_failing_closed_refuses_without_its_password(
    sb: Sandbox, tmp_path: Path, logs: pytest.LogCaptureFixture, driver: str
) -> None:
    with _redis_router(sb, tmp_path, "fail_closed") as router:
        exc = _raised(DRIVERS[driver], router, "one")
        health = router.health()
    assert isinstance(exc, StateUnavailable), exc
    assert "127.0.0.1" in str(exc) and "unreachable" in str(exc)
    assert exc.__cause__ is None and exc.__context__ is None
    assert health["state"]["status"] == "refusing"
    assert leaks(CANARY, exc, logs.text, repr(health)) == {}


def test_a_dead_redis_failing_open_serves_and_logs_without_its_password(
    sb: Sandbox, tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    with _redis_router(sb, tmp_path, "fail_open") as router:
        assert router.complete("one", prompt=PROMPT).content
        sb.set_fault("401,echo-key", model="a")
        exc = _raised(_async, router, "one", cache=False)
        health = repr(router.health())
    assert "unreachable" in logs.text  # the outage was logged...
    assert leaks(CANARY, exc, logs.text, health) == {}  # ...without the password


# --- errors raised while building a Router -----------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"http://:{REDIS_PASSWORD}@127.0.0.1:6390/0",  # not a Redis URL
        f"redis://user:{REDIS_PASSWORD}/0",  # the password where the port goes
        f"redis://:{REDIS_PASSWORD}@[::1/0",  # unparseable
    ],
    ids=["scheme", "port", "brackets"],
)
def test_a_bad_redis_url_is_refused_without_its_password(
    sb: Sandbox, tmp_path: Path, logs: pytest.LogCaptureFixture, url: str
) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text(_spec(sb, "state: {backend: redis, url_env: REDIS_URL}\n"))
    with pytest.raises(ConfigError) as caught:
        Router.from_yaml(path, environ={**ENV, "REDIS_URL": url})
    assert "state" in str(caught.value)
    # Frame locals not included: Router.from_yaml's own frame holds the environ it was given.
    assert leaks(CANARY, caught.value, logs.text, frame_locals=False) == {}


def test_a_spec_with_a_literal_key_is_refused_without_the_key(
    sb: Sandbox, tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    literal = f'headers: {{Authorization: "Bearer {ANTHROPIC_KEY}"}}'
    spec = _spec(sb).replace(
        "api_key_env: ANT_KEY, local: true}", f"api_key_env: ANT_KEY, local: true, {literal}}}"
    )
    path = tmp_path / "routes.yaml"
    path.write_text(spec)
    with pytest.raises(ConfigError) as caught:
        Router.from_yaml(path, environ=ENV)
    assert "Authorization" in str(caught.value)
    # Frame locals not included: Router.from_yaml's own frame holds the environ it was given.
    assert leaks(CANARY, caught.value, logs.text, frame_locals=False) == {}


def test_the_logs_guard_the_redis_password_not_its_host(sb: Sandbox, tmp_path: Path) -> None:
    """The Redis URL's password is a secret; its host and port are not (guarding the whole
    URL would redact every log line that names 127.0.0.1)."""
    with _redis_router(sb, tmp_path, "fail_open") as router:
        redactor = router.telemetry.log.redactor
    assert redactor.leaks(f"AUTH {REDIS_PASSWORD}") and redactor.leaks(OPENAI_KEY[-10:])
    assert not redactor.leaks(f"connection refused: {sb.openai_base_url} and redis at 127.0.0.1")
