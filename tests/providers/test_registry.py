"""The registry, lazy SDK imports, settings that keep secrets out of reprs, the SSE decoder."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap

import pytest

from router.errors import ConfigError, ProviderConfigError
from router.providers import PROVIDER_TYPES, Adapter, ProviderSettings, get_adapter_class
from router.providers._clients import require_sdk
from router.providers._sse import SSEDecoder


def test_registry_maps_every_type() -> None:
    assert PROVIDER_TYPES == (
        "openai",
        "anthropic",
        "openai_compatible",
        "azure_openai",
        "anthropic_bedrock",
        "anthropic_vertex",
    )
    for name in PROVIDER_TYPES:
        cls = get_adapter_class(name)
        assert issubclass(cls, Adapter) and cls.type_name == name
    with pytest.raises(ValueError, match=r"unknown provider type 'gemini'.*openai"):
        get_adapter_class("gemini")


def test_sdks_are_imported_only_when_an_adapter_is_built() -> None:
    code = textwrap.dedent(
        """
        import sys
        import router.providers
        from router.providers import ProviderSettings, get_adapter_class
        sdks = lambda: sorted(m for m in ("openai", "anthropic", "httpx2") if m in sys.modules)
        assert sdks() == [], sdks()
        classes = [get_adapter_class(t) for t in router.providers.PROVIDER_TYPES]
        assert sdks() == [], sdks()
        classes[0](ProviderSettings(name="o", api_key="k"))
        assert sdks() == ["httpx2", "openai"], sdks()
        classes[1](ProviderSettings(name="a", api_key="k"))
        assert sdks() == ["anthropic", "httpx2", "openai"], sdks()
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_missing_sdk_is_a_config_error_naming_the_provider_and_what_to_install() -> None:
    with pytest.raises(ConfigError, match="pip install 'router\\[future\\]'") as caught:
        require_sdk(
            "no_such_sdk_pkg", "future", provider="f", install="pip install 'router[future]'"
        )
    error = caught.value
    assert isinstance(error, ProviderConfigError) and error.provider == "f"
    assert "'no_such_sdk_pkg' package" in str(error) and str(error).startswith("f: ")
    assert error.__cause__ is None and error.__context__ is None


def test_compatible_needs_a_base_url() -> None:
    with pytest.raises(ValueError, match="needs a base_url"):
        get_adapter_class("openai_compatible")(ProviderSettings(name="local"))


def test_settings_never_show_secrets() -> None:
    s = ProviderSettings(
        name="p",
        base_url="https://api.example.com/v1",
        api_key="sk-very-secret-value",
        headers={"X-Gateway-Token": "gw-secret-token"},
    )
    adapter = get_adapter_class("openai")(s)
    for text in (repr(s), str(s), repr(adapter), str(adapter), repr([s])):
        assert "sk-very-secret-value" not in text and "gw-secret-token" not in text
    assert "X-Gateway-Token" in repr(s) and "api_key=<set>" in repr(s)
    assert "api_key=None" in repr(ProviderSettings(name="p"))
    assert pickle.loads(pickle.dumps(s)) == s
    cloud = ProviderSettings(
        name="c",
        region="us-east-1",
        token="ya29.a-google-access-token",
        environment={"AWS_SECRET_ACCESS_KEY": "aws-secret-value-123456"},
    )
    for text in (repr(cloud), str(cloud)):
        assert "ya29" not in text and "aws-secret-value" not in text
        assert "token=<set>" in text and "AWS_SECRET_ACCESS_KEY" in text
    assert pickle.loads(pickle.dumps(cloud)) == cloud


def events(chunks: list[bytes]) -> list[tuple[str | None, str]]:
    d = SSEDecoder()
    out = [e for c in chunks for e in d.feed(c)]
    return out + d.flush()


def test_sse_decoder() -> None:
    whole = b'event: a\ndata: {"x": 1}\n\n: keep-alive\n\ndata: one\ndata: two\n\ndata:[DONE]\n\n'
    expected = [("a", '{"x": 1}'), (None, "one\ntwo"), (None, "[DONE]")]
    assert events([whole]) == expected
    assert events([whole[i : i + 1] for i in range(len(whole))]) == expected  # byte by byte
    crlf = whole.replace(b"\n", b"\r\n")
    assert events([crlf[i : i + 3] for i in range(0, len(crlf), 3)]) == expected
    assert events([whole.replace(b"\n", b"\r")]) == expected
    # U+2028 is a line break to str.splitlines, but legal inside a JSON string
    sep = '{"t": "a\u2028b"}'.encode()
    assert events([b"data: " + sep + b"\n\n"]) == [(None, sep.decode())]
    assert events([b"data: unterminated"]) == []
