"""The contract every provider adapter fulfils, and the settings it is built from.

An adapter turns a provider-neutral :class:`~router.types.Request` into one HTTP call and the
answer back into a :class:`~router.types.Response` (or a stream of :class:`~router.types.Chunk`).
Failures leave an adapter only as :class:`~router.errors.ProviderError` subclasses. Adapters do
not retry, fall back, price or cache: the engine does all of that.
"""

from __future__ import annotations

import abc
import re
from collections.abc import AsyncGenerator, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, TracebackType
from typing import ClassVar, Literal, Self

from router.specmodel import ExtraParam
from router.types import Chunk, Request, Response

__all__ = ["CREDENTIAL_NAME", "Adapter", "ProviderSettings", "RequestProfile"]

#: Environment variables whose values are credentials (AWS_SECRET_ACCESS_KEY, ..._TOKEN).
CREDENTIAL_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD", re.IGNORECASE)


@dataclass(frozen=True, slots=True, repr=False)
class ProviderSettings:
    """One provider entry of the spec, resolved: the key is the secret itself, not the name of
    the environment variable that held it. Neither the key nor header values (which often carry
    credentials too) ever appear in ``repr()``/``str()``."""

    name: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    connect_timeout: float = 5.0
    request_timeout: float = 60.0
    #: Azure OpenAI's ``api-version`` query parameter.
    api_version: str | None = None
    #: The cloud region (Bedrock, Vertex); None: from the environment.
    region: str | None = None
    #: The Google Cloud project (Vertex); None: from the environment or the credentials.
    project: str | None = None
    #: A bearer token (an Entra ID token for Azure, an access token for Vertex): a secret.
    token: str | None = field(default=None, repr=False)
    #: The variables of the adapter's ``environment_names`` that are set (cloud credentials,
    #: regions, projects), read from the Router's environment: values are never shown.
    environment: Mapping[str, str] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        key = "<set>" if self.api_key else None
        token = "<set>" if self.token else None
        cloud = ""
        if self.api_version or self.region or self.project or self.token or self.environment:
            cloud = (
                f", api_version={self.api_version!r}, region={self.region!r}, "
                f"project={self.project!r}, token={token}, "
                f"environment={sorted(self.environment)!r}"
            )
        return (
            f"ProviderSettings(name={self.name!r}, base_url={self.base_url!r}, api_key={key}, "
            f"headers={sorted(self.headers)!r}, connect_timeout={self.connect_timeout!r}, "
            f"request_timeout={self.request_timeout!r}{cloud})"
        )

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class RequestProfile:
    """What a provider type's wire format asks of a request (and how its provider prices the
    prompt cache), read from its adapter class once per target when the spec is compiled, so
    the code that builds and prices requests never branches on a provider type."""

    #: ``max_tokens`` sent when a request sets none (the API requires one); None: optional.
    default_max_tokens: int | None = None
    #: Whether ``presence_penalty``/``frequency_penalty`` exist in the wire format.
    penalties: bool = True
    #: The provider's documented prices of prompt-cache reads and writes, as multiples of the
    #: input price: what a model's ``pricing`` gets when it sets no ``cached_input`` or
    #: ``cache_write``.
    cache_read_multiple: float = 1.0
    cache_write_multiple: float = 1.0
    #: The per-call reasoning parameter the wire format takes (``thinking`` for the
    #: Anthropic wire, ``reasoning_effort`` for the OpenAI wire), or None.
    reasoning_param: str | None = None


class Adapter(abc.ABC):
    """Talks to one provider. One instance serves many concurrent calls (its HTTP clients are
    made by ``prepare()`` or on first use, and reused); ``close``/``aclose`` release them.

    ``complete``/``acomplete`` return a Response with ``cost=None`` and ``attempts=()`` and the
    adapter's own ``latency_s``. ``stream``/``astream`` are lazy: nothing is sent until the
    first chunk is asked for, so a failure before any chunk can still be failed over. The last
    chunk carries ``finish_reason`` and ``usage``; a stream that stops without its terminal
    event raises :class:`~router.errors.ProviderUnavailable` rather than ending quietly.
    """

    #: The spec's ``type`` string for this adapter (``openai``, ``anthropic``...).
    type_name: ClassVar[str]
    # The wire format's quirks, as class properties (see :class:`RequestProfile`).
    #: ``max_tokens`` to send when a request sets none, for an API that requires one.
    requires_max_tokens: ClassVar[int | None] = None
    #: Whether the wire format has ``presence_penalty`` and ``frequency_penalty``.
    supports_penalties: ClassVar[bool] = True
    #: The path a base URL carries after the server's root (``/v1`` for the OpenAI wire).
    base_path: ClassVar[str] = ""
    #: Environment variables the adapter reads (cloud credentials, regions, projects): the
    #: Router passes the set ones in ``ProviderSettings.environment`` from its environment.
    environment_names: ClassVar[tuple[str, ...]] = ()
    #: What a run on the sandbox sets in its private environment besides a dummy key.
    sandbox_environment: ClassVar[Mapping[str, str]] = MappingProxyType({})
    #: The spec field whose variable a run on the sandbox fills with a dummy credential.
    sandbox_credential: ClassVar[Literal["api_key_env", "token_env"]] = "api_key_env"
    #: Prompt-cache reads and writes as multiples of the input price, as the provider
    #: documents them (defaults of a model's ``pricing``); 1: no discount assumed.
    cache_read_multiple: ClassVar[float] = 1.0
    cache_write_multiple: ClassVar[float] = 1.0
    #: The per-call reasoning parameter the wire takes (``thinking``, ``reasoning_effort``).
    reasoning_param: ClassVar[str | None] = None
    #: The well-known provider parameters of the wire (:mod:`router.providers.extra_params`):
    #: what a spec may name under ``extra_params`` without giving a type.
    extra_params: ClassVar[Mapping[str, ExtraParam]] = MappingProxyType({})

    @classmethod
    def profile(cls) -> RequestProfile:
        """The quirks the request builder needs, as one immutable value."""
        return RequestProfile(
            cls.requires_max_tokens,
            cls.supports_penalties,
            cls.cache_read_multiple,
            cls.cache_write_multiple,
            cls.reasoning_param,
        )

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.settings!r})"

    def prepare(self) -> None:  # noqa: B027 - an adapter with nothing slow to do does nothing
        """Does the slow one-time work now (imports, client construction), so that no call
        does it, on an event loop least of all. The Router calls it when it is built; an
        adapter that is never prepared does the work on first use."""

    @abc.abstractmethod
    def complete(self, request: Request) -> Response: ...

    @abc.abstractmethod
    async def acomplete(self, request: Request) -> Response: ...

    @abc.abstractmethod
    def stream(self, request: Request) -> Iterator[Chunk]: ...

    @abc.abstractmethod
    def astream(self, request: Request) -> AsyncGenerator[Chunk, None]: ...

    @abc.abstractmethod
    def list_models(self) -> list[str]: ...

    @abc.abstractmethod
    async def alist_models(self) -> list[str]: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    @abc.abstractmethod
    async def aclose(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
