"""The classifier section: examples inline or from a file beside the spec (JSONL or YAML),
read at load with every problem positioned in the file that holds it; the built
ClassifierSpec and its fingerprint; the missing-extra error, named before anything is
imported."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from router import ConfigError, Router
from router.spec import load_spec, validate_file

ROOT = Path(__file__).resolve().parents[2]
HEAD = """version: 1
providers:
  openai: {type: openai, api_key_env: OPENAI_API_KEY}
models:
  mini: {provider: openai, id: gpt-4o-mini}
tasks:
  code: {candidates: [mini]}
  chat: {candidates: [mini]}
"""
CODE = ["fix my bug", "write a loop", "parse json in go", "sort a list", "regex help"]
CHAT = ["hi", "how are you", "good morning", "what's up", "tell me a joke"]
ENV = {"OPENAI_API_KEY": "set"}


def _write(tmp_path: Path, classifier: str, **files: str) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    spec = tmp_path / "routes.yaml"
    tmp_path.mkdir(parents=True, exist_ok=True)
    spec.write_text(HEAD + classifier, encoding="utf-8")
    return spec


def _jsonl(rows: list[tuple[str, str]]) -> str:
    return "".join(json.dumps({"text": t, "label": label}) + "\n" for t, label in rows)


FILE_SECTION = """classifier:
  labels: [code, chat]
  examples: data/examples.{ext}
  fallback: chat
"""


def test_examples_from_a_jsonl_file_beside_the_spec(tmp_path: Path) -> None:
    rows = [(t, "code") for t in CODE] + [(t, "chat") for t in CHAT]
    spec_path = _write(
        tmp_path, FILE_SECTION.format(ext="jsonl"), **{"data/examples.jsonl": _jsonl(rows)}
    )
    spec = load_spec(spec_path, environ=ENV)

    assert spec.classifier is not None
    assert spec.classifier.examples == {"code": tuple(CODE), "chat": tuple(CHAT)}
    assert spec.classifier.examples_file == str(tmp_path / "data" / "examples.jsonl")
    assert (spec.classifier.backend, spec.classifier.threshold) == ("tfidf", 0.5)


def test_examples_from_a_yaml_file_and_inline_build_the_same_classifier(tmp_path: Path) -> None:
    listed = "".join(f"  - {t}\n" for t in CODE)
    yaml_file = "code:\n" + listed + "chat:\n" + "".join(f"  - {t}\n" for t in CHAT)
    from_file = load_spec(
        _write(tmp_path, FILE_SECTION.format(ext="yaml"), **{"data/examples.yaml": yaml_file}),
        environ=ENV,
    )
    inline = f"""classifier:
  labels: [code, chat]
  examples: {{code: {json.dumps(CODE)}, chat: {json.dumps(CHAT)}}}
  fallback: chat
"""
    written = load_spec(_write(tmp_path / "inline", inline), environ=ENV)

    assert from_file.classifier is not None and written.classifier is not None
    assert from_file.classifier.examples == written.classifier.examples
    assert from_file.classifier.fingerprint == written.classifier.fingerprint


def test_the_fingerprint_changes_with_what_training_reads(tmp_path: Path) -> None:
    section = """classifier:
  labels: [code, chat]
  examples: {{code: {code}, chat: {chat}}}
  fallback: chat
  seed: {seed}
"""

    def fingerprint(code: list[str], seed: int) -> str:
        text = section.format(code=json.dumps(code), chat=json.dumps(CHAT), seed=seed)
        spec = load_spec(_write(tmp_path / f"s{seed}{len(code)}", text), environ=ENV)
        assert spec.classifier is not None
        return spec.classifier.fingerprint

    same = fingerprint(CODE, 0)
    assert fingerprint(CODE, 0) == same
    assert fingerprint(CODE, 1) != same
    assert fingerprint([*CODE, "one more"], 0) != same


def test_a_bad_jsonl_line_is_reported_at_its_line_of_the_examples_file(tmp_path: Path) -> None:
    rows = _jsonl([(t, "code") for t in CODE] + [(t, "chat") for t in CHAT])
    broken = rows + '{"text": "no label"}\nnot json at all\n{"text": "x", "label": "cooking"}\n'
    spec_path = _write(
        tmp_path, FILE_SECTION.format(ext="jsonl"), **{"data/examples.jsonl": broken}
    )
    report = validate_file(spec_path, environ=ENV)
    found = [(d.code, Path(d.file or "").name, d.line) for d in report.errors]

    assert found == [
        ("classifier-examples", "examples.jsonl", 11),
        ("classifier-examples", "examples.jsonl", 12),
        ("classifier-unknown-label", "examples.jsonl", 13),
    ]
    assert "line 12 is not JSON" in report.errors[1].message
    assert report.spec is None


def test_a_yaml_examples_file_that_is_not_a_mapping_of_texts(tmp_path: Path) -> None:
    spec_path = _write(
        tmp_path,
        FILE_SECTION.format(ext="yaml"),
        **{"data/examples.yaml": "code:\n  - fix it\n  - {nested: 1}\n"},
    )
    (error, *_) = validate_file(spec_path, environ=ENV).errors

    assert (error.code, Path(error.file or "").name, error.line) == (
        "classifier-examples",
        "examples.yaml",
        3,
    )
    assert error.message == "an example is not a text"


def test_an_examples_file_of_another_kind_says_which_kinds_are_read(tmp_path: Path) -> None:
    spec_path = _write(tmp_path, FILE_SECTION.format(ext="csv"), **{"data/examples.csv": "a,b\n"})
    (error,) = validate_file(spec_path, environ=ENV).errors

    assert (error.code, error.path, error.line) == (
        "classifier-examples",
        "$.classifier.examples",
        11,
    )
    assert "neither .jsonl nor .yaml" in error.message


def _hide(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """This environment without ``modules`` installed, as find_spec sees it."""
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> Any:
        return None if name in modules else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


INLINE = f"""classifier:
  labels: [code, chat]
  examples: {{code: {json.dumps(CODE)}, chat: {json.dumps(CHAT)}}}
  fallback: chat
  backend: BACKEND
"""


@pytest.mark.parametrize(
    ("backend", "hidden", "extra"),
    [("tfidf", "sklearn", "classifier"), ("embeddings", "onnxruntime", "embeddings")],
)
def test_a_missing_extra_is_named_by_validate_and_by_the_router(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str, hidden: str, extra: str
) -> None:
    spec_path = _write(tmp_path, INLINE.replace("BACKEND", backend))
    spec = load_spec(spec_path, environ=ENV)  # valid while the packages are there
    _hide(monkeypatch, hidden)
    install = f"pip install 'declarative-llm-router[{extra}]'"

    (error,) = validate_file(spec_path, environ=ENV).errors
    assert (error.code, error.path, error.line) == (
        "classifier-extra-missing",
        "$.classifier.backend",
        13,
    )
    assert install in error.message and hidden in error.message
    with pytest.raises(ConfigError, match=r"\[classifier-extra-missing\]") as caught:
        Router(spec, environ=ENV, preload=False)
    assert install in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_validating_and_loading_a_classifier_spec_imports_no_backend() -> None:
    code = (
        "import sys\n"
        "from router.spec import load_spec\n"
        "load_spec('configs/classifier.yaml', environ={})\n"
        "heavy = {'sklearn', 'numpy', 'scipy', 'onnxruntime', 'tokenizers'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
