"""The node interface: every layer of a model's stack answers the same four calls.

A target's stack is built once, at compile time: cache → breaker → limiter → adapter node
(:mod:`router.nodes.adapter`). Each node is one :class:`Node`; each but the innermost is a
:class:`Wrapper` holding the next one in ``wrapped`` and forwarding to it (the shape of an
httpx transport, or of an ASGI middleware holding ``app``). ``router graph`` and
``Router.health()`` read a stack through :func:`walk`, :meth:`Node.describe` and
:meth:`Node.health`, never by probing attributes.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from typing import Protocol

from router.types import Chunk, Request, Response

__all__ = ["Node", "NodeHealth", "Wrapper", "walk"]

#: What a node with state adds to its model's entry in ``Router.health()`` (JSON values).
NodeHealth = dict[str, object]


class Node(Protocol):
    """One layer of a target's stack. ``stream``/``astream`` are lazy: nothing is sent before
    the first chunk is asked for. Failures leave a node only as
    :class:`~router.errors.ProviderError` subclasses (or the caller's deadline)."""

    def complete(self, request: Request) -> Response: ...

    async def acomplete(self, request: Request) -> Response: ...

    def stream(self, request: Request) -> Iterator[Chunk]: ...

    def astream(self, request: Request) -> AsyncGenerator[Chunk, None]: ...

    def describe(self) -> str:
        """The node in a few words, for ``router graph`` (``breaker(closed)``)."""
        ...

    def health(self) -> NodeHealth:
        """What this node's state says about its model, for ``Router.health()``; empty for a
        node without state."""
        ...


class Wrapper:
    """A node over another: holds ``wrapped`` and forwards every call to it. A subclass
    overrides the calls it acts on (all four, for the nodes of this package)."""

    __slots__ = ("wrapped",)

    def __init__(self, wrapped: Node) -> None:
        self.wrapped = wrapped

    def complete(self, request: Request) -> Response:
        return self.wrapped.complete(request)

    async def acomplete(self, request: Request) -> Response:
        return await self.wrapped.acomplete(request)

    def stream(self, request: Request) -> Iterator[Chunk]:
        return self.wrapped.stream(request)

    def astream(self, request: Request) -> AsyncGenerator[Chunk, None]:
        return self.wrapped.astream(request)

    def describe(self) -> str:
        return type(self).__name__

    def health(self) -> NodeHealth:
        return {}


def walk(node: Node) -> Iterator[Node]:
    """The stack from ``node`` down: ``node``, what it wraps, and so on to the innermost."""
    current: Node | None = node
    while current is not None:
        yield current
        current = current.wrapped if isinstance(current, Wrapper) else None
