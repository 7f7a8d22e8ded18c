"""LiteLLM's provider prefixes (``openai/gpt-4o``, ``groq/llama3-8b-8192``...) and what each
becomes here: a provider ``type``, its official endpoint, the variable LiteLLM reads its key
from. A prefix missing from :data:`PROVIDERS` has no equivalent (its API is not one of the wire
formats spoken here): its deployments are listed as not converted."""

from __future__ import annotations

from dataclasses import dataclass

from router.providers.presets import PRESETS


@dataclass(frozen=True)
class Kind:
    """What a LiteLLM provider prefix becomes."""

    type: str  # openai | anthropic | openai_compatible
    base_url: str | None  # None: the SDK's official endpoint (or api_base is required)
    key_env: str | None  # the variable LiteLLM reads the key from by default
    needs_base: bool = False  # the prefix has no endpoint of its own: api_base is required
    local: bool = False  # the default endpoint is on this machine
    key_required: bool = False  # the type needs api_key_env
    official_host: str | None = None  # an api_base elsewhere is another server...
    elsewhere: str | None = None  # ...of this type (an OpenAI-compatible one)
    preset: str | None = None  # the preset (router.providers.presets) naming this host


_OLLAMA = Kind("openai_compatible", "http://localhost:11434/v1", None, local=True, preset="ollama")
_SELF_HOSTED = Kind("openai_compatible", None, None, needs_base=True)


def _hosted(preset: str, key_env: str) -> Kind:
    """A hosted OpenAI-compatible service: its preset's endpoint, LiteLLM's key variable."""
    return Kind("openai_compatible", PRESETS[preset].base_url, key_env, preset=preset)


#: LiteLLM prefix → what it becomes. OpenAI-compatible services are reached through their
#: OpenAI-compatible endpoint, with the key variable LiteLLM reads for them.
PROVIDERS: dict[str, Kind] = {
    "openai": Kind(
        "openai",
        None,
        "OPENAI_API_KEY",
        key_required=True,
        official_host="api.openai.com",
        elsewhere="openai_compatible",
    ),
    "anthropic": Kind("anthropic", None, "ANTHROPIC_API_KEY", key_required=True),
    "groq": _hosted("groq", "GROQ_API_KEY"),
    "together_ai": _hosted("together", "TOGETHERAI_API_KEY"),
    "mistral": _hosted("mistral", "MISTRAL_API_KEY"),
    "deepseek": _hosted("deepseek", "DEEPSEEK_API_KEY"),
    "openrouter": _hosted("openrouter", "OPENROUTER_API_KEY"),
    "fireworks_ai": _hosted("fireworks", "FIREWORKS_AI_API_KEY"),
    "perplexity": _hosted("perplexity", "PERPLEXITYAI_API_KEY"),
    "xai": _hosted("xai", "XAI_API_KEY"),
    "deepinfra": Kind(
        "openai_compatible", "https://api.deepinfra.com/v1/openai", "DEEPINFRA_API_KEY"
    ),
    "gemini": _hosted("gemini", "GEMINI_API_KEY"),
    "ollama": _OLLAMA,
    "ollama_chat": _OLLAMA,
    "lm_studio": Kind(
        "openai_compatible", "http://localhost:1234/v1", None, local=True, preset="lmstudio"
    ),
    "hosted_vllm": _SELF_HOSTED,
    "vllm": _SELF_HOSTED,
    "openai_like": _SELF_HOSTED,
    "custom_openai": _SELF_HOSTED,
    "llamafile": Kind("openai_compatible", "http://localhost:8080/v1", None, local=True),
    "litellm_proxy": _SELF_HOSTED,
}


def cloud_type(prefix: str | None, model_id: str) -> str | None:
    """The provider type here of a LiteLLM cloud deployment (Azure OpenAI; Claude on Bedrock
    or Vertex), or None. The importer does not convert these yet: their region, project, API
    version and credentials are written by hand."""
    if prefix == "azure":
        return "azure_openai"
    if prefix == "bedrock" and "anthropic." in model_id:
        return "anthropic_bedrock"
    if prefix == "vertex_ai" and model_id.startswith("claude"):
        return "anthropic_vertex"
    return None


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


#: LiteLLM's names for what the spec says otherwise: the key as LiteLLM writes it → what it is
#: here. Used for the hint of an unknown key, wherever it is written.
KEY_HINTS: dict[str, str] = {
    "model_list": "`models` (each with a `provider` and an `id`), served by `providers`",
    "litellm_params": "keys of the model itself (`provider`, `id`, `params`); endpoints "
    "and keys go on its provider",
    "model_name": "the model's key under `models` (and a task names the models it may use)",
    "model_info": "keys of the model itself (`pricing`, `context_window`, `capabilities`)",
    "api_base": "`base_url`, on a provider",
    "api_key": "`api_key_env` on a provider: the NAME of the variable holding the key",
    "rpm": "`limits: {requests_per_minute: N}` on a provider or a model",
    "tpm": "`limits: {tokens_per_minute: N}` on a provider or a model",
    "router_settings": "`defaults` (retry, timeouts, breaker, fallback_on) and each task's "
    "`priority` and `fallback`",
    "litellm_settings": "`defaults` (retry, timeouts, cache) and `telemetry`",
    "general_settings": "nothing: the router runs in your process, there is no proxy server",
    "fallbacks": "`fallback: [models...]` on each task (`{task: NAME}` continues another "
    "task's chain)",
    "context_window_fallbacks": "the task's `fallback`: after a context-window failure only "
    "models with a larger window are tried",
    "content_policy_fallbacks": "the task's `fallback`, with `content_filter` in `fallback_on`",
    "num_retries": "`retry: {attempts: N}` (per model, the first attempt included) on a task "
    "or in `defaults`",
    "routing_strategy": "`priority` on a task (cost, latency, quality or weights)",
    "allowed_fails": "`breaker: {failures: N}` in `defaults` or on a model",
    "cooldown_time": "`breaker: {cooldown: SECONDS}` in `defaults` or on a model",
    "timeout": "`timeouts: {request: SECONDS}` (one attempt) and `total` (the whole call)",
    "request_timeout": "`timeouts: {request: SECONDS}`",
    "max_budget": "`budgets: {daily: USD, monthly: USD}` at the top level, or `budget` on a task",
}


_CLOUD_HINTS = {
    "azure": "`type: azure_openai`",
    "bedrock": "`type: anthropic_bedrock` (for Claude models)",
    "vertex_ai": "`type: anthropic_vertex` (for Claude models)",
}


#: A LiteLLM provider name (`type: ollama`) → what to write instead, or why there is nothing.
def provider_hint(name: str) -> str | None:
    kind = PROVIDERS.get(name)
    if name in _CLOUD_HINTS:
        return f"this is LiteLLM's name; here it is {_CLOUD_HINTS[name]}"
    if kind is None:
        return None
    if kind.type != "openai_compatible":
        return f"this is LiteLLM's name; here it is `type: {kind.type}`"
    where = f" and `base_url: {kind.base_url}`" if kind.base_url else " and its `base_url`"
    local = " (with `local: true`)" if kind.local else ""
    if kind.preset is not None:  # the preset says both
        where, local = f" and `preset: {kind.preset}`", ""
    return (
        f"this is LiteLLM's provider '{name}'; it speaks OpenAI's API, so here it is "
        f"`type: openai_compatible`{where}{local}"
    )
