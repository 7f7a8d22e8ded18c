"""The routing spec: load routes.yaml safely, validate it, and build the typed :class:`Spec`.

```
bytes ──yamlload──▶ Document (data + positions) ──schema──▶ errors
                                     └──────────checks──▶ errors, warnings
                                     └──(no errors)──build.build_spec──▶ Spec
```
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from router.diagnostics import ENV_NOTE_CODES, Diagnostic
from router.errors import ConfigError
from router.spec.build import build_spec
from router.spec.checks import semantic_diagnostics
from router.spec.checks_classifier import classifier_diagnostics
from router.spec.checks_rules import plan_diagnostics
from router.spec.examples import Examples, read_examples
from router.spec.schema import schema
from router.spec.schema_errors import schema_diagnostics
from router.spec.yamlload import Document, YamlError, load_yaml, paused_gc
from router.specmodel import SUPPORTED_VERSIONS, Spec

__all__ = [
    "Diagnostic",
    "Spec",
    "ValidationReport",
    "is_spec",
    "load_spec",
    "schema",
    "validate_bytes",
    "validate_file",
]


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """The outcome of validating one file: every diagnostic, and the spec when there were no
    errors."""

    file: str
    diagnostics: tuple[Diagnostic, ...]
    spec: Spec | None

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "warning")

    @property
    def notes(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "note")

    @property
    def ok(self) -> bool:
        return not self.errors


def _version_error(doc: Document) -> Diagnostic | None:
    data = doc.data
    if not isinstance(data, dict):
        return doc.diagnostic(
            (),
            "the spec must be a mapping of keys (version, providers, models, tasks...)",
            "wrong-type",
            hint="start from configs/minimal.yaml",
        )
    supported = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
    if "version" not in data:
        return doc.diagnostic(
            (),
            "the spec has no 'version'",
            "missing-version",
            hint=f"add `version: 1` (supported: {supported})",
        )
    version = data["version"]
    if isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
        hint = "upgrade the router, or write the spec in a supported version"
        if isinstance(version, str) and version.strip() in {str(v) for v in SUPPORTED_VERSIONS}:
            hint = f"write the number without quotes: `version: {version.strip()}`"
        return doc.diagnostic(
            ("version",),
            f"version {version!r} is not supported; this router reads version {supported}",
            "unsupported-version",
            hint=hint,
        )
    return None


def validate_bytes(
    raw: bytes,
    file: str = "<spec>",
    *,
    strict: bool = False,
    environ: Mapping[str, str] | None = None,
    require_env: bool = False,
    ignore: Collection[str] = (),
) -> ValidationReport:
    """Validate a spec given as bytes. ``strict`` turns every warning into an error;
    ``require_env`` turns every unset variable (a note otherwise) into an error; ``ignore``
    drops the warnings and notes with these codes (errors cannot be dropped), as a
    ``# router: ignore[CODE]`` comment on a finding's line drops it there."""
    with paused_gc():
        env = os.environ if environ is None else environ
        return _validate(raw, file, _Choices(strict, require_env, frozenset(ignore)), env)


@dataclass(frozen=True, slots=True)
class _Choices:
    strict: bool
    require_env: bool
    ignore: frozenset[str]


_IGNORE_COMMENT = re.compile(rb"#\s*router:\s*ignore\[([^\]]*)\]")


def _ignored_on_line(raw: bytes, lines: list[bytes] | None, line: int | None) -> set[str]:
    if line is None or lines is None or not 0 < line <= len(lines):
        return set()
    found = _IGNORE_COMMENT.search(lines[line - 1])
    if found is None:
        return set()
    return {c.strip() for c in found.group(1).decode("utf-8", "replace").split(",") if c.strip()}


def _chosen(found: list[Diagnostic], raw: bytes, choices: _Choices) -> list[Diagnostic]:
    """The findings after the user's choices: ignored warnings and notes dropped, then
    ``strict`` and ``require_env`` applied."""
    lines = raw.splitlines() if b"router:" in raw else None
    kept = []
    for d in found:
        if d.severity != "error" and (
            d.code in choices.ignore or d.code in _ignored_on_line(raw, lines, d.line)
        ):
            continue
        raise_it = (choices.strict and d.severity == "warning") or (
            choices.require_env and d.code in ENV_NOTE_CODES
        )
        kept.append(replace(d, severity="error") if raise_it else d)
    return kept


