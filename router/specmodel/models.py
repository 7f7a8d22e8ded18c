"""Providers, models and their deployments, with prices."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from router.specmodel.extras import ExtraParam
from router.specmodel.policies import (
    _EMPTY,
    DEFAULT_BALANCE,
    Balance,
    BreakerPolicy,
    Capability,
    Limits,
    Params,
    ProviderType,
    Timeouts,
)


@dataclass(frozen=True, slots=True)
class EnvRef:
    """A value to be read from the environment variable ``name`` when the router starts."""

    name: str


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    name: str
    type: ProviderType
    base_url: str | None = None
    api_key_env: str | None = None
    local: bool = False
    headers: Mapping[str, str | EnvRef] = field(default_factory=lambda: _EMPTY, repr=False)
    timeouts: Timeouts = Timeouts()
    limits: Limits = Limits()
    description: str | None = None
    #: The timeout keys this provider set itself (the rest come from ``defaults``).
    timeouts_set: frozenset[str] = frozenset()
    #: The named host an ``openai_compatible`` provider started from (already applied).
    preset: str | None = None
    #: Azure OpenAI's ``api-version``.
    api_version: str | None = None
    #: The cloud region (Bedrock, Vertex); None: from the environment.
    region: str | None = None
    #: The Google Cloud project (Vertex); None: from the environment or the credentials.
    project: str | None = None
    #: The variable holding a bearer token (Azure: Entra ID; Vertex: an access token).
    token_env: str | None = None
    #: The provider parameters every chat model it serves accepts, by name (types resolved).
    extra_params: Mapping[str, ExtraParam] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True)
class Pricing:
    """US dollars per million tokens: ``input`` for uncached prompt tokens, ``output`` for
    generated ones (reasoning included), ``cached_input`` for prompt tokens read from the
    provider's prompt cache, ``cache_write`` for those written to it. ``None`` (not set in the
    spec) is the provider's documented multiple of ``input``, filled in when the spec is
    compiled (:meth:`resolved`, with the multiples of the provider's adapter class); until
    then such a price counts as ``input``."""

    input: float
    output: float
    cached_input: float | None = None
    cache_write: float | None = None

    def resolved(self, read_multiple: float, write_multiple: float) -> Pricing:
        """These prices with the unset cache prices filled in as multiples of ``input``."""
        if self.cached_input is not None and self.cache_write is not None:
            return self
        return Pricing(
            self.input,
            self.output,
            self.input * read_multiple if self.cached_input is None else self.cached_input,
            self.input * write_multiple if self.cache_write is None else self.cache_write,
        )

    def cost(
        self,
        input_tokens: int,
        output_tokens: int,
        cached_input_tokens: int = 0,
        cache_write_tokens: int = 0,
    ) -> float:
        """USD for a call; ``input_tokens`` counts every prompt token (cache reads and
        writes included, as :class:`~router.types.Usage` does)."""
        uncached = max(input_tokens - cached_input_tokens - cache_write_tokens, 0)
        read = self.input if self.cached_input is None else self.cached_input
        write = self.input if self.cache_write is None else self.cache_write
        return (
            uncached * self.input
            + cached_input_tokens * read
            + cache_write_tokens * write
            + output_tokens * self.output
        ) / 1_000_000

    def cache_savings(self, cached_input_tokens: int, cache_write_tokens: int = 0) -> float:
        """USD the prompt cache saved on a call: what its cached tokens (read and written)
        would have cost at the input price, minus what they cost (negative when writes
        outweigh reads)."""
        read = self.input if self.cached_input is None else self.cached_input
        write = self.input if self.cache_write is None else self.cache_write
        return (
            cached_input_tokens * (self.input - read) - cache_write_tokens * (write - self.input)
        ) / 1_000_000


@dataclass(frozen=True, slots=True)
class LatencyPrior:
    p50: float | None = None
    p95: float | None = None


@dataclass(frozen=True, slots=True)
class DeploymentSpec:
    """One place a model is served: a provider entry, the id sent there, and what this place
    changes of the provider (its own key variable, base URL, timeouts), its weight, its own
    limits and prices. ``None`` means "the provider's" (key, URL, timeouts) or "the model's"
    (pricing). ``key`` names its state (limits, holds, breaker): the model's name for a model
    without ``deployments:``, else ``model/name``."""

    name: str
    provider: str
    id: str
    key: str
    weight: float = 1.0
    api_key_env: str | None = None
    base_url: str | None = None
    limits: Limits = Limits()
    timeouts: Timeouts | None = None
    pricing: Pricing | None = None
    #: True for a model's one deployment when it lists none (today's meaning of a model).
    implicit: bool = False


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    provider: str
    id: str
    pricing: Pricing | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None
    capabilities: frozenset[Capability] = frozenset({"streaming"})
    latency: LatencyPrior = LatencyPrior()
    quality: float | None = None
    limits: Limits = Limits()
    params: Params = Params()
    description: str | None = None
    breaker: BreakerPolicy = BreakerPolicy()
    #: Where the model is served; empty: one implicit deployment at ``provider`` (see pool()).
    deployments: tuple[DeploymentSpec, ...] = ()
    balance: Balance = DEFAULT_BALANCE
    #: ``chat`` (complete/stream) or ``embedding`` (embed); ``dimensions``: an embedding
    #: model's vector length, when the spec declares it.
    kind: Literal["chat", "embedding"] = "chat"
    dimensions: int | None = None
    #: The provider parameters the model accepts wherever it is served, beside those of
    #: each deployment's provider (a name declared on both: the model's declaration).
    extra_params: Mapping[str, ExtraParam] = field(default_factory=lambda: _EMPTY)

    def pool(self) -> tuple[DeploymentSpec, ...]:
        """The model's deployments: those listed, else the one it always had."""
        if self.deployments:
            return self.deployments
        return (DeploymentSpec(self.provider, self.provider, self.id, self.name, implicit=True),)
