"""The canary detector: every string reachable from an exception (its chain, args, notes,
attributes, group members, attempts) and what a traceback or ``logging.exception`` prints."""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import traceback
import types
from collections.abc import Iterable, Iterator, Mapping

_OPAQUE = (
    type(None),
    bool,
    int,
    float,
    complex,
    type,
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.CodeType,
    types.FrameType,
    types.TracebackType,
)


class Canary:
    """Secrets that must never show: whole, in any 8-character slice, or as a SHA-256."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = tuple(secrets)
        self._slices = {s[i : i + 8] for s in self.secrets for i in range(len(s) - 7)}
        self._digests = {hashlib.sha256(s.encode()).hexdigest()[:16] for s in self.secrets}

    def found_in(self, text: str) -> list[str]:
        return sorted(
            {s for s in self._slices if s in text} | {d for d in self._digests if d in text}
        )


def strings_in(root: object, *, max_depth: int = 8, max_nodes: int = 50_000) -> Iterator[str]:
    """Every string reachable from ``root``: for exceptions their repr and str, ``__cause__``,
    ``__context__`` (whatever ``__suppress_context__`` says), ``args``, ``__notes__``, group
    members and every attribute; for other objects their repr, items and attributes (also
    slots), recursively."""
    seen: set[int] = set()
    stack: list[tuple[object, int]] = [(root, 0)]
    while stack and len(seen) < max_nodes:
        obj, depth = stack.pop()
        if id(obj) in seen or depth > max_depth or isinstance(obj, _OPAQUE):
            continue
        seen.add(id(obj))
        if isinstance(obj, str):
            yield obj
            continue
        if isinstance(obj, bytes | bytearray | memoryview):
            yield bytes(obj).decode("utf-8", "replace")
            continue
        children: list[object] = []
        with contextlib.suppress(Exception):  # a half-built object: its parts are still walked
            yield repr(obj)
        if isinstance(obj, BaseException):
            yield str(obj)
            children += [obj.__cause__, obj.__context__, *obj.args]
            children += list(getattr(obj, "__notes__", ()))
            if isinstance(obj, BaseExceptionGroup):
                children += list(obj.exceptions)
        if isinstance(obj, Mapping):
            with contextlib.suppress(Exception):
                children += [x for kv in obj.items() for x in kv]
        elif isinstance(obj, list | tuple | set | frozenset):
            children += list(obj)
        children += list(getattr(obj, "__dict__", {}).values())
        for cls in type(obj).__mro__:
            for name in getattr(cls, "__slots__", ()):
                if not name.startswith("__"):
                    children.append(getattr(obj, name, None))
        stack += [(child, depth + 1) for child in children]


def formatted(exc: BaseException) -> str:
    """What ``traceback.format_exception`` prints for ``exc``."""
    return "".join(traceback.format_exception(exc))


def with_locals(exc: BaseException) -> str:
    """The traceback with every frame's local variables (what error trackers and
    ``capture_locals=True`` show)."""
    te = traceback.TracebackException.from_exception(exc, capture_locals=True)
    return "".join(te.format())


def logged(exc: BaseException) -> str:
    """What ``logging.exception`` prints for ``exc`` with the standard formatter."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logger = logging.getLogger("tests.canary")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.exception("the request failed", exc_info=exc)
    finally:
        logger.removeHandler(handler)
    return out.getvalue()


def leaks(
    canary: Canary, exc: BaseException, *extra: str, frame_locals: bool = True
) -> dict[str, list[str]]:
    """Where the canary shows: in the exception's object graph, its formatted traceback (with
    each frame's locals too, unless ``frame_locals`` is False), its ``logging.exception``
    output, or the ``extra`` texts (captured logs...)."""
    places = {
        "object graph": "\n".join(strings_in(exc)),
        "format_exception": formatted(exc),
        "logging.exception": logged(exc),
        **{f"extra[{i}]": text for i, text in enumerate(extra)},
    }
    if frame_locals:
        places["capture_locals"] = with_locals(exc)
    return {where: found for where, text in places.items() if (found := canary.found_in(text))}
