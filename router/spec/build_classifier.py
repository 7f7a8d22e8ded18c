"""The builder of the ``classifier`` section (one of :data:`router.spec.build.BUILDERS`)."""

from __future__ import annotations

import hashlib
import json
from types import MappingProxyType
from typing import Any

from router.specmodel import ClassifierSpec, Defaults

__all__ = ["classifier"]


def classifier(value: Any, defaults: Defaults) -> ClassifierSpec | None:
    """The section with its examples already read (:mod:`router.spec.examples`: ``examples``
    is then a mapping of label to texts, and ``examples_file`` where they came from)."""
    if not value:
        return None
    labels = tuple(value["labels"])
    examples = {label: tuple(value["examples"].get(label, ())) for label in labels}
    backend, seed = value.get("backend", "tfidf"), value.get("seed", 0)
    learned = json.dumps([labels, [examples[k] for k in labels], backend, seed])
    return ClassifierSpec(
        labels=labels,
        fallback=value["fallback"],
        examples=MappingProxyType(examples),
        backend=backend,
        threshold=float(value.get("threshold", 0.5)),
        seed=seed,
        input=value.get("input", "last_user"),
        examples_file=value.get("examples_file"),
        fingerprint=hashlib.sha256(learned.encode()).hexdigest()[:16],
    )