def _validate(raw: bytes, file: str, choices: _Choices, env: Mapping[str, str]) -> ValidationReport:
    try:
        doc = load_yaml(raw, file)
    except YamlError as exc:
        return ValidationReport(file, tuple(exc.diagnostics), None)
    version = _version_error(doc)
    if version is not None:
        return ValidationReport(file, (version,), None)
    found = schema_diagnostics(doc) + semantic_diagnostics(doc, environ=env)
    examples = read_examples(doc, file)
    found += classifier_diagnostics(doc, examples)
    spec = None
    if not any(d.severity == "error" for d in found):
        # Some findings need the built spec (what a rule's confinement leaves, by planning).
        spec = build_spec(_with_examples(doc.data, examples), source=file, warnings=())
        found += plan_diagnostics(doc, spec)
    found = _chosen(found, raw, choices)
    found.sort(key=lambda d: (d.line or 0, d.column or 0, d.severity != "error"))
    diagnostics = tuple(found)
    if spec is None or any(d.severity == "error" for d in diagnostics):
        return ValidationReport(file, diagnostics, None)
    return ValidationReport(file, diagnostics, replace(spec, warnings=diagnostics))


def _with_examples(data: dict[str, Any], examples: Examples | None) -> dict[str, Any]:
    """The spec's data with the classifier's examples as read (from its file, or inline)."""
    if examples is None:
        return data
    section = {**data["classifier"], "examples": examples.texts}
    if examples.file is not None:
        section["examples_file"] = examples.file
    return {**data, "classifier": section}


#: The top-level keys that make a YAML file a routes spec (``router validate --skip-non-specs``).
SPEC_KEYS = ("providers", "models", "tasks")
_SPEC_KEY_LINE = re.compile(rb"^(?:providers|models|tasks)[ \t]*:", re.MULTILINE)


def is_spec(raw: bytes) -> bool:
    """Whether ``raw`` is meant as a routes spec: its top level is a mapping with a
    ``providers``, ``models`` or ``tasks`` key. A file that cannot be parsed counts when one of
    those keys starts a line (a broken spec is still a spec, and must fail)."""
    try:
        data = load_yaml(raw, "<file>").data
    except YamlError:
        return _SPEC_KEY_LINE.search(raw) is not None
    return isinstance(data, dict) and any(key in data for key in SPEC_KEYS)


def validate_file(
    path: str | os.PathLike[str],
    *,
    strict: bool = False,
    environ: Mapping[str, str] | None = None,
    require_env: bool = False,
    ignore: Collection[str] = (),
) -> ValidationReport:
    """Validate the spec file at ``path`` (options as :func:`validate_bytes`). Raises OSError
    when the file cannot be read."""
    raw = Path(path).read_bytes()
    return validate_bytes(
        raw, os.fspath(path), strict=strict, environ=environ, require_env=require_env, ignore=ignore
    )


def load_spec(
    path: str | os.PathLike[str],
    *,
    strict: bool = False,
    environ: Mapping[str, str] | None = None,
    require_env: bool = False,
    ignore: Collection[str] = (),
) -> Spec:
    """Load, validate and build the spec at ``path`` (options as :func:`validate_bytes`); raise
    :class:`ConfigError` listing every error (warnings and notes ride along on
    ``Spec.warnings``)."""
    try:
        report = validate_file(
            path, strict=strict, environ=environ, require_env=require_env, ignore=ignore
        )
    except OSError as exc:
        raise ConfigError(
            [
                Diagnostic(
                    f"cannot read the spec: {exc.strerror or exc}",
                    code="io-error",
                    file=os.fspath(path),
                )
            ]
        ) from exc
    if report.spec is None:
        raise ConfigError(report.diagnostics)
    return report.spec
