"""LiteLLM's provider prefixes (``openai/gpt-4o``, ``groq/llama3-8b-8192``...) and what each
becomes here: a provider ``type``, its official endpoint, the variable LiteLLM reads its key
from. A prefix missing from :data:`PROVIDERS` has no equivalent (its API is not one of the wire
formats spoken here): its deployments are listed as not converted."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """What a LiteLLM provider prefix becomes."""

    type: str  # openai | anthropic | openai_compatible
    base_url: str | None  # None: the SDK's official endpoint (or api_base is required)
    key_env: str | None  # the variable LiteLLM reads the key from by default
    needs_base: bool = False  # the prefix has no endpoint of its own: api_base is required
    local: bool = False  # the default endpoint is on this machine


_OLLAMA = Kind("openai_compatible", "http://localhost:11434/v1", None, local=True)
_SELF_HOSTED = Kind("openai_compatible", None, None, needs_base=True)

#: LiteLLM prefix → what it becomes. OpenAI-compatible services are reached through their
#: OpenAI-compatible endpoint, with the key variable LiteLLM reads for them.
PROVIDERS: dict[str, Kind] = {
    "openai": Kind("openai", None, "OPENAI_API_KEY"),
    "anthropic": Kind("anthropic", None, "ANTHROPIC_API_KEY"),
    "groq": Kind("openai_compatible", "https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    "together_ai": Kind("openai_compatible", "https://api.together.xyz/v1", "TOGETHERAI_API_KEY"),
    "mistral": Kind("openai_compatible", "https://api.mistral.ai/v1", "MISTRAL_API_KEY"),
    "deepseek": Kind("openai_compatible", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
    "openrouter": Kind("openai_compatible", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
    "fireworks_ai": Kind(
        "openai_compatible", "https://api.fireworks.ai/inference/v1", "FIREWORKS_AI_API_KEY"
    ),
    "perplexity": Kind("openai_compatible", "https://api.perplexity.ai", "PERPLEXITYAI_API_KEY"),
    "xai": Kind("openai_compatible", "https://api.x.ai/v1", "XAI_API_KEY"),
    "deepinfra": Kind(
        "openai_compatible", "https://api.deepinfra.com/v1/openai", "DEEPINFRA_API_KEY"
    ),
    "gemini": Kind(
        "openai_compatible",
        "https://generativelanguage.googleapis.com/v1beta/openai",
        "GEMINI_API_KEY",
    ),
    "ollama": _OLLAMA,
    "ollama_chat": _OLLAMA,
    "lm_studio": Kind("openai_compatible", "http://localhost:1234/v1", None, local=True),
    "hosted_vllm": _SELF_HOSTED,
    "vllm": _SELF_HOSTED,
    "openai_like": _SELF_HOSTED,
    "custom_openai": _SELF_HOSTED,
    "llamafile": Kind("openai_compatible", "http://localhost:8080/v1", None, local=True),
    "litellm_proxy": _SELF_HOSTED,
}

# Model ids LiteLLM sends to OpenAI or Anthropic when they carry no prefix.
_OPENAI_IDS = ("gpt-", "o1", "o3", "o4", "chatgpt-", "ft:gpt-")
_ANTHROPIC_IDS = ("claude-",)


def split_model(model: str) -> tuple[str | None, str]:
    """``"groq/llama3-8b"`` → ``("groq", "llama3-8b")``; an id without a known prefix gets the
    provider LiteLLM infers (``gpt-4o`` → openai, ``claude-3-opus`` → anthropic), or None."""
    prefix, sep, rest = model.partition("/")
    if sep and rest:
        return prefix, rest
    if model.startswith(_OPENAI_IDS):
        return "openai", model
    if model.startswith(_ANTHROPIC_IDS):
        return "anthropic", model
    return None, model


def ollama_base(api_base: str) -> str:
    """Ollama's OpenAI-compatible endpoint is under /v1 of the URL LiteLLM is given."""
    base = api_base.rstrip("/")
    return base if base.endswith("/v1") else base + "/v1"
