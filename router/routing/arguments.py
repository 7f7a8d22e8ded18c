"""Every per-call argument checked before anything is sent.

:func:`check_params` is what :func:`router.routing.call.prepare_call` runs on the keyword
arguments of ``complete``/``stream``/``acomplete``/``astream``/``explain``; the messages
themselves are checked while they are coerced (:func:`router.messages.coerce_messages`). Each
problem is one :class:`~router.errors.RequestError` whose ``argument`` names the argument
(``temperature``, ``tools[0].function.parameters``) and whose message says what is allowed.

The generation parameters follow the spec's own ``params`` rules (``$defs.params`` in
``routes.schema.json``; a test keeps the two in step), plus what JSON Schema cannot say: no
NaN or infinity, no ``True`` where a number is meant, seeds that fit in 64 bits.

This runs on every call, so the common case is a few ``type(...) is`` tests; the only costly
check, a tool's or a response format's JSON Schema against the metaschema, is done once per
distinct schema (remembered by its JSON text).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from numbers import Integral, Real
from typing import Any

from router.errors import RequestError
from router.messages import check_text, shown
from router.routing import arguments_tools
from router.types import ToolDefinition

__all__ = [
    "NUMBER_RULES",
    "CheckedParams",
    "check_params",
]

#: name -> (integer?, lowest, highest): the spec schema's ``$defs.params`` ranges, and for
#: ``seed`` the signed 64-bit range the providers take.
NUMBER_RULES: dict[str, tuple[bool, float | None, float | None]] = {
    "temperature": (False, 0, 2),
    "top_p": (False, 0, 1),
    "presence_penalty": (False, -2, 2),
    "frequency_penalty": (False, -2, 2),
    "max_tokens": (True, 1, None),
    "seed": (True, -(2**63), 2**63 - 1),
}
MAX_STOP = 4  # stop sequences: OpenAI takes at most 4
MAX_TENANT = 256


def _bad(where: str, problem: str) -> RequestError:
    return RequestError(f"{where}: {problem}", argument=where)


def _span(lo: float | None, hi: float | None, integer: bool) -> str:
    kind = "an integer" if integer else "a finite number"
    if lo is not None and hi is not None:
        return f"{kind} from {lo:g} to {hi:g}"
    return f"{kind} >= {lo:g}" if lo is not None else kind


def check_number(name: str, value: object) -> int | float:
    """A generation parameter as a plain ``int``/``float`` within :data:`NUMBER_RULES`."""
    integer, lo, hi = NUMBER_RULES[name]
    kind = type(value)
    if kind is float or kind is int:
        number: Any = value
    elif isinstance(value, bool) or not isinstance(value, Real):
        raise _bad(name, f"{shown(value)} is not a number; expected {_span(lo, hi, integer)}")
    elif isinstance(value, Integral):
        number = int(value)  # numpy and friends: plain ints, so the body serialises
    else:
        number = float(value)
    if integer and type(number) is not int:
        raise _bad(name, f"{shown(value)} is not an integer; expected {_span(lo, hi, integer)}")
    if (
        math.isnan(number)
        or (lo is not None and number < lo)
        or (hi is not None and number > hi)
        or (type(number) is float and not math.isfinite(number))
    ):
        raise _bad(name, f"{shown(number)} is out of range; expected {_span(lo, hi, integer)}")
    return number  # type: ignore[no-any-return]


def _strings(
    name: str, value: object, containers: tuple[type, ...], most: int | None, what: str
) -> tuple[str, ...]:
    """One non-empty string, or a list of at most ``most`` of them."""
    if (
        type(value) is list
        and (most is None or len(value) <= most)
        and all(type(v) is str and v and v.isascii() for v in value)
    ):
        return tuple(value)  # the common case, settled
    items: Any = (value,) if isinstance(value, str) else value
    ok = isinstance(items, containers)
    out: tuple[Any, ...] = tuple(items) if ok else ()
    if not ok or (most is not None and len(out) > most):
        limit = f"up to {most}" if most is not None else "a list"
        raise _bad(name, f"{shown(value)} is not a {what} string or {limit} of them")
    for i, item in enumerate(out):
        at = name if isinstance(value, str) else f"{name}[{i}]"
        if not check_text(item, at):
            raise _bad(at, f"a {what} cannot be empty")
    return out


def _stop(value: object) -> tuple[str, ...]:
    return _strings("stop", value, (list, tuple), MAX_STOP, "stop sequence")


def _timeout(value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, Real)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise _bad("timeout", f"{shown(value)} is not a number of seconds > 0 (and finite)")
    return float(value)


def _plain_scalar(key: object, item: object) -> bool:
    """The common metadata entry: ASCII text keys and values, ints, bools."""
    kind = type(item)
    return (
        type(key) is str
        and key.isascii()
        and bool(key)
        and ((kind is str and item.isascii()) or kind is int or kind is bool)  # type: ignore[attr-defined]
    )


def _metadata(value: object) -> Mapping[str, str | int | float | bool]:
    if type(value) is dict and all(_plain_scalar(k, v) for k, v in value.items()):
        return value
    if not isinstance(value, Mapping):
        raise _bad("metadata", f"{shown(value)} is not a mapping of string keys to scalar values")
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise _bad("metadata", f"key {shown(key)} is not a non-empty string")
        where = f"metadata[{key!r}]"
        check_text(key, where)
        if isinstance(item, str):
            check_text(item, where)
        elif not isinstance(item, bool | int | float) or (
            type(item) is float and not math.isfinite(item)
        ):
            raise _bad(where, f"{shown(item)} is not a string, a finite number or a bool")
    return value


def _tags(value: object) -> tuple[str, ...]:
    return _strings("tags", value, (list, tuple, set, frozenset), None, "tag")


def _tenant(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_TENANT:
        raise _bad("tenant", f"{shown(value)} is not a string of 1 to {MAX_TENANT} characters")
    if not value.isprintable():
        raise _bad("tenant", "contains control or unencodable characters")
    return value


def _session(value: object) -> str:
    """A sticky-routing key: any printable string (a conversation id, a hash of a prompt
    prefix), kept in memory only, never logged."""
    if not isinstance(value, str) or not value or len(value) > MAX_TENANT:
        raise _bad("session", f"{shown(value)} is not a string of 1 to {MAX_TENANT} characters")
    if not value.isprintable():
        raise _bad("session", "contains control or unencodable characters")
    return value


#: OpenAI's ``reasoning_effort`` values (the openai SDK's ``ReasoningEffort``).
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
_THINKING_KEYS = {"enabled": {"type", "budget_tokens", "display"}, "adaptive": {"type", "display"}}
_THINKING_HELP = (
    "use {'type': 'enabled', 'budget_tokens': N} (N >= 1024, below max_tokens), "
    "{'type': 'adaptive'} or {'type': 'disabled'}"
)
MIN_THINKING_BUDGET = 1024


def _thinking(value: object) -> Mapping[str, Any]:
    """Anthropic's extended thinking setting, as its API takes it."""
    kind = value.get("type") if isinstance(value, Mapping) else None
    if kind not in ("enabled", "adaptive", "disabled"):
        raise _bad("thinking", f"{shown(value)} is not a thinking setting; {_THINKING_HELP}")
    assert isinstance(value, Mapping)
    extra = set(value) - _THINKING_KEYS.get(kind, {"type"})
    if extra:
        raise _bad("thinking", f"unknown key {sorted(extra)[0]!r} for type {kind!r}")
    if kind == "enabled":
        budget = value.get("budget_tokens")
        if type(budget) is not int or budget < MIN_THINKING_BUDGET:
            raise _bad(
                "thinking.budget_tokens",
                f"{shown(budget)} is not an integer >= {MIN_THINKING_BUDGET}; {_THINKING_HELP}",
            )
    if value.get("display", "summarized") not in ("summarized", "omitted"):
        raise _bad("thinking.display", f"{shown(value['display'])} is not summarized or omitted")
    return dict(value)


