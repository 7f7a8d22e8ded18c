"""State shared through a real Redis: several routers (and processes) see one limit, one
breaker, one Retry-After, one cache; when Redis dies, the configured mode holds."""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import textwrap
import time
import warnings
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from state.helpers import PASSWORD, RedisServer
from structlog.testing import capture_logs

from router import AllModelsFailed, Router
from router.cli import run
from router.sandbox import Sandbox
from router.state import StateUnavailable
from router.state.resilient import DOWN_SERVING

from .helpers import PROVIDERS, SANDBOX_KEY, FakeTime, models_sent

SPEC = (
    PROVIDERS
    + """
models:
  a: {provider: oai, id: a, LIMITS}
  b: {provider: ant, id: b}
tasks:
  two: {candidates: [a], fallback: [b], cache: {enabled: true}, params: {temperature: 0}}
defaults:
  retry: {attempts: 1}
  breaker: {failures: 2, cooldown: 30}
state:
  backend: redis
  url_env: REDIS_URL
  on_unavailable: MODE
  connect_timeout: 1
"""
)


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


def write_spec(
    tmp_path: Path, sb: Sandbox, mode: str = "fail_open", *, limited: bool = False
) -> Path:
    text = (
        SPEC.replace("{openai}", sb.openai_base_url)
        .replace("{anthropic}", sb.anthropic_base_url)
        .replace("MODE", mode)
        .replace("LIMITS", "limits: {requests_per_minute: 60}" if limited else "quality: 1")
    )
    path = tmp_path / "routes.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def routers(
    redis_server: RedisServer, sb: Sandbox, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Router, Router]]:
    """Two routers (as two processes would be) on one Redis and one fake time; tests marked
    ``limited`` get a 60-per-minute limit on model 'a'."""
    redis_server.client().flushdb()
    path = write_spec(tmp_path, sb, limited=request.node.get_closest_marker("limited") is not None)
    time = FakeTime(start=0.0)
    env = {"SANDBOX_API_KEY": SANDBOX_KEY, "REDIS_URL": redis_server.url}
    made = [
        Router.from_yaml(path, environ=env, wall=lambda: 1e9 + time(), sleep=time.sleep)
        for _ in range(2)
    ]
    yield made[0], made[1]
    for router in made:
        router.close()


def test_an_opening_in_one_router_is_seen_by_the_other(
    routers: tuple[Router, Router], sb: Sandbox
) -> None:
    first, second = routers
    sb.set_fault("500", model="a")
    for _ in range(2):
        assert first.complete("two", prompt="x", cache=False).model == "b"
    sent = len(sb.requests)
    r = second.complete("two", prompt="x", cache=False)
    assert r.model == "b" and r.attempts[0].outcome == "skipped"
    assert "circuit open" in str(r.attempts[0].error)
    assert models_sent(sb)[sent:] == ["b"]


def test_a_retry_after_is_honoured_by_every_router(
    routers: tuple[Router, Router], sb: Sandbox
) -> None:
    first, second = routers
    sb.script("429,retry-after=20", times=1, model="a")
    assert first.complete("two", prompt="x", cache=False).model == "b"
    r = second.complete("two", prompt="y", cache=False)
    assert r.attempts[0].outcome == "skipped" and "Retry-After" in str(r.attempts[0].error)


def test_the_cache_is_shared(routers: tuple[Router, Router], sb: Sandbox) -> None:
    first, second = routers
    first.complete("two", prompt="Shared answer. Yes.")
    r = second.complete("two", prompt="Shared answer. Yes.")
    assert r.cached and len(sb.requests) == 1


@pytest.mark.limited
def test_the_limit_is_shared(routers: tuple[Router, Router], sb: Sandbox) -> None:
    first, second = routers
    assert first.complete("two", prompt="one", cache=False).model == "a"
    r = second.complete("two", prompt="two", cache=False)
    assert r.model == "b" and "client-side limit" in str(r.attempts[0].error)


