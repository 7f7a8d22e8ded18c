"""Which rule a request is planned under: the first whose ``when`` holds (its text read last,
within its bound: :mod:`router.routing.content`), or a rule given (a call its hooks rewrote
is planned again under the rule its caller's request matched). No I/O."""

from __future__ import annotations

from enum import Enum

from router.routing.content import TextMatch, match_text
from router.routing.features import Features
from router.specmodel import RuleSpec, Spec

__all__ = ["MATCH", "RuleChoice", "choose_rule"]


class _Match(Enum):
    MATCH = "match"


#: ``make_plan(rule=MATCH)``: the first rule whose conditions hold (the default).
MATCH = _Match.MATCH
#: What ``make_plan`` plans under: MATCH, or a given rule (None: no rule).
RuleChoice = RuleSpec | None | _Match


def choose_rule(
    spec: Spec, f: Features, choice: RuleChoice = MATCH
) -> tuple[RuleSpec | None, TextMatch | None]:
    """The rule to plan under, and what its text condition found (None: it has none, or the
    rule was given rather than matched). With MATCH, the first rule whose ``when`` holds: the
    text is read last, and only for rules whose other conditions hold."""
    if not isinstance(choice, _Match):
        return choice, None
    for rule in spec.rules:
        if not _rule_matches(rule, f):
            continue
        if rule.when.text is None:
            return rule, None
        found = match_text(rule.when.text, f.text)
        if found is not None:
            return rule, found
    return None, None


def _rule_matches(rule: RuleSpec, f: Features) -> bool:
    """Whether the conditions of ``rule`` other than its text hold."""
    w = rule.when
    if w.tasks is not None and f.task not in w.tasks:
        return False
    if w.min_input_tokens is not None and f.input_tokens < w.min_input_tokens:
        return False
    if w.max_input_tokens is not None and f.input_tokens > w.max_input_tokens:
        return False
    if not w.capabilities <= f.capabilities:
        return False
    if not w.tags <= f.tags:
        return False
    if w.labels is not None or w.min_confidence is not None:
        c = f.classification
        if c is None or c.label is None:
            return False
        if w.labels is not None and c.label not in w.labels:
            return False
        if w.min_confidence is not None and c.confidence < w.min_confidence:
            return False
    return all(
        key in f.metadata and f.metadata[key] in allowed for key, allowed in w.metadata.items()
    )
