"""The typed, immutable spec: what a valid routes.yaml compiles into.

Every object is a frozen, slotted dataclass; mappings are read-only views and lists are
tuples, so a compiled router can share the spec between threads without copying. Task
settings are already resolved against ``defaults`` (a task's ``retry`` is the whole policy,
not just the keys the task overrode). Only environment variable *names* are kept, never
their values.
"""

from __future__ import annotations

from router.specmodel.classifier import (
    AUTO_TASK,
    MIN_EXAMPLES,
    ClassifierBackend,
    ClassifierInput,
    ClassifierSpec,
)
from router.specmodel.content import (
    DEFAULT_MAX_CHARS,
    Keyword,
    TextCondition,
)
from router.specmodel.extras import EXTRA_TYPES, ExtraParam, ExtraType, declarations
from router.specmodel.guardrails import GuardrailSpec
from router.specmodel.models import (
    DeploymentSpec,
    EnvRef,
    LatencyPrior,
    ModelSpec,
    Pricing,
    ProviderSpec,
)
from router.specmodel.policies import (
    DEFAULT_FALLBACK_ON,
    DEFAULT_SYSTEM_PROMPT,
    SUPPORTED_VERSIONS,
    Balance,
    BreakerPolicy,
    Budget,
    CachePolicy,
    Capability,
    HedgePolicy,
    Limits,
    OnAllOpen,
    OnBudget,
    OnLimit,
    Params,
    ProviderType,
    RetryPolicy,
    Timeouts,
    frozen_map,
)
from router.specmodel.spec import (
    Defaults,
    Spec,
    StateSpec,
)
from router.specmodel.tasks import (
    Constraints,
    FallbackEntry,
    Priority,
    RuleSpec,
    RuleWhen,
    TaskSpec,
    guardrails_for,
)

__all__ = [
    "AUTO_TASK",
    "DEFAULT_FALLBACK_ON",
    "DEFAULT_MAX_CHARS",
    "DEFAULT_SYSTEM_PROMPT",
    "EXTRA_TYPES",
    "MIN_EXAMPLES",
    "SUPPORTED_VERSIONS",
    "Balance",
    "BreakerPolicy",
    "Budget",
    "CachePolicy",
    "Capability",
    "ClassifierBackend",
    "ClassifierInput",
    "ClassifierSpec",
    "Constraints",
    "Defaults",
    "DeploymentSpec",
    "EnvRef",
    "ExtraParam",
    "ExtraType",
    "FallbackEntry",
    "GuardrailSpec",
    "HedgePolicy",
    "Keyword",
    "LatencyPrior",
    "Limits",
    "ModelSpec",
    "OnAllOpen",
    "OnBudget",
    "OnLimit",
    "Params",
    "Pricing",
    "Priority",
    "ProviderSpec",
    "ProviderType",
    "RetryPolicy",
    "RuleSpec",
    "RuleWhen",
    "Spec",
    "StateSpec",
    "TaskSpec",
    "TextCondition",
    "Timeouts",
    "declarations",
    "frozen_map",
    "guardrails_for",
]