@pytest.mark.limited
def test_a_thousand_concurrent_calls_one_process_none_lost(
    routers: tuple[Router, Router], sb: Sandbox
) -> None:
    first, _ = routers

    async def run() -> list[object]:
        calls = [first.acomplete("two", prompt=f"Call {i}.", cache=False) for i in range(1000)]
        return await asyncio.gather(*calls, return_exceptions=True)

    results = asyncio.run(run())
    assert all(not isinstance(r, BaseException) for r in results), [
        r for r in results if isinstance(r, BaseException)
    ][:3]
    to_a = models_sent(sb).count("a")
    assert 1 <= to_a <= 60
    assert models_sent(sb).count("b") == 1000 - to_a


WORKER = textwrap.dedent(
    """
    import asyncio, json, sys
    from router import Router
    path, redis_url = sys.argv[1], sys.argv[2]
    env = {"SANDBOX_API_KEY": "sk-test", "REDIS_URL": redis_url}
    router = Router.from_yaml(path, environ=env)

    async def main():
        calls = [router.acomplete("two", prompt=f"Call {i}.", cache=False) for i in range(250)]
        results = await asyncio.gather(*calls, return_exceptions=True)
        print(json.dumps([r.model if hasattr(r, "model") else repr(r) for r in results]))
        await router.aclose()

    asyncio.run(main())
    """
)


