"""Semantic checks on the classifier: every label is a task or an intent some rule matches,
every label has enough examples (:data:`~router.specmodel.MIN_EXAMPLES`) and no example is
under a label the section does not list, the fallback task exists, the backend's extra is
installed, and rules match only labels the classifier has. Warns on an example written under
two labels (the classifier cannot learn both)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from router.diagnostics import Diagnostic, Severity
from router.routing.classifiers import EXTRAS, missing_extra
from router.spec.examples import Examples
from router.spec.yamlload import Document
from router.specmodel import MIN_EXAMPLES

__all__ = ["classifier_diagnostics"]


def _names(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [v for v in items if isinstance(v, str)]


def _rule_labels(doc: Document) -> Iterator[tuple[int, str]]:
    rules = doc.data.get("rules") if isinstance(doc.data, dict) else None
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        when = rule.get("when") if isinstance(rule, dict) else None
        if isinstance(when, dict) and "label" in when:
            for label in _names(when["label"]):
                yield i, label


def classifier_diagnostics(doc: Document, examples: Examples | None) -> list[Diagnostic]:
    """Every finding about the ``classifier`` section and the rules' ``label`` conditions."""
    data = doc.data if isinstance(doc.data, dict) else {}
    section = data.get("classifier")
    found: list[Diagnostic] = []
    if not isinstance(section, dict):
        for i, label in _rule_labels(doc):
            found.append(
                doc.diagnostic(
                    ("rules", i, "when", "label"),
                    f"rule matches the classifier's label '{label}', but the spec has no "
                    "classifier",
                    "unknown-label",
                    hint="add a `classifier:` section whose labels include it",
                )
            )
        return found
    labels = _names(section.get("labels"))
    tasks: dict[str, Any] = data["tasks"] if isinstance(data.get("tasks"), dict) else {}
    used = {label for _, label in _rule_labels(doc)}
    for i, label in _rule_labels(doc):
        if labels and label not in labels:
            found.append(
                doc.diagnostic(
                    ("rules", i, "when", "label"),
                    f"rule matches label '{label}', which is not one of the classifier's "
                    f"labels ({', '.join(labels)})",
                    "unknown-label",
                    hint="add it to classifier.labels, or fix the name",
                )
            )
    for i, label in enumerate(labels):
        if label not in tasks and label not in used:
            found.append(
                doc.diagnostic(
                    ("classifier", "labels", i),
                    f"label '{label}' is neither a task nor matched by any rule "
                    "(`when: {label: ...}`): a request given it would only go to the fallback",
                    "classifier-label-unused",
                    hint=f"add a task '{label}', or a rule with `when: {{label: {label}}}`",
                )
            )
    fallback = section.get("fallback")
    if isinstance(fallback, str) and fallback not in tasks:
        known = ", ".join(sorted(tasks)) or "none"
        found.append(
            doc.diagnostic(
                ("classifier", "fallback"),
                f"the classifier's fallback task '{fallback}' is not a task (tasks: {known})",
                "unknown-task",
                hint="the fallback serves requests the classifier abstains on: name a task",
            )
        )
    backend = section.get("backend", "tfidf")
    extra = missing_extra(backend) if backend in EXTRAS else None  # the schema: the rest
    if extra is not None:
        found.append(
            doc.diagnostic(
                ("classifier", "backend") if "backend" in section else ("classifier",),
                extra,
                "classifier-extra-missing",
                key="backend" not in section,
            )
        )
    if examples is not None:
        found += examples.diagnostics
        found += _example_findings(doc, labels, examples)
    return found


def _at(
    place: tuple[str, int | None, str],
    message: str,
    code: str,
    *,
    severity: Severity = "error",
    hint: str | None = None,
) -> Diagnostic:
    """A finding about one example, where it is written (the spec, or the examples file)."""
    file, line, path = place
    return Diagnostic(message, severity, code, path, file, line, hint=hint)


_SPACE = re.compile(r"\s+")


def _example_findings(doc: Document, labels: list[str], examples: Examples) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    listed = set(labels)
    for label in sorted(examples.texts.keys() - listed):
        found.append(
            _at(
                examples.places[label, 0],
                f"an example is labelled '{label}', which is not one of the classifier's "
                f"labels ({', '.join(labels)})",
                "classifier-unknown-label",
                hint="add the label to classifier.labels, or fix the example's label",
            )
        )
    if not examples.diagnostics:  # a file that could not be read fully is reported as such
        for i, label in enumerate(labels):
            count = len(examples.texts.get(label, ()))
            if count < MIN_EXAMPLES:
                found.append(
                    doc.diagnostic(
                        ("classifier", "labels", i),
                        f"label '{label}' has {count} example{'s' if count != 1 else ''}; "
                        f"each label needs at least {MIN_EXAMPLES} (a few dozen varied ones "
                        "classify well)",
                        "classifier-few-examples",
                    )
                )
    first: dict[str, str] = {}
    for label in labels:
        for i, text in enumerate(examples.texts.get(label, ())):
            key = _SPACE.sub(" ", text).strip().casefold()
            other = first.setdefault(key, label)
            if other != label:
                found.append(
                    _at(
                        examples.places[label, i],
                        f"this example is under both '{other}' and '{label}': the classifier "
                        "cannot learn both",
                        "classifier-ambiguous-example",
                        severity="warning",
                        hint="keep it under one label",
                    )
                )
    return found
