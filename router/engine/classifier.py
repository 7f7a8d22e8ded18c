"""The Router's classifier: trained in a background thread when the Router is built, so that
start-up does not wait for it; the first classification waits for the training, within the
request's deadline (its ``timeout``, else the fallback task's ``timeouts.total``), and
abstains to the fallback task if it is still not done by then.

A missing extra is a ConfigError when the Router is built (naming what to install), never an
ImportError at the first call. A Router that replaces another (``carry_from``) keeps the old
one's trained classifier when the section is unchanged (same fingerprint).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from router.diagnostics import Diagnostic
from router.errors import ConfigError
from router.routing.classifiers import missing_extra
from router.routing.classifiers import train as train_backend
from router.routing.classify import Classification, Classifier, abstain, decide, text_to_classify
from router.specmodel import ClassifierSpec, Spec
from router.types import Message

__all__ = ["ClassifierRunner"]

Trainer = Callable[[ClassifierSpec], Classifier]


class ClassifierRunner:
    """One spec's trained classifier, and the decision for each request."""

    def __init__(
        self, spec: Spec, *, train: Trainer = train_backend, carry: ClassifierRunner | None = None
    ) -> None:
        assert spec.classifier is not None
        self.spec = spec.classifier
        self._tasks = frozenset(spec.tasks)
        self._source = spec.source
        fallback = spec.tasks.get(self.spec.fallback)
        self._wait = fallback.timeouts.total if fallback is not None else 30.0
        why = missing_extra(self.spec.backend)
        if why is not None:
            raise ConfigError(
                [
                    Diagnostic(
                        why,
                        code="classifier-extra-missing",
                        path="$.classifier.backend",
                        file=spec.source,
                    )
                ]
            )
        self._ready = threading.Event()
        self._model: Classifier | None = None
        self._error: str | None = None
        self._carried: ClassifierRunner | None = None
        if carry is not None and carry.spec.fingerprint == self.spec.fingerprint:
            self._carried = carry._carried or carry  # its training, done or not
            self._ready = self._carried._ready
            return
        self._train = train
        threading.Thread(target=self._run, name="router-classifier-training", daemon=True).start()

    def _run(self) -> None:
        try:
            self._model = self._train(self.spec)
        except Exception as exc:  # reported at each classification, as a ConfigError
            self._error = f"{type(exc).__name__}: {exc}"
        finally:
            self._ready.set()

    def _trained(self) -> Classifier | None:
        if self._carried is not None:  # shared with the Router this one replaced
            return self._carried._trained()
        if self._error is not None:
            raise ConfigError(
                [
                    Diagnostic(
                        f"the classifier could not be trained: {self._error}",
                        code="classifier-training",
                        path="$.classifier",
                        file=self._source,
                    )
                ]
            )
        return self._model

    @property
    def inline(self) -> bool:
        """Whether classifying costs so little that the event loop may do it: trained, and
        the backend is a cheap one."""
        model = self._trained() if self._ready.is_set() else None
        return model is not None and model.inline

    def wait(self, timeout: float | None = None) -> Classifier | None:
        """The trained classifier, waiting up to ``timeout`` seconds (None: until done)."""
        self._ready.wait(timeout)
        return self._trained() if self._ready.is_set() else None

    def deadline(self, params: Mapping[str, Any]) -> float:
        timeout = params.get("timeout")
        if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
            return float(timeout)
        return self._wait

    def classify(self, messages: tuple[Message, ...], wait: float | None) -> Classification:
        """The decision for a request's messages, waiting up to ``wait`` seconds for the
        training (None: until it is done)."""
        model = self.wait(wait)
        if model is None:
            return abstain(self.spec, f"the classifier was still training after {wait:g}s")
        text = text_to_classify(messages, self.spec.input)
        if not text.strip():
            return abstain(self.spec, "no text to classify")
        return decide(self.spec, self._tasks, model.labels, model.scores(text))

    def for_call(self, params: Mapping[str, Any]) -> Callable[[tuple[Message, ...]], Any]:
        """``classify`` for one call (prepare_call's argument), waiting for the training at
        most half of the call's deadline (the wait counts toward it: the other half is left
        for the models)."""
        wait = self.deadline(params) / 2
        return lambda messages: self.classify(messages, wait)
