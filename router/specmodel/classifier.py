"""The ``classifier`` section: labels, their examples, the backend that learns them, and the
confidence below which a request goes to the fallback task instead (it abstains)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from router.specmodel.policies import _EMPTY

ClassifierBackend = Literal["tfidf", "embeddings"]
#: What text is classified: the last user message (default), or every message's text.
ClassifierInput = Literal["last_user", "all"]

#: The fewest examples a label may have (``router validate`` refuses fewer).
MIN_EXAMPLES = 5

#: The name a call gives for "classify me": ``task="auto"`` (or no task at all).
AUTO_TASK = "auto"


@dataclass(frozen=True, slots=True)
class ClassifierSpec:
    """A trained-at-start text classifier. ``examples`` maps each label to its example texts
    (inline and from ``examples_file``, in that order); ``fingerprint`` is a hash of
    everything training reads (labels, examples, backend, seed), the same for the same spec.
    A label names a task (the request goes there) or an intent that rules match with
    ``when: {label: ...}``; a request whose best score is below ``threshold`` abstains and
    goes to ``fallback``, as does one whose label is not a task and that no rule routes."""

    labels: tuple[str, ...]
    fallback: str
    examples: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: _EMPTY)
    backend: ClassifierBackend = "tfidf"
    threshold: float = 0.5
    seed: int = 0
    input: ClassifierInput = "last_user"
    examples_file: str | None = None
    fingerprint: str = ""

    def size(self) -> int:
        return sum(len(texts) for texts in self.examples.values())
