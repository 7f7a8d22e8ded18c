"""The adapters' boundary: every error leaves an adapter detached (no ``__cause__``, no
``__context__``), raised outside the ``except`` block that made it, so no SDK exception (whose
request holds the key) rides along in a traceback. One wrapper per kind of method: sync and
async calls, sync and async streams."""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Iterator
from typing import Any, ParamSpec, TypeVar

from router.errors import RouterError
from router.providers import _errors

_P = ParamSpec("_P")
_T = TypeVar("_T")


def detach(method: Callable[_P, _T]) -> Callable[_P, _T]:
    @functools.wraps(method)
    def call(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return method(*args, **kwargs)
        except RouterError as exc:
            error = exc
        raise _errors.detached(error)

    return call


def adetach(
    method: Callable[_P, Awaitable[_T]],
) -> Callable[_P, Coroutine[Any, Any, _T]]:
    @functools.wraps(method)
    async def call(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return await method(*args, **kwargs)
        except RouterError as exc:
            error = exc
        raise _errors.detached(error)

    return call


def detach_stream(method: Callable[_P, Iterator[_T]]) -> Callable[_P, Iterator[_T]]:
    @functools.wraps(method)
    def call(*args: _P.args, **kwargs: _P.kwargs) -> Iterator[_T]:
        try:
            yield from method(*args, **kwargs)
            return
        except RouterError as exc:
            error = exc
        raise _errors.detached(error)

    return call


def adetach_stream(
    method: Callable[_P, AsyncGenerator[_T, None]],
) -> Callable[_P, AsyncGenerator[_T, None]]:
    @functools.wraps(method)
    async def call(*args: _P.args, **kwargs: _P.kwargs) -> AsyncGenerator[_T, None]:
        items = method(*args, **kwargs)
        try:
            while True:
                try:
                    item = await anext(items)
                except StopAsyncIteration:
                    return
                except RouterError as exc:
                    error = exc
                    break
                yield item
        finally:
            await items.aclose()
        raise _errors.detached(error)

    return call
