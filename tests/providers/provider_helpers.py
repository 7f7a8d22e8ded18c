"""Constants and helpers shared by the provider tests (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from router.providers import Adapter, get_adapter_class
from router.sandbox import Sandbox
from router.types import Message, Request

API_KEY = "sk-test-1234567890abcdef"
#: The AWS secret access key the Bedrock adapter signs with (SigV4); the sandbox checks the
#: access key id (API_KEY) and that the request is signed, as Bedrock would.
AWS_SECRET = "aws-secret-0123456789abcdefghijklmnop"
ADAPTER_TYPES = (
    "openai",
    "anthropic",
    "openai_compatible",
    "azure_openai",
    "anthropic_bedrock",
    "anthropic_vertex",
)
#: The wire format each type speaks.
WIRE = {
    "openai": "openai",
    "openai_compatible": "openai",
    "azure_openai": "openai",
    "anthropic": "anthropic",
    "anthropic_bedrock": "anthropic",
    "anthropic_vertex": "anthropic",
}
MODELS = {kind: "sandbox-claude" if w == "anthropic" else "sandbox-gpt" for kind, w in WIRE.items()}

MakeAdapter = Callable[..., Adapter]


def credentials(kind: str, key: str = API_KEY, secret: str = AWS_SECRET) -> dict[str, Any]:
    """The settings that authenticate ``kind`` with ``key`` (and its cloud's region...)."""
    if kind == "azure_openai":
        return {"api_key": key, "api_version": "2024-10-21"}
    if kind == "anthropic_bedrock":  # SigV4, with static credentials from a private environ
        env = {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret}
        return {"region": "us-east-1", "environment": env}
    if kind == "anthropic_vertex":  # an access token, as `gcloud auth print-access-token`
        return {"region": "us-east5", "project": "router-tests", "token": key}
    return {"api_key": key}


def root_url(kind: str, root: str) -> str:
    return root + get_adapter_class(kind).base_path


def base_url(sb: Sandbox, kind: str, fault: str | None = None) -> str:
    return root_url(kind, sb.url if fault is None else sb.fault_url(fault))


def req(kind: str, *messages: Message | str, model: str | None = None, **kw: Any) -> Request:
    msgs = tuple(Message("user", m) if isinstance(m, str) else m for m in messages)
    model_id = model or MODELS[kind]
    return Request(model="spec-model", model_id=model_id, provider=f"{kind}-p", messages=msgs, **kw)
