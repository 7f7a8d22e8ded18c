"""Calls without a task, through the real Router and the real SDKs against the sandbox: the
classifier chooses the task (sync, async, streams), abstains to the fallback task, and never
takes a request out of a rule's confinement, whatever fails. The sandbox's log says which
models were reached."""

from __future__ import annotations

import threading
import time

import pytest

from router import AllModelsFailed, ConfigError, HookContext, RequestError, Router
from router.engine.classifier import ClassifierRunner
from router.messages import coerce_messages
from router.routing.classify import Classifier
from router.sandbox import Sandbox
from router.specmodel import ClassifierSpec

from .helpers import PROVIDERS, FakeTime, MakeRouter, models_sent, run_async

EXAMPLES = {
    "code": [
        "Write a Python function that reverses a string",
        "Fix this JavaScript bug in my loop",
        "Why does my SQL query return duplicate rows?",
        "Implement binary search in Go",
        "Refactor this class to use dependency injection",
        "My Rust code does not compile, the borrow checker complains",
    ],
    "math": [
        "What is the integral of x squared?",
        "Solve 3x + 5 = 20 for x",
        "What is the probability of two heads in three coin flips?",
        "Compute the determinant of a 2 by 2 matrix",
        "What is 15 percent of 240?",
        "Prove that the square root of 2 is irrational",
    ],
    "translate": [
        "Translate good morning into Spanish",
        "How do you say thank you in Japanese?",
        "Translate this paragraph into French",
        "What does gracias mean in English?",
        "Put this email into German",
        "Translate the menu from Italian",
    ],
}


def _examples(backend: str) -> str:
    rows = "".join(f"    {label}: {texts!r}\n" for label, texts in EXAMPLES.items())
    return f"""
classifier:
  labels: [code, math, translate]
  fallback: chat
  threshold: 0.45
  backend: {backend}
  examples:
{rows}"""


# cloud-* are the models a confined request must never reach.
SPEC = (
    PROVIDERS
    + """
models:
  local-code: {provider: oai, id: local-code}
  cloud-code: {provider: ant, id: cloud-code}
  cloud-math: {provider: oai, id: cloud-math}
  cloud-chat: {provider: ant, id: cloud-chat}
tasks:
  code: {candidates: [cloud-code], fallback: [cloud-chat]}
  math: {candidates: [cloud-math], fallback: [cloud-chat]}
  chat: {candidates: [cloud-chat], fallback: [cloud-math]}
rules:
  - name: private-code
    when: {label: code, tags: [private]}
    candidates: [local-code]
  - name: translations
    when: {label: translate}
    route_to: chat
    only: [cloud-chat]
"""
)
CODE = [{"role": "user", "content": "Write a Python function that sorts a dict by value"}]
MATH = [{"role": "user", "content": "What is the integral of 2x?"}]
VAGUE = [{"role": "user", "content": "Hello there."}]


def _router(make_router: MakeRouter, backend: str = "tfidf") -> Router:
    return make_router(SPEC + _examples(backend))


@pytest.mark.parametrize(("messages", "model"), [(CODE, "cloud-code"), (MATH, "cloud-math")])
def test_a_call_without_a_task_goes_to_the_task_its_label_names(
    make_router: MakeRouter, sb: Sandbox, messages: list[dict[str, str]], model: str
) -> None:
    router = _router(make_router)

    first = router.complete(messages=messages)
    second = router.complete("auto", messages)

    assert (first.model, second.model) == (model, model)
    assert models_sent(sb) == [model, model]


