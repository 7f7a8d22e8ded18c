"""The package surface: exports, make_backend, the error, and the bare GCRA arithmetic."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

import router.state
from router.errors import ConfigError, RouterError
from router.state import (
    MemoryBackend,
    RedisBackend,
    ResilientBackend,
    StateBackend,
    StateUnavailable,
    make_backend,
)
from router.state.gcra import adjusted, gcra

from .helpers import PASSWORD


def test_all_is_sorted_and_importable() -> None:
    assert router.state.__all__ == sorted(router.state.__all__)
    for name in router.state.__all__:
        assert getattr(router.state, name) is not None


def test_redis_is_imported_only_when_asked_for() -> None:
    code = "import sys, router.state; print('redis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_make_backend_memory() -> None:
    assert isinstance(make_backend("memory"), MemoryBackend)


def test_make_backend_redis_is_resilient_and_lazy() -> None:
    url = f"redis://:{PASSWORD}@127.0.0.1:1/0"  # nothing listens; nothing connects yet
    backend = make_backend("redis", url=url, key_prefix="x:", on_unavailable="fail_closed")
    assert isinstance(backend, ResilientBackend)
    assert isinstance(backend.primary, RedisBackend)
    assert backend.mode == "fail_closed"
    assert backend.name == "redis"
    assert backend.primary.key_prefix == "x:"
    assert PASSWORD not in repr(backend)


@pytest.mark.parametrize(
    ("kind", "url", "words"),
    [
        ("memcached", None, "state.backend must be 'memory' or 'redis'"),
        ("redis", None, "state.url is required"),
        ("redis", f"http://:{PASSWORD}@host/", "redis://"),
        ("redis", "redis://host/", "state.on_unavailable must be"),
    ],
)
def test_make_backend_refuses_a_bad_state_section(kind: str, url: str | None, words: str) -> None:
    mode = "fail_open" if "on_unavailable" not in words else "fail_sometimes"
    with pytest.raises(ConfigError, match=words) as refused:
        make_backend(kind, url=url, on_unavailable=mode)
    assert PASSWORD not in str(refused.value)


def test_state_unavailable_is_a_router_error_that_pickles() -> None:
    error = StateUnavailable("redis at h:1", detail="ConnectionError: refused")
    assert isinstance(error, RouterError)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.backend) == (StateUnavailable, str(error), "redis at h:1")


def test_backends_share_the_interface() -> None:
    for cls in (MemoryBackend, RedisBackend, ResilientBackend):
        assert issubclass(cls, StateBackend)
        assert not getattr(cls, "__abstractmethods__", None)


# -- the bare arithmetic (router/state/gcra.py) ---------------------------------------------
def test_gcra_admits_from_empty_and_sets_tat() -> None:
    assert gcra(None, 100.0, cost=2, interval=1.5, burst=4) == (103.0, 0.0)


def test_gcra_refusal_leaves_tat_and_gives_the_wait() -> None:
    tat, wait = gcra(106.0, 100.0, cost=1, interval=1.5, burst=4)
    assert tat is None
    assert wait == pytest.approx(1.5)


def test_gcra_treats_a_past_tat_as_now() -> None:
    assert gcra(50.0, 100.0, cost=1, interval=1.0, burst=1) == (101.0, 0.0)


def test_adjusted_never_goes_below_now() -> None:
    assert adjusted(105.0, 100.0, delta=-10, interval=1.0) == 100.0
    assert adjusted(105.0, 100.0, delta=-2, interval=1.0) == 103.0
    assert adjusted(None, 100.0, delta=2, interval=1.0) == 102.0
