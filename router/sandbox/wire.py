"""What the server needs from each provider's wire format, and shared helpers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from .answer import Api, Completion, Prompt
from .http11 import Headers, dumps


class WireError(Exception):
    """A provider-shaped error response: status, JSON body and extra headers."""

    def __init__(self, status: int, body: dict[str, Any], headers: Headers = ()) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = list(headers)


@dataclass
class StreamPlan:
    """SSE events split so faults can cut between the preamble, content and terminal parts."""

    preamble: list[bytes] = field(default_factory=list)
    content: list[bytes] = field(default_factory=list)
    terminal: list[bytes] = field(default_factory=list)

    @property
    def events(self) -> list[bytes]:
        return self.preamble + self.content + self.terminal


def sse_data(obj: Any) -> bytes:
    return b"data: " + dumps(obj) + b"\n\n"


def sse_event(name: str, obj: Any) -> bytes:
    return b"event: " + name.encode() + b"\n" + sse_data(obj)


class Wire(Protocol):
    api: Api

    def check_auth(self, headers: Mapping[str, str], api_key: str | None) -> None:
        """Raise WireError when the credentials (or mandatory headers) are unacceptable."""

    def parse(self, body: Any) -> Prompt:
        """Validate a request body like the real API does; raise WireError if it would."""

    def render(self, completion: Completion, prompt: Prompt) -> dict[str, Any]: ...

    def stream(self, completion: Completion, prompt: Prompt) -> StreamPlan: ...

    def status_error(
        self,
        status: int,
        model: str,
        *,
        quota: bool = False,
        credential: str | None = None,
        echo: bool = False,
    ) -> WireError:
        """The provider's error for ``status``. ``credential`` is the key the client sent: an
        auth error quotes it as the provider does (masked, or not at all), or whole with
        ``echo``."""

    def context_error(self, prompt: Prompt) -> WireError: ...

    def filter_error(self) -> WireError: ...

    def invalid(self, message: str) -> WireError: ...

    def stream_error_event(self, status: int) -> bytes: ...

    def id_headers(self, request_id: str) -> Headers: ...

    def models_body(self, ids: list[str], created: int) -> dict[str, Any]: ...


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key the client sent: ``x-api-key``, Azure's ``api-key`` or a Bearer token."""
    return headers.get("x-api-key") or headers.get("api-key") or bearer_token(headers) or None


def bearer_token(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization")
    if value is None:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""