def test_a_request_below_the_threshold_goes_to_the_fallback_task(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = _router(make_router)

    decided = router.classify(VAGUE)
    response = router.complete(messages=VAGUE)

    assert decided.abstained and decided.task == "chat"
    assert decided.confidence < 0.45
    assert response.model == "cloud-chat"


def test_a_named_task_is_not_classified(make_router: MakeRouter, sb: Sandbox) -> None:
    router = _router(make_router)

    plan = router.explain("chat", CODE)
    router.complete("chat", CODE, tags=["private"])

    assert plan.features.classification is None
    assert models_sent(sb) == ["cloud-chat"]  # the private-code rule matches labels only


def test_a_call_without_a_task_and_no_classifier_is_refused(make_router: MakeRouter) -> None:
    router = make_router(SPEC.split("rules:")[0])

    with pytest.raises(RequestError, match="no task given") as caught:
        router.complete(messages=CODE)
    assert caught.value.argument == "task"


def test_classified_requests_stay_inside_a_rule_confinement_on_every_driver(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    sb.set_fault("500")
    router = _router(make_router)

    async def drain(r: Router) -> None:
        async for _ in r.astream(messages=CODE, tags=["private"]):
            pass

    with pytest.raises(AllModelsFailed):
        router.complete(messages=CODE, tags=["private"])
    with pytest.raises(AllModelsFailed):
        list(router.stream(messages=CODE, tags=["private"]))
    with pytest.raises(AllModelsFailed):
        run_async(router, lambda r: r.acomplete(messages=CODE, tags=["private"]))
    with pytest.raises(AllModelsFailed):
        run_async(router, drain)
    assert models_sent(sb) == ["local-code"] * 4


def test_an_intent_label_a_rule_routes_stays_inside_its_only_list(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    sb.set_fault("503")
    router = _router(make_router)
    translate = [{"role": "user", "content": "Translate good night into Spanish"}]

    plan = router.explain(messages=translate)
    with pytest.raises(AllModelsFailed):
        router.complete(messages=translate)

    assert plan.features.classification is not None
    assert plan.features.classification.label == "translate"
    assert (plan.rule and plan.rule.name, plan.task.name) == ("translations", "chat")
    assert models_sent(sb) == ["cloud-chat"]  # never chat's fallback, cloud-math


def test_the_embeddings_backend_classifies_in_a_thread_on_the_async_path(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = _router(make_router, "embeddings")
    loop_threads: set[int] = set()

    async def both(r: Router) -> list[str]:
        loop_threads.add(threading.get_ident())
        answered = await r.acomplete(messages=MATH)
        chunks = [c async for c in r.astream(messages=CODE, tags=["private"])]
        assert chunks
        return [answered.model]

    assert run_async(router, both) == ["cloud-math"]
    assert models_sent(sb) == ["cloud-math", "local-code"]
    assert router._classifier is not None and not router._classifier.inline


def test_a_replacing_router_keeps_the_trained_classifier(make_router: MakeRouter) -> None:
    old = _router(make_router)
    assert old._classifier is not None
    trained = old._classifier.wait()

    new = Router(old.spec, environ={"SANDBOX_API_KEY": "sk-test"}, carry_from=old)
    try:
        assert new._classifier is not None and new._classifier.wait() is trained
    finally:
        new.close()


# --- the runner: training in the background, within each request's deadline -------------------


def _runner_spec(make_router: MakeRouter) -> tuple[Router, ClassifierSpec]:
    router = _router(make_router)
    assert router.spec.classifier is not None
    return router, router.spec.classifier


def test_a_request_waits_for_training_within_its_deadline_then_abstains(
    make_router: MakeRouter,
) -> None:
    router, _ = _runner_spec(make_router)
    release = threading.Event()

    def slow(spec: ClassifierSpec) -> Classifier:
        release.wait(5)
        from router.routing.classifiers import train

        return train(spec)

    runner = ClassifierRunner(router.spec, train=slow)
    started = time.monotonic()
    waited = runner.classify(coerce_messages(MATH), 0.05)
    assert time.monotonic() - started < 1
    release.set()
    trained = runner.classify(coerce_messages(MATH), None)

    assert (waited.abstained, waited.task) == (True, "chat")
    assert waited.reason == "the classifier was still training after 0.05s"
    assert trained.label == "math"


def test_a_training_failure_is_a_config_error_at_each_classification(
    make_router: MakeRouter,
) -> None:
    router, _ = _runner_spec(make_router)

    def broken(spec: ClassifierSpec) -> Classifier:
        raise ValueError("empty vocabulary; perhaps the documents only contain stop words")

    runner = ClassifierRunner(router.spec, train=broken)

    with pytest.raises(ConfigError, match=r"could not be trained: ValueError: empty vocabulary"):
        runner.classify(coerce_messages(MATH), 1)


def test_a_message_without_text_abstains(make_router: MakeRouter) -> None:
    router = _router(make_router)

    decided = router.classify([{"role": "user", "content": "   "}])

    assert (decided.abstained, decided.reason) == (True, "no text to classify")


def test_the_wait_is_the_call_timeout_else_the_fallback_task_total(
    make_router: MakeRouter,
) -> None:
    router = _router(make_router)

    assert router._classifier is not None
    assert router._classifier.deadline({"timeout": 0.25}) == 0.25
    assert router._classifier.deadline({}) == router.spec.tasks["chat"].timeouts.total


def test_auto_without_a_classifier_is_a_task_name_the_default_task_serves(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(SPEC.split("rules:")[0] + "  default: {candidates: [cloud-chat]}\n")

    response = router.complete("auto", CODE)

    assert response.model == "cloud-chat"


def test_a_classified_call_its_hooks_rewrite_keeps_its_task_and_rule(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    # A hook on every request rewrites it (drops the tag the rule asked for): the rewritten
    # call keeps the task the classifier chose and the rule its request matched.
    def strip_tags(ctx: HookContext) -> None:
        ctx.params.pop("tags", None)

    spec = SPEC.replace("rules:", "defaults:\n  hooks: [strip]\nrules:", 1) + _examples("tfidf")
    router = make_router(spec, hooks={"strip": strip_tags})

    coded = router.complete(messages=CODE, tags=["private"])
    counted = run_async(router, lambda r: r.acomplete(messages=MATH))

    assert (coded.model, counted.model) == ("local-code", "cloud-math")
    assert models_sent(sb) == ["local-code", "cloud-math"]


def test_the_wait_for_training_counts_toward_the_request_deadline(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    # The training takes 0.6 s on the router's clock (the test's own clock, moved by the
    # training function); the tasks' deadline is 0.5 s. The classification waits for it, so
    # the request is out of time before its walk begins: it fails on its deadline with nothing
    # sent, instead of getting a whole deadline again after the wait.
    fake = FakeTime()
    spec = SPEC.replace("tasks:\n", "defaults:\n  timeouts: {total: 0.5}\ntasks:\n", 1)
    router = make_router(spec + _examples("tfidf"), clock=fake)

    def slow(classifier: ClassifierSpec) -> Classifier:
        from router.routing.classifiers import train

        trained = train(classifier)
        fake.sleep(0.6)
        return trained

    router._calls.classifier = ClassifierRunner(router.spec, train=slow)

    with pytest.raises(AllModelsFailed, match="deadline"):
        router.complete(messages=MATH)
    assert models_sent(sb) == []
    decided = router.classify(MATH)  # trained: the next request has its whole deadline
    assert router.complete(messages=MATH).model == "cloud-math" == f"cloud-{decided.task}"