def _reasoning_effort(value: object) -> str:
    if value not in REASONING_EFFORTS:
        raise _bad(
            "reasoning_effort",
            f"{shown(value)} is not one of {', '.join(REASONING_EFFORTS)}",
        )
    assert isinstance(value, str)
    return value


def _cache(value: object) -> bool:
    if not isinstance(value, bool):
        raise _bad("cache", f"{shown(value)} is not True or False")
    return value


# --- all of them ------------------------------------------------------------------------------


class CheckedParams:
    """The per-call arguments, checked and normalised (plain ints and floats, tuples)."""

    __slots__ = (
        "cache",
        "frequency_penalty",
        "json_output",
        "max_tokens",
        "metadata",
        "presence_penalty",
        "reasoning_effort",
        "response_format",
        "seed",
        "session",
        "stop",
        "tags",
        "temperature",
        "tenant",
        "thinking",
        "timeout",
        "tool_choice",
        "tools",
        "top_p",
    )

    def __init__(self) -> None:
        self.temperature: float | None = None
        self.max_tokens: int | None = None
        self.top_p: float | None = None
        self.stop: tuple[str, ...] | None = None
        self.seed: int | None = None
        self.presence_penalty: float | None = None
        self.frequency_penalty: float | None = None
        self.tools: tuple[ToolDefinition, ...] = ()
        self.tool_choice: Any = None
        self.response_format: Mapping[str, Any] | None = None
        self.json_output = False
        self.metadata: Mapping[str, Any] | None = None
        self.tags: tuple[str, ...] = ()
        self.timeout: float | None = None
        self.cache = True
        self.tenant: str | None = None
        self.session: str | None = None
        self.thinking: Mapping[str, Any] | None = None
        self.reasoning_effort: str | None = None


_SIMPLE: dict[str, Callable[[Any], Any]] = {
    "stop": _stop,
    "timeout": _timeout,
    "metadata": _metadata,
    "tags": _tags,
    "tenant": _tenant,
    "session": _session,
    "cache": _cache,
    "thinking": _thinking,
    "reasoning_effort": _reasoning_effort,
}


def check_params(params: Mapping[str, Any]) -> CheckedParams:
    """Every per-call argument in ``params`` (already known to be accepted names) checked;
    ``None`` means "not given" for each of them. Provider parameters are left to
    :func:`router.routing.extras.check_extras`."""
    out = CheckedParams()
    for name, value in params.items():
        if value is None or name in ("tools", "tool_choice"):
            continue
        if name in NUMBER_RULES:
            setattr(out, name, check_number(name, value))
        elif name == "response_format":
            out.response_format = arguments_tools.response_format(value)
            out.json_output = value.get("type") != "text"
        elif (check := _SIMPLE.get(name)) is not None:
            setattr(out, name, check(value))
    tools = params.get("tools")
    if tools is not None:
        out.tools = arguments_tools.tools(tools)
    choice = params.get("tool_choice")
    if choice is not None:
        out.tool_choice = arguments_tools.tool_choice(choice, out.tools)
    budget = (out.thinking or {}).get("budget_tokens")
    if budget is not None and out.max_tokens is not None and out.max_tokens <= budget:
        raise _bad(
            "max_tokens",
            f"{out.max_tokens} must be above thinking.budget_tokens ({budget}): thinking "
            "tokens count toward max_tokens",
        )
    return out


def check_prompt(prompt: object) -> str:
    return check_text(prompt, "prompt")
