"""router: a declarative, config-driven LLM router.

    from router import Router
    router = Router.from_yaml("configs/routes.yaml")
    response = router.complete(task="summarize", messages=[{"role": "user", "content": text}])

The error tree is drawn in :mod:`router.errors`; the spec format in README.md.
"""

from router.engine import AsyncStream, ModelInfo, Router, Stream
from router.errors import (
    AllModelsFailed,
    AuthenticationError,
    BadRequestError,
    ConfigError,
    ContentFiltered,
    ContextWindowExceeded,
    ModelError,
    ProviderError,
    ProviderUnavailable,
    RateLimitError,
    RequestError,
    RouterError,
    StreamInterrupted,
    TimeoutError,
)
from router.plan import Plan
from router.spec import Diagnostic, Spec, load_spec, validate_file
from router.types import (
    Attempt,
    Chunk,
    ImagePart,
    Message,
    Request,
    Response,
    TextPart,
    ToolCall,
    ToolDefinition,
    Usage,
)

__all__ = [
    "AllModelsFailed",
    "AsyncStream",
    "Attempt",
    "AuthenticationError",
    "BadRequestError",
    "Chunk",
    "ConfigError",
    "ContentFiltered",
    "ContextWindowExceeded",
    "Diagnostic",
    "ImagePart",
    "Message",
    "ModelError",
    "ModelInfo",
    "Plan",
    "ProviderError",
    "ProviderUnavailable",
    "RateLimitError",
    "Request",
    "RequestError",
    "Response",
    "Router",
    "RouterError",
    "Spec",
    "Stream",
    "StreamInterrupted",
    "TextPart",
    "TimeoutError",
    "ToolCall",
    "ToolDefinition",
    "Usage",
    "load_spec",
    "validate_file",
]
