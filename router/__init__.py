"""router: a declarative, config-driven LLM router.

    from router import Router
    router = Router.from_yaml("configs/routes.yaml")
    response = router.complete(task="summarize", messages=[{"role": "user", "content": text}])

The error tree is drawn in :mod:`router.errors`; the spec format in README.md.

The names below are imported on first use (``router.Router`` imports the engine, the spec
loader and the state backends; a vendor SDK is imported when a Router with a provider of its
type is built, never inside a call), so ``import router`` itself costs next to nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from router.engine.hooks import Hook, HookContext
    from router.engine.router import AsyncStream, ModelInfo, Router, Stream
    from router.errors import (
        AllModelsFailed,
        AuthenticationError,
        BadRequestError,
        BudgetExceeded,
        ConfigError,
        ContentFiltered,
        ContextWindowExceeded,
        GuardrailRefused,
        HookFailed,
        HookTimeout,
        ModelError,
        NoRouteError,
        ProviderConfigError,
        ProviderError,
        ProviderTimeout,
        ProviderUnavailable,
        RateLimitError,
        RequestError,
        RequestRefused,
        ResponseRejected,
        RouterError,
        StateUnavailable,
        StreamInterrupted,
    )
    from router.routing.classify import Classification
    from router.routing.plan import Plan
    from router.spec import Diagnostic, Spec, load_spec, validate_file
    from router.types import (
        Attempt,
        Chunk,
        Embeddings,
        ImagePart,
        Message,
        Request,
        Response,
        TextPart,
        ToolCall,
        ToolDefinition,
        Usage,
    )

_ERRORS = (
    "AllModelsFailed",
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceeded",
    "ConfigError",
    "ContentFiltered",
    "ContextWindowExceeded",
    "GuardrailRefused",
    "HookFailed",
    "HookTimeout",
    "ModelError",
    "NoRouteError",
    "ProviderConfigError",
    "ProviderError",
    "ProviderTimeout",
    "ProviderUnavailable",
    "RateLimitError",
    "RequestError",
    "RequestRefused",
    "ResponseRejected",
    "RouterError",
    "StateUnavailable",
    "StreamInterrupted",
)
_TYPES = (
    "Attempt",
    "Chunk",
    "Embeddings",
    "ImagePart",
    "Message",
    "Request",
    "Response",
    "TextPart",
    "ToolCall",
    "ToolDefinition",
    "Usage",
)
#: Where each public name lives.
_HOMES: dict[str, str] = {
    **dict.fromkeys(("AsyncStream", "ModelInfo", "Router", "Stream"), "router.engine.router"),
    **dict.fromkeys(("Hook", "HookContext"), "router.engine.hooks"),
    **dict.fromkeys(_ERRORS, "router.errors"),
    "Plan": "router.routing.plan",
    "Classification": "router.routing.classify",
    **dict.fromkeys(("Diagnostic", "Spec", "load_spec", "validate_file"), "router.spec"),
    **dict.fromkeys(_TYPES, "router.types"),
}

__all__ = [
    "AllModelsFailed",
    "AsyncStream",
    "Attempt",
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceeded",
    "Chunk",
    "Classification",
    "ConfigError",
    "ContentFiltered",
    "ContextWindowExceeded",
    "Diagnostic",
    "Embeddings",
    "GuardrailRefused",
    "Hook",
    "HookContext",
    "HookFailed",
    "HookTimeout",
    "ImagePart",
    "Message",
    "ModelError",
    "ModelInfo",
    "NoRouteError",
    "Plan",
    "ProviderConfigError",
    "ProviderError",
    "ProviderTimeout",
    "ProviderUnavailable",
    "RateLimitError",
    "Request",
    "RequestError",
    "RequestRefused",
    "Response",
    "ResponseRejected",
    "Router",
    "RouterError",
    "Spec",
    "StateUnavailable",
    "Stream",
    "StreamInterrupted",
    "TextPart",
    "ToolCall",
    "ToolDefinition",
    "Usage",
    "load_spec",
    "validate_file",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        from router.errors import deprecated

        return deprecated(__name__, name)  # an old name, with a warning; else AttributeError
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    # The public API only: not the helpers above, nor the submodules imported so far.
    return sorted({*__all__, *(n for n in ("__version__",) if n in globals())})
