"""Every error the router raises, in one tree.

```
RouterError                     base of everything raised on purpose
├── ConfigError                 the spec cannot be loaded; carries every Diagnostic
├── RequestError                (also a ValueError) the call itself is invalid: unknown task,
│   │                           unknown or refused parameter, malformed messages; nothing sent
│   ├── NoRouteError            no model in the chain can take this request (too large for
│   │                           every window, needs a capability none has...); nothing sent
│   ├── GuardrailRefused        a guardrail of the spec refused the messages (a pasted key,
│   │                           a blocked term, over a size cap): names the guardrail and the
│   │                           kind of finding, never the value; nothing sent
│   └── RequestRefused          a hook refused the request (``hook``, ``code``); nothing sent
├── ProviderError               one attempt at one target failed (provider, model, status)
│   ├── AuthenticationError     401/403: a bad or missing key; never retried on the same target
│   ├── RateLimitError          429: carries ``retry_after`` (seconds) when the provider sent it
│   ├── ProviderTimeout            the provider did not answer in time
│   ├── ContextWindowExceeded   the prompt plus max output does not fit the model
│   ├── ContentFiltered         the provider refused the content
│   │   └── ResponseRejected    a hook rejected the answer (``hook``, ``code``); the chain
│   │                           moves on as after a content filter
│   ├── BadRequestError         400/404/422: the request itself is wrong; never retried
│   ├── ModelError              the provider answered, but with something unusable
│   ├── ProviderUnavailable     5xx, 529, connection refused or reset
│   └── ProviderConfigError     (also a ConfigError) the provider's configuration fails at call
│                               time (unusable base URL, a key or header value that is not
│                               valid HTTP); nothing sent, never retried, the chain moves on
├── StreamInterrupted           a stream failed after its first chunk reached the caller;
│                               carries the partial text and the usage seen so far
├── BudgetExceeded              a spend cap is reached and the task says ``on_budget: refuse``
│                               (scope, period, spent, cap, resets_at); nothing sent
├── StateUnavailable            the shared state backend is unreachable and the spec says
│                               ``state.on_unavailable: fail_closed``; nothing sent
├── AllModelsFailed             (also an ExceptionGroup) every target of the chain failed;
│                               ``.exceptions`` holds one ProviderError per attempt, in order
└── HookFailed                  a hook raised (not a refusal) or returned what its stage cannot
    │                           use (``hook``, ``stage``, ``attempts``); the request ends
    └── HookTimeout             a hook (or the guardrails' check: ``hook`` "guardrails") still
                                ran when the request's deadline came
```

Provider adapters translate SDK exceptions into this tree at the boundary, so nothing above
them ever sees an ``openai`` or ``anthropic`` exception class. The SDK's exception is not kept:
not as ``__cause__``, not as ``__context__`` (it holds the request, whose headers carry the
key). A ProviderError carries the facts instead: ``status``, the provider's ``error_type``,
``error_code`` and ``request_id``, and its message with secrets redacted. Messages never
contain API keys or the values of environment variables. A hook's exception is not kept
either: HookFailed names the hook, its stage, the exception's type and where it was raised.
"""

from __future__ import annotations

import warnings
from typing import Any

from router.errors.base import (
    ConfigError,
    GuardrailRefused,
    NoRouteError,
    RequestError,
    RouterError,
)
from router.errors.hooks import HookFailed, HookTimeout, RequestRefused, ResponseRejected
from router.errors.outcome import (
    AllModelsFailed,
    BudgetExceeded,
    StateUnavailable,
    StreamInterrupted,
)
from router.errors.provider import (
    AuthenticationError,
    BadRequestError,
    ContentFiltered,
    ContextWindowExceeded,
    ModelError,
    ProviderConfigError,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimitError,
)

__all__ = [
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
]


#: Old names that still work, each with a DeprecationWarning: old name → new name.
DEPRECATED_NAMES = {"TimeoutError": "ProviderTimeout"}


def deprecated(module: str, name: str) -> Any:
    """The error an old ``name`` stood for, after warning that it is deprecated; an
    AttributeError (as for any unknown attribute of ``module``) when it is not an old name."""
    new = DEPRECATED_NAMES.get(name)
    if new is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    warnings.warn(
        f"{module}.{name} is deprecated (it shadows the builtin {name}); use {module}.{new}",
        DeprecationWarning,
        stacklevel=3,
    )
    return globals()[new]


def __getattr__(name: str) -> Any:
    return deprecated(__name__, name)
