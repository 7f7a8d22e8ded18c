"""`router classify` (a prompt's scores; eval FILE.jsonl: accuracy, precision/recall, the
confusion matrix, abstain rate, exit codes), `router explain` of a classified request
(golden files with scores, text and JSON) and `router simulate --prompts`, through run() on
configs/classifier.yaml."""

from __future__ import annotations

import json
import os
from io import StringIO
from pathlib import Path

import pytest

from router.cli import run
from router.cli.classify import evaluate

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
KEYS = {"OPENAI_API_KEY": "sk-test-openai", "ANTHROPIC_API_KEY": "sk-test-anthropic"}

CONFIG = str(ROOT / "configs" / "classifier.yaml")
HELD_OUT = str(ROOT / "configs" / "classifier" / "heldout.jsonl")


def call(*argv: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    code = run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"golden {name} differs (UPDATE_GOLDEN=1 rewrites it)"


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)


EXPLAIN_CASES = {
    "explain_classified_math.txt": ["--prompt", "What is the integral of x squared from 0 to 3?"],
    "explain_classified_code_confined.txt": ["--prompt", "Write a Python function to dedupe"],
    "explain_classified_intent.txt": ["--prompt", "How do you say good night in Italian?"],
    "explain_classified_abstained.txt": ["--task", "auto", "--prompt", "Hello there."],
}


@pytest.mark.parametrize("golden", sorted(EXPLAIN_CASES))
def test_explain_of_a_classified_request_matches_golden(golden: str) -> None:
    code, out, err = call("explain", "--config", CONFIG, *EXPLAIN_CASES[golden])

    assert code == 0, err
    check_golden(golden, out)


def test_explain_json_carries_the_scores_threshold_and_abstention() -> None:
    argv = ["--prompt", "Hello there.", "--format", "json"]
    code, out, err = call("explain", "--config", CONFIG, *argv)
    plan = json.loads(out)

    assert code == 0, err
    c = plan["classification"]
    assert (c["abstained"], c["label"], c["task"], c["threshold"]) == (True, None, "chat", 0.4)
    assert [row["label"] for row in c["top"]] == ["code", "math", "write", "summarize", "translate"]
    assert c["confidence"] == c["top"][0]["score"] < 0.4
    assert plan["task"] == "chat"


def test_classify_prints_the_scores_and_the_task() -> None:
    code, out, err = call("classify", "--config", CONFIG, "Solve", "2x", "+", "3", "=", "11")

    assert code == 0, err
    assert (
        out.splitlines()[0]
        == "classified: 'math' (0.950 ≥ threshold 0.4) → its task; backend tfidf"
    )
    assert len(out.splitlines()) == 5  # the top three labels and how many more


def test_classify_json() -> None:
    code, out, _ = call("classify", "--config", CONFIG, "--json", "Translate hello into Dutch")
    decided = json.loads(out)

    assert code == 0
    assert (decided["label"], decided["task"], decided["abstained"]) == ("translate", "chat", False)
    assert abs(sum(row["score"] for row in decided["top"]) - 1) < 1e-3


def test_eval_prints_accuracy_per_label_figures_and_the_confusion_matrix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)  # the file as the golden names it, wherever the checkout is
    code, out, err = call(
        "classify", "eval", "configs/classifier/heldout.jsonl", "--config", CONFIG
    )

    assert code == 0, err
    check_golden("classify_eval_heldout.txt", out)


def test_eval_json_and_min_accuracy_exit_codes() -> None:
    ok, out, _ = call(
        "classify", "eval", HELD_OUT, "--config", CONFIG, "--json", "--min-accuracy", "80%"
    )
    below, _, err = call("classify", "eval", HELD_OUT, "--config", CONFIG, "--min-accuracy", "0.95")
    figures = json.loads(out)

    assert (ok, below) == (0, 1)
    assert figures["accuracy"] == 0.85 and figures["abstain_rate"] == 0.07
    assert figures["confusion"]["code"]["(abstain)"] == 4
    assert "accuracy 85.0% is below --min-accuracy 95.0%" in err


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["classify", "eval"], "eval takes one FILE.jsonl"),
        (["classify", "eval", "a.jsonl", "b.jsonl"], "eval takes one FILE.jsonl"),
        (["classify", "hello", "--min-accuracy", "0.5"], "--min-accuracy goes with eval"),
        (["classify", "eval", HELD_OUT, "--min-accuracy", "1.5"], "between 0 and 1"),
        (["classify", "eval", "/no/such/file.jsonl"], "No such file"),
    ],
)
def test_usage_errors_exit_2(argv: list[str], words: str) -> None:
    code, _, err = call(*argv, "--config", CONFIG)

    assert code == 2
    assert words in err


def test_eval_refuses_a_file_with_a_bad_line_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "integrate x", "label": "math"}\n{"text": "x", "label": "poetry"}\n')

    code, _, err = call("classify", "eval", str(bad), "--config", CONFIG)

    assert code == 2
    assert f"{bad}:2: label 'poetry' is not one of the classifier's" in err


def test_classify_on_a_spec_without_a_classifier_is_a_usage_error() -> None:
    code, _, err = call("classify", "--config", str(ROOT / "configs" / "routes.yaml"), "hi")

    assert code == 2
    assert "has no classifier section" in err


def test_evaluate_counts_an_abstention_as_wrong_and_apart() -> None:
    figures = evaluate(["a", "b"], [("a", "a"), ("a", None), ("b", "a"), ("b", "b")])

    assert (figures["accuracy"], figures["abstain_rate"]) == (0.5, 0.25)
    assert figures["accuracy_when_answered"] == pytest.approx(2 / 3)
    assert figures["labels"]["a"] == {"precision": 0.5, "recall": 0.5, "support": 2}
    assert figures["confusion"]["a"] == {"a": 1, "b": 0, "(abstain)": 1}


def test_simulate_draws_prompts_from_a_labelled_file() -> None:
    argv = ["--config", CONFIG, "--prompts", HELD_OUT, "--requests", "40", "--format", "json"]
    code, out, err = call("simulate", *argv)
    report = json.loads(out)

    assert code == 0, err
    assert report["classifier"]["labelled"] == 40
    assert report["classifier"]["agreed"] >= 30
    assert set(report["tasks"]) <= {"chat", "code", "math", "summarize", "write"}
    assert sum(t["requests"] for t in report["tasks"].values()) == 40


def test_simulate_without_a_classifier_sends_each_prompt_to_its_labels_task(
    tmp_path: Path,
) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(
        '{"text": "Summarize this note.", "label": "summarize"}\n'
        '{"text": "Hello!", "label": "chat"}\n'
    )
    routes = str(ROOT / "configs" / "routes.yaml")
    argv = ["--config", routes, "--prompts", str(prompts), "--requests", "12", "--format", "json"]

    code, out, err = call("simulate", *argv)
    report = json.loads(out)

    assert code == 0, err
    assert set(report["tasks"]) == {"summarize", "chat"}
    assert "classifier" not in report


def test_simulate_refuses_a_label_that_is_no_task_without_a_classifier(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"text": "Hello!", "label": "poetry"}\n')
    routes = str(ROOT / "configs" / "routes.yaml")

    code, _, err = call("simulate", "--config", routes, "--prompts", str(prompts))

    assert code == 2
    assert f"{prompts}:1: the spec has no classifier" in err
