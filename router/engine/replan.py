"""A call its ``before`` hooks rewrote, checked and planned again (:func:`replanner`): as any
call, under the rule the caller's request matched, so a hook cannot move a request out of a
rule's confinement."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from router.errors import RequestError
from router.routing.call import Call, ParamsFor, prepare_call
from router.routing.embed import prepare_embed
from router.specmodel import ModelSpec, Spec
from router.types import Message

__all__ = ["Replan", "embed_texts_of", "replanner"]

#: Checks and plans a call again with the messages and keyword arguments its hooks left.
Replan = Callable[[Call, Sequence[Any], dict[str, Any]], Call]


def embed_texts_of(messages: Sequence[Any]) -> tuple[str, ...]:
    """An embedding call's texts from the messages its hooks left: one user message each."""
    texts = []
    for i, m in enumerate(messages):
        content = m.content if isinstance(m, Message) else None
        if not isinstance(content, str):
            raise RequestError(
                f"input[{i}]: expected a user message with text (an embedding's input is text)",
                argument="input",
            )
        texts.append(content)
    return tuple(texts)


def replanner(
    spec: Spec,
    unavailable: Callable[[ModelSpec], str | None],
    params_for: ParamsFor,
    latency: Callable[[ModelSpec], float | None],
) -> Replan:
    """How a call its hooks rewrote is checked and planned again: as any call, under the rule
    the caller's request matched (never a rule that would let it reach other models)."""

    def replan(call: Call, messages: Sequence[Any], params: dict[str, Any]) -> Call:
        plan = call.plan
        if call.embed is not None:
            return prepare_embed(
                spec,
                plan.requested_task,
                embed_texts_of(messages),
                call.dimensions,
                params,
                unavailable=unavailable,
                params_for=params_for,
                latency=latency,
                rule=plan.rule,
            )
        return prepare_call(
            spec,
            plan.requested_task,
            messages,
            None,
            params,
            stream="streaming" in plan.features.capabilities,
            unavailable=unavailable,
            params_for=params_for,
            latency=latency,
            rule=plan.rule,
        )

    return replan