def test_four_processes_share_one_limit_and_lose_no_request(
    redis_server: RedisServer, sb: Sandbox, tmp_path: Path
) -> None:
    redis_server.client().flushdb()
    path = write_spec(tmp_path, sb, limited=True)
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(path), redis_server.url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    answers: list[str] = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        answers += json.loads(out.strip().splitlines()[-1])
    elapsed = time.monotonic() - started
    assert len(answers) == 1000
    assert set(answers) <= {"a", "b"}, [a for a in answers if a not in ("a", "b")][:3]
    # 60 per minute: at most a minute's worth for each minute (begun) the run took, whatever
    # the machine's load (the run takes seconds on a quiet one).
    assert 1 <= answers.count("a") <= 60 * (1 + int(elapsed // 60))
    assert models_sent(sb).count("a") == answers.count("a")


def test_redis_dying_mid_run_loses_no_request_when_failing_open(
    sb: Sandbox, tmp_path: Path
) -> None:
    server = RedisServer().start()
    try:
        path = write_spec(tmp_path, sb, "fail_open")
        env = {"SANDBOX_API_KEY": SANDBOX_KEY, "REDIS_URL": server.url}
        with Router.from_yaml(path, environ=env) as router:
            assert router.complete("two", prompt="before", cache=False).model in ("a", "b")
            server.stop()
            for i in range(5):
                assert router.complete("two", prompt=f"during {i}", cache=False).model in ("a", "b")
            assert router.health()["state"]["in_use"] != "primary"
    finally:
        server.stop()


def test_redis_dying_refuses_with_a_clear_error_when_failing_closed(
    sb: Sandbox, tmp_path: Path
) -> None:
    server = RedisServer().start()
    try:
        path = write_spec(tmp_path, sb, "fail_closed")
        env = {"SANDBOX_API_KEY": SANDBOX_KEY, "REDIS_URL": server.url}
        with Router.from_yaml(path, environ=env) as router:
            router.complete("two", prompt="before", cache=False)
            server.stop()
            with pytest.raises(StateUnavailable, match="unreachable"):
                router.complete("two", prompt="during", cache=False)
    finally:
        server.stop()


def test_a_redis_spec_without_its_url_variable_is_refused(sb: Sandbox, tmp_path: Path) -> None:
    path = write_spec(tmp_path, sb)
    with pytest.raises(Exception, match="REDIS_URL is not set"):
        Router.from_yaml(path, environ={"SANDBOX_API_KEY": SANDBOX_KEY})


def test_all_models_failed_is_still_raised_when_everything_fails(
    routers: tuple[Router, Router], sb: Sandbox
) -> None:
    first, _ = routers
    sb.set_fault("500")
    with pytest.raises(AllModelsFailed):
        first.complete("two", prompt="x", cache=False)


# -- health when Redis is dead ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "status", "exit_code"), [("fail_closed", "refusing", 1), ("fail_open", "degraded", 0)]
)
def test_health_reports_a_dead_redis_instead_of_raising(
    mode: str,
    status: str,
    exit_code: int,
    sb: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = RedisServer().start()
    try:
        path = write_spec(tmp_path, sb, mode, limited=True)
        env = {"SANDBOX_API_KEY": SANDBOX_KEY, "REDIS_URL": server.url}
        with Router.from_yaml(path, environ=env) as router:
            assert router.health()["state"]["status"] == "ok"
            router.complete("two", prompt="before", cache=False)  # connected, then it dies
            server.stop()
            health = router.health()
        # And from a new process's point of view: `router health` with Redis already dead.
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        out, err = StringIO(), StringIO()
        code = run(["health", "--config", str(path)], out, err)
        json_out = StringIO()
        run(["health", "--config", str(path), "--format", "json"], json_out, StringIO())
    finally:
        server.stop()
    state = health["state"]
    assert state["ok"] is False and state["status"] == status and state["mode"] == mode
    assert f"127.0.0.1:{server.port}" in state["detail"]
    assert state["in_use"] == (None if mode == "fail_closed" else "memory")
    # Holds: unknown when the backend refuses; those of this process when failing open.
    assert health["models"]["a"]["holds_known"] is (mode == "fail_open")
    assert health["models"]["a"]["limits"] == ["model 'a': 60 requests/min"]
    assert health["models"]["a"]["breaker"]["state"] == "closed"
    first_line = out.getvalue().splitlines()[0]
    assert code == exit_code, err.getvalue()
    assert first_line.startswith(f"state: redis ({status.upper()}: redis at 127.0.0.1:")
    assert json.loads(json_out.getvalue())["state"]["status"] == status
    for text in (repr(health), out.getvalue(), err.getvalue(), json_out.getvalue()):
        assert PASSWORD not in text


def test_health_probes_a_dead_redis_once_then_answers_without_waiting(
    sb: Sandbox, tmp_path: Path
) -> None:
    """The health check itself finds Redis dead; the holds are then read from the fallback
    (fail_open) without a second connection attempt per model."""
    server = RedisServer().start()
    path = write_spec(tmp_path, sb, "fail_open")
    env = {"SANDBOX_API_KEY": SANDBOX_KEY, "REDIS_URL": server.url}
    server.stop()
    with Router.from_yaml(path, environ=env) as router, capture_logs() as logs:
        health = router.health()
        again = router.health()
    assert health["state"]["status"] == again["state"]["status"] == "degraded"
    assert [e["event"] for e in logs] == [DOWN_SERVING]
    assert all(m["holds_known"] for m in health["models"].values())


# -- one Redis-backed Router, one event loop after another -------------------------------------
def test_a_redis_backed_router_serves_event_loops_in_turn_without_leaking_clients(
    redis_server: RedisServer, sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each loop's Redis and HTTP clients are closed before the loop closes: no "unclosed
    Connection" or "Unclosed client session" ResourceWarning, no error from asyncio."""
    redis_server.client().flushdb()
    unraisable: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: unraisable.append(u.exc_value))
    path = write_spec(tmp_path, sb, limited=True)
    env = {"SANDBOX_API_KEY": SANDBOX_KEY, "REDIS_URL": redis_server.url}

    async def main() -> list[str]:
        answers = [(await router.acomplete("two", prompt="Hi. Yes.", cache=False)).model]
        async for chunk in router.astream("two", prompt="Again. Yes.", cache=False):
            answers.append(chunk.model)
        return answers

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        router = Router.from_yaml(path, environ=env)
        runs = [asyncio.run(main()) for _ in range(3)]
        gc.collect()
        router.close()
        gc.collect()
    assert all(runs) and unraisable == []
    clients = [c for c in redis_server.client().client_list() if c.get("cmd") != "client|list"]
    assert clients == []


def test_health_of_a_router_on_a_bare_dead_redis_backend_does_not_raise(
    sb: Sandbox, tmp_path: Path
) -> None:
    """A backend passed in without a fallback policy: reported unreachable, holds unknown."""
    from router.spec import load_spec
    from router.state.redis import RedisBackend

    server = RedisServer().start()
    server.stop()
    env = {"SANDBOX_API_KEY": SANDBOX_KEY, "REDIS_URL": server.url}
    spec = load_spec(write_spec(tmp_path, sb), environ=env)
    with Router(spec, environ=env, state=RedisBackend(server.url, connect_timeout=1)) as router:
        health = router.health()
    assert health["state"]["ok"] is False and health["state"]["status"] == "unreachable"
    assert not any(m["holds_known"] for m in health["models"].values())
    assert PASSWORD not in repr(health)
