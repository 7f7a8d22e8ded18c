"""An embedding call's arguments: the texts to embed and the few parameters that apply, checked
before anything is sent, then planned as any call (:func:`router.routing.call.prepare_call`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from router.errors import RequestError
from router.messages import check_text
from router.routing.call import Call, ParamsFor, prepare_call
from router.routing.plan import MATCH, RuleChoice
from router.specmodel import ModelSpec, Spec
from router.types import Embeddings, Message, Response

__all__ = ["EMBED_PARAMS", "embed_texts", "embeddings_of", "prepare_embed"]

#: What an embedding call accepts besides its input and ``dimensions``.
EMBED_PARAMS = frozenset({"metadata", "tags", "timeout", "cache", "tenant", "session"})


def embed_texts(value: object) -> tuple[str, ...]:
    """``input``: one string, or a non-empty list of strings (each non-empty)."""
    if isinstance(value, str):
        items: list[object] = [value]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise RequestError(
            f"input: expected a string or a list of strings, got {type(value).__name__}",
            argument="input",
        )
    if not items:
        raise RequestError("input: the list is empty; pass at least one text", argument="input")
    texts = []
    for i, item in enumerate(items):
        text = check_text(item, "input" if isinstance(value, str) else f"input[{i}]")
        if not text:
            raise RequestError(f"input[{i}]: an empty string cannot be embedded", argument="input")
        texts.append(text)
    return tuple(texts)


def _dimensions(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RequestError(
            f"dimensions: expected a whole number of 1 or more, got {value!r}",
            argument="dimensions",
        )
    return value


def prepare_embed(
    spec: Spec,
    task: str,
    input: object,
    dimensions: object,
    params: Mapping[str, Any],
    *,
    unavailable: Callable[[ModelSpec], str | None],
    params_for: ParamsFor | None = None,
    latency: Callable[[ModelSpec], float | None] | None = None,
    rule: RuleChoice = MATCH,
) -> Call:
    """The checked and planned embedding call; RequestError for anything invalid, a task of
    chat models included, before anything is sent. ``rule`` as :func:`prepare_call`'s."""
    unknown = sorted(params.keys() - EMBED_PARAMS)
    if unknown:
        raise RequestError(
            f"embed() does not take {', '.join(unknown)}; accepted: input, dimensions, "
            f"{', '.join(sorted(EMBED_PARAMS))}",
            argument=unknown[0],
        )
    texts = embed_texts(input)
    size = _dimensions(dimensions)
    # One user message holding every text: what limits, budgets and plans estimate from.
    messages: Iterable[Message] = (Message("user", "\n".join(texts)),)
    return prepare_call(
        spec,
        task,
        messages,
        None,
        params,
        stream=False,
        unavailable=unavailable,
        params_for=params_for,
        latency=latency,
        embed=texts,
        dimensions=size,
        rule=rule,
    )


def embeddings_of(response: Response) -> Embeddings:
    """The engine's Response to an embedding call as the Embeddings it returns."""
    return Embeddings(
        vectors=response.vectors,
        model=response.model,
        model_id=response.model_id,
        provider=response.provider,
        usage=response.usage,
        cost=response.cost,
        latency_s=response.latency_s,
        cached=response.cached,
        attempts=response.attempts,
        deployment=response.deployment,
    )
