"""Named OpenAI-compatible hosts: what ``preset: NAME`` on an ``openai_compatible`` provider
fills in (its base URL, the variable its key is usually kept in, headers it requires, and
whether it runs on this machine, which implies ``local: true``). A field the provider writes
itself overrides the preset's. This table is data: the spec schema's enum, the README's preset
table and :func:`apply` all read it (a test keeps the README in step).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["PRESETS", "Preset", "apply"]


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    #: What the README calls it.
    title: str
    base_url: str
    #: The environment variable its own docs keep the key in (None: no key needed).
    api_key_env: str | None
    #: Served on this machine (implies ``local: true``).
    local: bool = False
    #: Headers the host requires (values are plain, never secrets).
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


_ALL = (
    Preset("groq", "Groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    Preset("together", "Together AI", "https://api.together.xyz/v1", "TOGETHER_API_KEY"),
    Preset(
        "fireworks", "Fireworks AI", "https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY"
    ),
    Preset("mistral", "Mistral AI", "https://api.mistral.ai/v1", "MISTRAL_API_KEY"),
    Preset("deepseek", "DeepSeek", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
    Preset("openrouter", "OpenRouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
    Preset("xai", "xAI (Grok)", "https://api.x.ai/v1", "XAI_API_KEY"),
    Preset(
        "gemini",
        "Google Gemini (OpenAI endpoint)",
        "https://generativelanguage.googleapis.com/v1beta/openai",
        "GEMINI_API_KEY",
    ),
    Preset("cerebras", "Cerebras", "https://api.cerebras.ai/v1", "CEREBRAS_API_KEY"),
    Preset("perplexity", "Perplexity", "https://api.perplexity.ai", "PERPLEXITY_API_KEY"),
    Preset("ollama", "Ollama", "http://localhost:11434/v1", None, local=True),
    Preset("vllm", "vLLM", "http://localhost:8000/v1", None, local=True),
    Preset("lmstudio", "LM Studio", "http://localhost:1234/v1", None, local=True),
)

#: Every preset by name, in the README's order.
PRESETS: Mapping[str, Preset] = MappingProxyType({p.name: p for p in _ALL})


def apply(provider: Mapping[str, Any]) -> dict[str, Any]:
    """A provider entry of the spec (plain data) with its preset's fields filled in where the
    entry sets none (headers merged, the entry's winning); the entry as it is without a known
    preset."""
    out = dict(provider)
    name = out.get("preset")
    preset = PRESETS.get(name) if isinstance(name, str) else None
    if preset is None:
        return out
    out.setdefault("base_url", preset.base_url)
    if preset.api_key_env is not None:
        out.setdefault("api_key_env", preset.api_key_env)
    if preset.local:
        out.setdefault("local", True)
    if preset.headers:
        own = out.get("headers")
        out["headers"] = {**preset.headers, **(own if isinstance(own, dict) else {})}
    return out
