"""Constants and helpers shared by the provider tests (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from router.providers import Adapter
from router.sandbox import Sandbox
from router.types import Message, Request

API_KEY = "sk-test-1234567890abcdef"
ADAPTER_TYPES = ("openai", "anthropic", "openai_compatible")
MODELS = {
    "openai": "sandbox-gpt",
    "openai_compatible": "sandbox-gpt",
    "anthropic": "sandbox-claude",
}

MakeAdapter = Callable[..., Adapter]


def base_url(sb: Sandbox, kind: str, fault: str | None = None) -> str:
    if fault is None:
        return sb.anthropic_base_url if kind == "anthropic" else sb.openai_base_url
    url = sb.fault_url(fault)
    return url if kind == "anthropic" else url + "/v1"


def req(kind: str, *messages: Message | str, model: str | None = None, **kw: Any) -> Request:
    msgs = tuple(Message("user", m) if isinstance(m, str) else m for m in messages)
    model_id = model or MODELS[kind]
    return Request(model="spec-model", model_id=model_id, provider=f"{kind}-p", messages=msgs, **kw)
