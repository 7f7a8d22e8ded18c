"""A rule's ``when`` built from checked data: its conditions on the task, size, capabilities,
metadata, tags, the classifier's label and confidence, and the text (keywords cut into words,
patterns compiled once)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from router.spec.regexcheck import examine
from router.specmodel import DEFAULT_MAX_CHARS, Keyword, RuleWhen, TextCondition, frozen_map

__all__ = ["listed", "rule_when", "text_condition"]


def rule_when(w: Mapping[str, Any]) -> RuleWhen:
    task_names = w.get("task")
    return RuleWhen(
        tasks=frozenset([task_names] if isinstance(task_names, str) else task_names)
        if task_names is not None
        else None,
        min_input_tokens=w.get("min_input_tokens"),
        max_input_tokens=w.get("max_input_tokens"),
        capabilities=frozenset(w.get("capabilities", ())),
        metadata=frozen_map(
            {
                k: tuple(v) if isinstance(v, list) else (v,)
                for k, v in (w.get("metadata") or {}).items()
            }
        ),
        tags=frozenset(w.get("tags", ())),
        labels=frozenset(listed(w["label"])) if "label" in w else None,
        min_confidence=w.get("min_confidence"),
        text=text_condition(w["text"]) if "text" in w else None,
    )


def listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or ())


def text_condition(t: Mapping[str, Any]) -> TextCondition:
    """A checked ``when.text``: keywords cut into words, patterns compiled (each passed
    :func:`examine`, whose cache makes this the second and free look)."""
    patterns = []
    for source in listed(t.get("regex")):
        compiled = examine(source).pattern
        assert compiled is not None, "a refused pattern reached the builder"
        patterns.append(compiled)
    return TextCondition(
        any=tuple(Keyword.of(k) for k in listed(t.get("any"))),
        all=tuple(Keyword.of(k) for k in listed(t.get("all"))),
        regex=tuple(patterns),
        scope=t.get("in", "last_user"),
        max_chars=t.get("max_chars", DEFAULT_MAX_CHARS),
    )
