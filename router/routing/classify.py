"""The task classifier, in pure code: what a trained classifier answers (:class:`Classifier`),
the text it reads from a request, and the decision made from its scores (:func:`decide`):
the best label, or an abstention below the threshold, and the task the request goes to.

```
messages ─▶ text_to_classify ─▶ Classifier.scores(text) ─▶ decide ─▶ Classification
                                   (one per label, sum 1)             label or abstain → task
```

A label names a task (the request goes there) or an intent that rules match with
``when: {label: ...}`` (the request goes to the fallback task unless a rule routes it). The
backends (:mod:`router.routing.classifiers`) are trained once, when the Router is built.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from router.routing.content import RequestText
from router.specmodel import AUTO_TASK, ClassifierInput, ClassifierSpec, Spec
from router.types import Message

__all__ = [
    "Classification",
    "Classifier",
    "abstain",
    "classification_to_dict",
    "decide",
    "format_classification",
    "text_to_classify",
    "wants_classifier",
]

#: How many labels ``router explain`` lists.
SHOWN = 3
#: The most characters classified: a longer text is read as its first and last halves of
#: this (a request's instruction is nearly always at one end), so a 1 MB prompt costs what a
#: short one does (the tfidf backend runs on the event loop; the embeddings backend reads
#: 256 tokens, about this many characters, anyway).
MAX_CHARS = 1000


class Classifier(Protocol):
    """A trained classifier. ``scores(text)`` gives one probability per label (in the order
    of ``labels``, summing to 1); the same classifier gives the same scores for the same text.
    ``inline``: one call costs well under a millisecond, so the async driver runs it on the
    event loop instead of in a thread."""

    backend: str
    labels: tuple[str, ...]
    inline: bool

    def scores(self, text: str) -> Sequence[float]: ...


@dataclass(frozen=True, slots=True)
class Classification:
    """What the classifier decided for one request. ``label`` is None when it abstained
    (``reason`` says why); ``ranked`` is every label with its score, best first."""

    task: str
    label: str | None
    confidence: float
    ranked: tuple[tuple[str, float], ...]
    threshold: float
    backend: str
    reason: str | None = None

    @property
    def abstained(self) -> bool:
        return self.label is None


def wants_classifier(spec: Spec, task: str | None) -> bool:
    """Whether a call naming ``task`` asks to be classified: no task, or ``auto`` where the
    spec has a classifier and no task of that name (without a classifier, ``auto`` is a task
    name like any other: a ``default`` task serves it)."""
    if task is None:
        return True
    return task == AUTO_TASK and spec.classifier is not None and AUTO_TASK not in spec.tasks


def text_to_classify(messages: Sequence[Message], mode: ClassifierInput) -> str:
    """The text the classifier reads: the last user message's (``last_user``), or every
    message's text, one after another (``all``); past :data:`MAX_CHARS`, its two ends (read
    as content rules read a scope: :class:`~router.routing.content.RequestText`)."""
    return "\n".join(RequestText(messages).scanned(mode, MAX_CHARS).pieces)


def abstain(
    spec: ClassifierSpec, reason: str, ranked: Sequence[tuple[str, float]] = ()
) -> Classification:
    """The request goes to the fallback task, for ``reason``."""
    confidence = ranked[0][1] if ranked else 0.0
    return Classification(
        task=spec.fallback,
        label=None,
        confidence=confidence,
        ranked=tuple(ranked),
        threshold=spec.threshold,
        backend=spec.backend,
        reason=reason,
    )


def decide(
    spec: ClassifierSpec, tasks: Collection[str], labels: Sequence[str], scores: Sequence[float]
) -> Classification:
    """The best label when its score reaches the threshold (the task it names, else the
    fallback, which rules matching the label may override), else an abstention. Ties go to
    the label listed first. Scores are rounded to 4 places, so what ``explain`` and golden
    tests show is what was decided."""
    ranked = sorted(
        ((label, round(float(s), 4)) for label, s in zip(labels, scores, strict=True)),
        key=lambda pair: -pair[1],
    )
    best, confidence = ranked[0]
    if confidence < spec.threshold:
        return abstain(
            spec, f"best score {confidence:.3f} is below the threshold {spec.threshold:g}", ranked
        )
    return Classification(
        task=best if best in tasks else spec.fallback,
        label=best,
        confidence=confidence,
        ranked=tuple(ranked),
        threshold=spec.threshold,
        backend=spec.backend,
    )


def format_classification(c: Classification) -> list[str]:
    """The decision in words, for ``router explain`` and ``router classify``."""
    if c.label is None:
        head = f"abstained ({c.reason}) → fallback task '{c.task}'"
    else:
        goes = "its task" if c.task == c.label else f"task '{c.task}'"
        head = f"'{c.label}' ({c.confidence:.3f} ≥ threshold {c.threshold:g}) → {goes}"
    lines = [f"classified: {head}; backend {c.backend}"]
    lines += [f"  {label:<18} {score:.3f}" for label, score in c.ranked[:SHOWN]]
    if len(c.ranked) > SHOWN:
        lines.append(f"  ... {len(c.ranked) - SHOWN} more labels")
    return lines


def classification_to_dict(c: Classification) -> dict[str, Any]:
    return {
        "backend": c.backend,
        "label": c.label,
        "confidence": c.confidence,
        "threshold": c.threshold,
        "abstained": c.abstained,
        "reason": c.reason,
        "task": c.task,
        "top": [{"label": label, "score": score} for label, score in c.ranked],
    }
