"""The ``tfidf`` backend: TF-IDF features of words (and word pairs) and of character n-grams
within words, and a logistic regression over both, fitted with scikit-learn; classifying a
request is then a few dozen multiply-adds in numpy.

Training runs scikit-learn once, when the Router is built. For classifying, the fitted model
is reduced to what a prediction reads: each vectorizer's analyzer, vocabulary and idf
weights, and the coefficients. :meth:`TfidfClassifier.scores` gives what
``LogisticRegression.predict_proba`` would (tests/routing/test_classifiers.py checks it),
without scikit-learn's input checks, which cost more than the arithmetic: a request costs
tens of microseconds, not the half millisecond of a ``predict_proba`` call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from router.specmodel import ClassifierSpec

__all__ = ["TfidfClassifier", "train"]

#: Inverse of the regularisation strength: the examples are few and clean, so fit them closely
#: (30 gave the best held-out accuracy on configs/classifier/, between 10 and 100).
C = 30.0
#: Deterministic, and the fastest of scikit-learn's multinomial solvers here: on 1,000
#: examples it converges in 6 iterations, half lbfgs' time (bench/bench_classifier.py).
SOLVER = "newton-cg"
#: Solved closely (scikit-learn's default is 1e-4), so that the scores explain and golden
#: tests show do not hang on where an iteration happened to stop.
TOL = 1e-8


@dataclass(frozen=True, slots=True)
class _Block:
    """One vectorizer's part of the features: its terms are columns offset.. of the model."""

    analyze: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: Any
    offset: int


class TfidfClassifier:
    """A fitted TF-IDF + logistic regression classifier, reduced to numpy arrays."""

    backend = "tfidf"
    inline = True
    __slots__ = ("_blocks", "_coef", "_intercept", "labels")

    def __init__(
        self, labels: Sequence[str], blocks: Sequence[_Block], coef: Any, intercept: Any
    ) -> None:
        self.labels = tuple(labels)
        self._blocks = tuple(blocks)
        # Two classes: scikit-learn keeps one row (the second class's logit); softmax over
        # (-z/2, z/2) is (1 - sigmoid(z), sigmoid(z)), its predict_proba.
        if coef.shape[0] == 1:
            coef = np.vstack([-coef / 2, coef / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        self._coef = np.ascontiguousarray(coef.T)  # features x labels: a request's rows
        self._intercept = intercept

    def scores(self, text: str) -> list[float]:
        logits = self._intercept
        for block in self._blocks:
            counts: dict[int, int] = {}
            vocabulary = block.vocabulary
            for term in block.analyze(text):
                j = vocabulary.get(term)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if not counts:
                continue
            idx = np.fromiter(counts, dtype=np.intp, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            weights = (1.0 + np.log(tf)) * block.idf[idx]  # sublinear tf, then idf
            weights /= np.sqrt(weights @ weights)  # each vectorizer's rows are l2-normalised
            logits = logits + weights @ self._coef[idx + block.offset]
        exp = np.exp(logits - logits.max())
        return (exp / exp.sum()).tolist()  # type: ignore[no-any-return]


def vectorizers() -> list[Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    common: dict[str, Any] = {"sublinear_tf": True, "strip_accents": "unicode"}
    return [
        TfidfVectorizer(ngram_range=(1, 2), **common),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), **common),
    ]


def train(spec: ClassifierSpec) -> TfidfClassifier:
    from scipy.sparse import hstack
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    texts = [t for label in spec.labels for t in spec.examples.get(label, ())]
    y = [i for i, label in enumerate(spec.labels) for _ in spec.examples.get(label, ())]
    blocks, parts, offset = [], [], 0
    for vec in vectorizers():
        parts.append(vec.fit_transform(texts))
        vocabulary = {str(k): int(v) for k, v in vec.vocabulary_.items()}
        blocks.append(_Block(vec.build_analyzer(), vocabulary, np.asarray(vec.idf_), offset))
        offset += len(vocabulary)
    model = LogisticRegression(C=C, solver=SOLVER, tol=TOL, max_iter=2000, random_state=spec.seed)
    # One BLAS thread: the fit is small, and more threads only fight the router's own.
    with threadpool_limits(limits=1):
        model.fit(hstack(parts).tocsr(), y)
    if [int(k) for k in model.classes_] != list(range(len(spec.labels))):
        raise ValueError("every label needs examples")  # the spec checks refuse it first
    return TfidfClassifier(
        spec.labels,
        blocks,
        np.asarray(model.coef_, dtype=np.float64),
        np.asarray(model.intercept_, dtype=np.float64),
    )
