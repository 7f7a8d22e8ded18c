"""``router classify``: what the spec's classifier decides for a prompt (every label's score,
the label or an abstention, the task), and ``router classify eval FILE.jsonl``: how well it
does on a labelled file (accuracy, per-label precision and recall, the confusion matrix, the
abstain rate), failing under ``--min-accuracy``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from router.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    add_config_option,
    config_path,
    load_router,
    report_error,
)
from router.errors import RouterError

__all__ = ["add_classify", "evaluate"]

ABSTAIN = "(abstain)"


def _fraction(text: str) -> float:
    try:
        value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a fraction like 0.8 or 80%, got {text!r}"
        ) from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {text!r}")
    return value


def add_classify(sub: Any) -> None:
    p = sub.add_parser(
        "classify",
        help="show how the spec's classifier labels a prompt, or evaluate it on a file",
        description=(
            "router classify PROMPT...: every label's score for PROMPT, the label chosen (or "
            "the abstention, below the threshold) and the task a call would go to. "
            "router classify eval FILE.jsonl: classify each line's text "
            '({"text": ..., "label": ...}) and print the accuracy (an abstention counts as '
            "wrong), each label's precision and recall, the confusion matrix and the abstain "
            "rate. Calls no model. Exit status: 0 done, 1 accuracy under --min-accuracy (or "
            "the spec is invalid), 2 usage or I/O error."
        ),
    )
    p.add_argument(
        "words",
        nargs="+",
        metavar="PROMPT | eval FILE",
        help="the prompt to classify, or 'eval' and a JSONL file of labelled texts",
    )
    add_config_option(p)
    p.add_argument(
        "--min-accuracy",
        type=_fraction,
        dest="min_accuracy",
        metavar="X",
        help="with eval: exit 1 when the accuracy is below X (0.8 or 80%%)",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(command=cmd_classify)


def _read_labelled(path: Path, labels: Sequence[str]) -> list[tuple[str, str]]:
    """(text, label) per line; a ValueError naming the line for anything else."""
    from router.spec.examples import labelled_lines

    rows = []
    for number, text, label in labelled_lines(path):
        if label is None or label not in labels:
            raise ValueError(
                f"{path}:{number}: label {label!r} is not one of the classifier's "
                f"({', '.join(labels)})"
            )
        rows.append((text, label))
    return rows


def evaluate(labels: Sequence[str], pairs: Sequence[tuple[str, str | None]]) -> dict[str, Any]:
    """The figures for (true label, predicted label or None for an abstention) pairs."""
    total = len(pairs)
    correct = sum(1 for true, got in pairs if true == got)
    abstained = sum(1 for _, got in pairs if got is None)
    answered = total - abstained
    columns = [*labels, ABSTAIN]
    matrix = {t: dict.fromkeys(columns, 0) for t in labels}
    for true, got in pairs:
        matrix[true][got if got is not None else ABSTAIN] += 1
    per_label = {}
    for label in labels:
        hits = matrix[label][label]
        predicted = sum(matrix[t][label] for t in labels)
        support = sum(matrix[label].values())
        per_label[label] = {
            "precision": hits / predicted if predicted else None,
            "recall": hits / support if support else None,
            "support": support,
        }
    return {
        "examples": total,
        "accuracy": correct / total,
        "correct": correct,
        "abstained": abstained,
        "abstain_rate": abstained / total,
        "accuracy_when_answered": correct / answered if answered else None,
        "labels": per_label,
        "confusion": matrix,
    }


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def format_evaluation(figures: dict[str, Any], header: str) -> str:
    labels = list(figures["labels"])
    width = max(len(x) for x in [*labels, "label"])
    total = figures["examples"]
    lines = [
        header,
        f"accuracy:  {_percent(figures['accuracy'])} ({figures['correct']}/{total}; an "
        "abstention counts as wrong)",
        f"abstained: {_percent(figures['abstain_rate'])} ({figures['abstained']}/{total}); "
        f"accuracy when answering: {_percent(figures['accuracy_when_answered'])}",
        "",
        f"{'label':<{width}}  precision  recall  support",
    ]
    for label, row in figures["labels"].items():
        lines.append(
            f"{label:<{width}}  {_percent(row['precision']):>9}  {_percent(row['recall']):>6}  "
            f"{row['support']:>7}"
        )
    columns = [*labels, ABSTAIN]
    cell = max(len(c) for c in columns)
    lines += ["", "confusion (rows: true label; columns: predicted):"]
    lines.append(" " * (width + 2) + "  ".join(f"{c:>{cell}}" for c in columns))
    for label in labels:
        counts = figures["confusion"][label]
        lines.append(f"{label:<{width}}  " + "  ".join(f"{counts[c]:>{cell}}" for c in columns))
    return "\n".join(lines)


def cmd_classify(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from router.routing.classify import classification_to_dict, format_classification

    words = list(args.words)
    evaluating = words[0] == "eval"
    if evaluating and len(words) != 2:
        stderr.write("router classify: eval takes one FILE.jsonl of labelled texts\n")
        return EXIT_USAGE
    if not evaluating and args.min_accuracy is not None:
        stderr.write("router classify: --min-accuracy goes with eval FILE.jsonl\n")
        return EXIT_USAGE
    try:
        with load_router(args, stderr, offline=True) as router:
            spec = router.spec.classifier
            if spec is None:
                stderr.write(f"router classify: {config_path(args)} has no classifier section\n")
                return EXIT_USAGE
            if not evaluating:
                decision = router.classify(prompt=" ".join(words))
                if args.json:
                    stdout.write(json.dumps(classification_to_dict(decision), indent=2) + "\n")
                else:
                    stdout.write("\n".join(format_classification(decision)) + "\n")
                return EXIT_OK
            path = Path(words[1])
            try:
                rows = _read_labelled(path, spec.labels)
            except ValueError as exc:
                stderr.write(f"router classify: {exc}\n")
                return EXIT_USAGE
            pairs = [(label, router.classify(prompt=text).label) for text, label in rows]
    except (RouterError, OSError) as exc:
        return report_error(exc, stderr, config_path(args))
    figures = evaluate(spec.labels, pairs)
    if args.json:
        body = {"backend": spec.backend, "threshold": spec.threshold, "file": str(path), **figures}
        stdout.write(json.dumps(body, indent=2) + "\n")
    else:
        header = (
            f"classifier: {spec.backend}, threshold {spec.threshold:g}; "
            f"{len(rows)} labelled texts from {path}"
        )
        stdout.write(format_evaluation(figures, header) + "\n")
    if args.min_accuracy is not None and figures["accuracy"] < args.min_accuracy:
        stderr.write(
            f"router classify: accuracy {figures['accuracy']:.1%} is below --min-accuracy "
            f"{args.min_accuracy:.1%}\n"
        )
        return EXIT_FAILED
    return EXIT_OK
