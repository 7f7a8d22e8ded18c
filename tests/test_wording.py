"""Messages read as a person would write them: counts agree with their nouns, a model named
where a task is expected says so, and "attempts" counts only what was sent."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from router.cli import run
from router.engine.router import Router
from router.errors import AllModelsFailed, ProviderUnavailable, RateLimitError, RequestError

MINIMAL = Path(__file__).resolve().parent.parent / "configs" / "minimal.yaml"
ROUTES = MINIMAL.parent / "routes.yaml"


def _failed(*local: bool) -> str:
    errors = [
        (RateLimitError if is_local else ProviderUnavailable)("no", model=f"m{i}", local=is_local)
        for i, is_local in enumerate(local)
    ]
    return str(AllModelsFailed("every model in the chain failed", errors)).splitlines()[0]


def test_attempts_are_counted_in_words() -> None:
    assert _failed(False) == "every model in the chain failed (1 attempt):"
    assert _failed(False, False) == "every model in the chain failed (2 attempts):"
    assert _failed(False, True) == "every model in the chain failed (1 attempt, 1 not sent):"
    assert _failed(True) == (
        "every model in the chain failed (nothing was sent: 1 model could not be tried):"
    )
    assert _failed(True, True).endswith("(nothing was sent: 2 models could not be tried):")


def test_a_model_named_as_the_task_says_so(tmp_path: Path) -> None:
    spec = tmp_path / "routes.yaml"
    spec.write_text(
        "version: 1\nproviders: {openai: {type: openai, api_key_env: OPENAI_API_KEY}}\n"
        "models: {gpt-4o: {provider: openai, id: gpt-4o}}\n"
        "tasks: {chat: {candidates: [gpt-4o]}, code: {candidates: [gpt-4o]}}\n"
    )
    router = Router.from_yaml(spec, environ={"OPENAI_API_KEY": "k"}, preload=False)
    with router, pytest.raises(RequestError) as caught:
        router.explain("gpt-4o", prompt="hi")
    message = str(caught.value)
    assert message.startswith("'gpt-4o' is a model, not a task")
    assert message.endswith("the tasks that use it: chat, code")


def test_validate_counts_agree_with_their_nouns() -> None:
    out = io.StringIO()
    assert run(["validate", str(MINIMAL)], out, io.StringIO()) in (0, 1)
    assert ": valid: 1 provider, 1 model, 1 task, 0 rules" in out.getvalue()


def test_explain_says_when_a_model_name_was_given_as_the_task(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    out = io.StringIO()
    argv = ["explain", "--config", str(ROUTES), "--task", "gpt-4o", "--prompt", "hi"]
    assert run(argv, out, io.StringIO()) == 0
    first = out.getvalue().splitlines()[0]
    assert first == (
        "task:      default (serves unknown task 'gpt-4o'; "
        "'gpt-4o' is a model's name: a call names a task)"
    )
