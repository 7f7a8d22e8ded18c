"""The public surface: what `import router` gives, and what it costs."""

from __future__ import annotations

import subprocess
import sys

import pytest

import router


def test_all_is_sorted_and_complete() -> None:
    assert list(router.__all__) == sorted(router.__all__)
    for name in router.__all__:
        assert hasattr(router, name), name


def test_core_names_are_exported() -> None:
    expected = {
        "Router",
        "Response",
        "Chunk",
        "Message",
        "Usage",
        "ToolDefinition",
        "ToolCall",
        "RouterError",
        "ConfigError",
        "RequestError",
        "ProviderError",
        "AllModelsFailed",
        "StreamInterrupted",
    }
    assert expected <= set(router.__all__)


def test_error_tree() -> None:
    assert issubclass(router.AllModelsFailed, ExceptionGroup)
    assert issubclass(router.RequestError, ValueError)
    for cls in (
        router.AuthenticationError,
        router.RateLimitError,
        router.ProviderTimeout,
        router.ContextWindowExceeded,
        router.ContentFiltered,
        router.BadRequestError,
        router.ModelError,
        router.ProviderUnavailable,
    ):
        assert issubclass(cls, router.ProviderError)
    for cls in (router.ConfigError, router.ProviderError, router.StreamInterrupted):
        assert issubclass(cls, router.RouterError)


def test_import_router_loads_no_vendor_sdk_or_jsonschema() -> None:
    heavy = ("openai", "anthropic", "jsonschema", "httpx2")
    code = f"import sys, router; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_old_timeout_name_still_works_with_a_deprecation_warning() -> None:
    import router.errors

    for module in (router, router.errors):
        with pytest.warns(DeprecationWarning, match=r"TimeoutError is deprecated.*ProviderTimeout"):
            old = module.TimeoutError
        assert old is router.ProviderTimeout
    assert "TimeoutError" not in router.__all__
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        _ = router.NoSuchName


def test_star_import_shadows_no_builtin() -> None:
    import builtins

    namespace: dict[str, object] = {}
    exec("from router import *", namespace)
    shadowed = {name for name in namespace if name != "__builtins__" and hasattr(builtins, name)}
    assert shadowed == set()
    assert namespace["ProviderTimeout"] is router.ProviderTimeout


def test_dir_shows_only_the_public_api() -> None:
    shown = [name for name in dir(router) if name != "__version__"]
    assert shown == sorted(router.__all__)
    assert "importlib" not in dir(router) and "TYPE_CHECKING" not in dir(router)
