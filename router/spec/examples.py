"""The classifier's examples, read when the spec is loaded: inline (``examples:`` a mapping of
label to texts) or from a file beside the spec (``examples: FILE``, relative to the spec):
JSONL, one ``{"text": ..., "label": ...}`` per line, or YAML, a mapping of label to texts.

Every problem is a Diagnostic pointing at where it is: the spec's ``examples`` key for a file
that cannot be read, the line of the examples file for a bad line in it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from router.diagnostics import Diagnostic
from router.spec.yamlload import MAX_FILE_BYTES, Document, YamlError, load_yaml

__all__ = ["Examples", "examples_path", "labelled_lines", "read_examples"]

_CODE = "classifier-examples"


@dataclass(slots=True)
class Examples:
    """The examples as read: texts per label in the order found, where each came from (for
    the checks' positions: a line of the file, or a path in the spec), and what went wrong."""

    texts: dict[str, list[str]] = field(default_factory=dict)
    #: (label, index) -> (file, line, JSON path) of that example
    places: dict[tuple[str, int], tuple[str, int | None, str]] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    file: str | None = None

    def add(self, label: str, text: str, place: tuple[str, int | None, str]) -> None:
        texts = self.texts.setdefault(label, [])
        self.places[label, len(texts)] = place
        texts.append(text)


def examples_path(spec_file: str, value: str) -> Path:
    """Where ``examples: value`` points: relative to the spec's folder (the current one for a
    spec without a real path)."""
    path = Path(value)
    if path.is_absolute():
        return path
    base = Path(spec_file).parent if spec_file and not spec_file.startswith("<") else Path()
    return base / path


def read_examples(doc: Document, spec_file: str) -> Examples | None:
    """The examples of the spec's ``classifier`` section, or None when it has none in a shape
    the schema accepts (the schema reports that)."""
    section = doc.data.get("classifier") if isinstance(doc.data, dict) else None
    value = section.get("examples") if isinstance(section, dict) else None
    found = Examples()
    if isinstance(value, dict):
        for label, texts in value.items():
            if not isinstance(texts, list):
                return None
            for i, text in enumerate(texts):
                if not isinstance(text, str):
                    return None
                line = doc.position(("classifier", "examples", label, i))
                path = f"$.classifier.examples.{label}[{i}]"
                found.add(str(label), text, (doc.file, line[0] if line else None, path))
        return found
    if not isinstance(value, str) or not value:
        return None
    where = examples_path(spec_file, value)
    found.file = os.fspath(where)
    try:
        raw = _read(where)
    except OSError as exc:
        why = exc.strerror or str(exc)
        found.diagnostics.append(
            doc.diagnostic(
                ("classifier", "examples"),
                f"cannot read the classifier's examples file {value!r} ({where}): {why}",
                _CODE,
                hint="the path is relative to the spec's folder",
            )
        )
        return found
    if where.suffix == ".jsonl":
        _jsonl(raw, found)
    elif where.suffix in (".yaml", ".yml"):
        _yaml(raw, found)
    else:
        found.diagnostics.append(
            doc.diagnostic(
                ("classifier", "examples"),
                f"the classifier's examples file {value!r} is neither .jsonl nor .yaml/.yml",
                _CODE,
                hint='write one {"text": ..., "label": ...} per line in a .jsonl file, or a '
                "mapping of label to texts in a .yaml file",
            )
        )
    return found


def _read(path: Path) -> bytes:
    with path.open("rb") as f:
        raw = f.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise OSError(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    return raw


def _bad(found: Examples, line: int | None, path: str, message: str, hint: str) -> None:
    found.diagnostics.append(
        Diagnostic(message, code=_CODE, path=path, file=found.file, line=line, hint=hint)
    )


_JSONL_HINT = 'each line is one JSON object: {"text": "...", "label": "..."}'


def _line(line: str, number: int, label_required: bool) -> tuple[str, str | None] | str:
    """(text, label) of one JSONL line, or what is wrong with it."""
    try:
        item: Any = json.loads(line)
    except json.JSONDecodeError as exc:
        return f"line {number} is not JSON: {exc.msg}"
    if not isinstance(item, dict):
        return f"line {number} is not a JSON object"
    text, label = item.get("text"), item.get("label")
    if label is None and not label_required:
        return (text, None) if isinstance(text, str) and text else f"line {number} lacks a text"
    if not isinstance(label, str) or not label or not isinstance(text, str) or not text:
        return f"line {number} lacks a non-empty text and label"
    return text, label


def _jsonl(raw: bytes, found: Examples) -> None:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        _bad(found, None, "", f"the examples file is not UTF-8 (byte {exc.start})", _JSONL_HINT)
        return
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"$[{number - 1}]"
        parsed = _line(line, number, label_required=True)
        if isinstance(parsed, str):
            _bad(found, number, where, parsed, _JSONL_HINT)
            continue
        found.add(parsed[1] or "", parsed[0], (found.file or "", number, where))


def labelled_lines(
    path: str | os.PathLike[str], *, label_required: bool = True
) -> list[tuple[int, str, str | None]]:
    """(line number, text, label) per line of a JSONL file of ``{"text": ..., "label": ...}``
    (``router classify eval``, ``router simulate --prompts``). A ValueError naming the file
    and line for a line that cannot be read, or for a file without any; OSError when the
    file cannot be read."""
    where = os.fspath(path)
    rows = []
    with open(path, encoding="utf-8-sig") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            parsed = _line(line, number, label_required)
            if isinstance(parsed, str):
                raise ValueError(f"{where}:{number}: {parsed} ({_JSONL_HINT})")
            rows.append((number, *parsed))
    if not rows:
        raise ValueError(f"{where}: no lines to read")
    return rows


def _yaml(raw: bytes, found: Examples) -> None:
    hint = "the YAML examples file is a mapping of label to a list of texts"
    try:
        doc = load_yaml(raw, found.file or "<examples>")
    except YamlError as exc:
        found.diagnostics += [
            Diagnostic(d.message, code=_CODE, path=d.path, file=d.file, line=d.line, hint=d.hint)
            for d in exc.diagnostics
        ]
        return
    if not isinstance(doc.data, dict):
        _bad(found, 1, "$", "the examples file is not a mapping of label to texts", hint)
        return
    for label, texts in doc.data.items():
        items = texts if isinstance(texts, list) else [texts]
        for i, text in enumerate(items):
            steps: tuple[Any, ...] = (label, i) if isinstance(texts, list) else (label,)
            line = doc.position(steps)
            where = f"$.{label}[{i}]" if isinstance(texts, list) else f"$.{label}"
            if not isinstance(text, str) or not text:
                _bad(found, line[0] if line else None, where, "an example is not a text", hint)
                continue
            found.add(str(label), text, (doc.file, line[0] if line else None, where))
