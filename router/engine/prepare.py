"""How a Router's calls are checked and planned before they are walked: the call's arguments
and plan (:func:`~router.routing.call.prepare_call`, :func:`~router.routing.embed.prepare_embed`)
against the compiled runtime's availability, parameters and latency, with the spec's
classifier choosing the task of a call that names none. Pure but for the classifier, whose
costly backends (or a training still under way) are waited for in a worker thread on the
async path, never on the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from router.engine.classifier import ClassifierRunner
from router.engine.compile import Runtime
from router.errors import RequestError
from router.routing.call import Call, call_messages, prepare_call
from router.routing.classify import Classification, wants_classifier
from router.routing.embed import prepare_embed
from router.specmodel import ModelSpec, Spec
from router.types import Message

__all__ = ["Calls"]

Messages = Iterable[Message | Mapping[str, Any]] | None


class Calls:
    """The Router's call preparation: one per Router, sharing its runtime and classifier."""

    __slots__ = ("classifier", "rt", "spec")

    def __init__(self, spec: Spec, rt: Runtime, classifier: ClassifierRunner | None) -> None:
        self.spec = spec
        self.rt = rt
        self.classifier = classifier

    def _unavailable(self, model: ModelSpec) -> str | None:
        return self.rt.model_unavailable(model)

    def call(
        self,
        task: str | None,
        messages: Messages,
        prompt: str | None,
        params: Mapping[str, Any],
        stream: bool,
        route: bool = True,
    ) -> Call:
        """The checked, planned call (``route=False``: for explain, a plan no model can take
        is returned rather than raised)."""
        runner = self.classifier
        # A classification may wait for the training: that wait is part of the request, so
        # its deadline counts from before it.
        started = self.rt.clock() if runner is not None and route else None
        call = prepare_call(
            self.spec,
            task,
            messages,
            prompt,
            params,
            stream=stream,
            unavailable=self._unavailable,
            params_for=self.rt.params_for,
            latency=self.rt.accounting.expected_latency,
            route=route,
            classify=runner.for_call(params) if runner is not None else None,
        )
        if started is not None and call.plan.features.classification is not None:
            return replace(call, started=started)
        return call

    def costly(self, task: str | None) -> bool:
        """Whether preparing this call classifies it with more than the event loop should do
        (a backend costing milliseconds, or one still training): then it is done in a thread."""
        runner = self.classifier
        return runner is not None and wants_classifier(self.spec, task) and not runner.inline

    async def acall(
        self,
        task: str | None,
        messages: Messages,
        prompt: str | None,
        params: Mapping[str, Any],
        stream: bool,
    ) -> Call:
        """:meth:`call` on the async path: in a worker thread when it is :meth:`costly`."""
        if self.costly(task):
            return await asyncio.to_thread(self.call, task, messages, prompt, params, stream)
        return self.call(task, messages, prompt, params, stream)

    def embed(
        self, task: str, input: str | Iterable[str], dimensions: int | None, params: Any
    ) -> Call:
        """The checked, planned embedding call."""
        return prepare_embed(
            self.spec,
            task,
            input,
            dimensions,
            params,
            unavailable=self._unavailable,
            params_for=self.rt.params_for,
            latency=self.rt.accounting.expected_latency,
        )

    def classify(
        self, messages: Messages, prompt: str | None, timeout: float | None
    ) -> Classification:
        """The classifier's decision for these messages; RequestError without a classifier."""
        runner = self.classifier
        if runner is None:
            raise RequestError("the spec has no `classifier:` section", argument="task")
        return runner.classify(call_messages(messages, prompt), timeout)
