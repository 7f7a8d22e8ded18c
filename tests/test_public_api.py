"""The public surface: what `import router` gives, and what it costs."""

from __future__ import annotations

import subprocess
import sys

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
        router.TimeoutError,
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
