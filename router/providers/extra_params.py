"""The well-known provider parameters of each wire format, with their types: a spec names one
under ``extra_params`` (``extra_params: [service_tier]``) and gets its type from here; any
other field needs a type written beside it. Each adapter class carries its wire's table as
``extra_params`` (see :class:`~router.providers.base.Adapter`).

Left out on purpose: fields whose answer the router does not read (``logprobs``,
``top_logprobs``: a :class:`~router.types.Response` carries no log probabilities), and those
the router sets itself (``n``, ``stream_options``...; see
:data:`router.routing.extras.RESERVED`). A spec may still declare such a field with a type.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from router.specmodel import ExtraParam

__all__ = ["ANTHROPIC", "ANTHROPIC_CLOUD", "OPENAI", "OPENAI_COMPATIBLE"]


def _table(*params: ExtraParam) -> Mapping[str, ExtraParam]:
    return MappingProxyType({p.name: p for p in params})


_USER = ExtraParam("user", "string", description="the end user's id (OpenAI: being replaced)")
_PARALLEL = ExtraParam(
    "parallel_tool_calls", "boolean", description="whether several tool calls may come at once"
)
_TOP_K = ExtraParam("top_k", "integer", minimum=0, description="sample from the k likeliest")

#: OpenAI's Chat Completions (``openai``, ``azure_openai``).
OPENAI = _table(
    ExtraParam(
        "service_tier",
        "string",
        enum=("auto", "default", "flex", "scale", "priority", "fast"),
        description="the processing tier (flex: cheaper, slower)",
    ),
    _PARALLEL,
    ExtraParam("store", "boolean", description="keep the completion for distillation/evals"),
    _USER,
    ExtraParam("safety_identifier", "string", description="a stable id of the end user"),
    ExtraParam("prompt_cache_key", "string", description="groups requests for prompt caching"),
    ExtraParam("verbosity", "string", enum=("low", "medium", "high"), description="answer length"),
    ExtraParam("logit_bias", "object", description="token id → bias from -100 to 100"),
    ExtraParam("prediction", "object", description="predicted output, for faster edits"),
)

#: What OpenAI-compatible servers (vLLM, llama.cpp, OpenRouter, Together...) commonly take.
OPENAI_COMPATIBLE = _table(
    _TOP_K,
    ExtraParam("min_p", "number", minimum=0, maximum=1, description="minimum token probability"),
    ExtraParam(
        "repetition_penalty", "number", minimum=0, description="above 1 discourages repeats"
    ),
    _PARALLEL,
    _USER,
)

#: Anthropic's Messages API (``anthropic``).
ANTHROPIC = _table(
    _TOP_K,
    ExtraParam("metadata.user_id", "string", description="an opaque id of the end user"),
    ExtraParam(
        "service_tier",
        "string",
        enum=("auto", "standard_only"),
        description="priority capacity when available, or standard only",
    ),
    ExtraParam("inference_geo", "string", description="where inference runs"),
)

#: Claude on Bedrock and Vertex.
ANTHROPIC_CLOUD = _table(_TOP_K)
