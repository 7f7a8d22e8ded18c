"""The routing spec: load routes.yaml safely, validate it, and build the typed :class:`Spec`.

```
bytes ──yamlload──▶ Document (data + positions) ──schema──▶ errors
                                     └──────────checks──▶ errors, warnings
                                     └──(no errors)──build.build_spec──▶ Spec
```
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from router.diagnostics import Diagnostic
from router.errors import ConfigError
from router.spec.build import build_spec
from router.spec.checks import semantic_diagnostics
from router.spec.checks_rules import plan_diagnostics
from router.spec.schema import schema
from router.spec.schema_errors import schema_diagnostics
from router.spec.yamlload import Document, YamlError, load_yaml, paused_gc
from router.specmodel import SUPPORTED_VERSIONS, Spec

__all__ = [
    "Diagnostic",
    "Spec",
    "ValidationReport",
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
) -> ValidationReport:
    """Validate a spec given as bytes. ``strict`` turns every warning into an error."""
    with paused_gc():
        return _validate(raw, file, strict, os.environ if environ is None else environ)


def _validate(raw: bytes, file: str, strict: bool, env: Mapping[str, str]) -> ValidationReport:
    try:
        doc = load_yaml(raw, file)
    except YamlError as exc:
        return ValidationReport(file, tuple(exc.diagnostics), None)
    version = _version_error(doc)
    if version is not None:
        return ValidationReport(file, (version,), None)
    found = schema_diagnostics(doc) + semantic_diagnostics(doc, environ=env)
    spec = None
    if not any(d.severity == "error" for d in found):
        # Some findings need the built spec (what a rule's confinement leaves, by planning).
        spec = build_spec(doc.data, source=file, warnings=())
        found += plan_diagnostics(doc, spec)
    if strict:
        found = [replace(d, severity="error") for d in found]
    found.sort(key=lambda d: (d.line or 0, d.column or 0, d.severity != "error"))
    diagnostics = tuple(found)
    if spec is None or any(d.severity == "error" for d in diagnostics):
        return ValidationReport(file, diagnostics, None)
    return ValidationReport(file, diagnostics, replace(spec, warnings=diagnostics))


def validate_file(
    path: str | os.PathLike[str],
    *,
    strict: bool = False,
    environ: Mapping[str, str] | None = None,
) -> ValidationReport:
    """Validate the spec file at ``path``. Raises OSError when the file cannot be read."""
    raw = Path(path).read_bytes()
    return validate_bytes(raw, os.fspath(path), strict=strict, environ=environ)


def load_spec(
    path: str | os.PathLike[str],
    *,
    strict: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Spec:
    """Load, validate and build the spec at ``path``; raise :class:`ConfigError` listing every
    error (warnings ride along on ``Spec.warnings``)."""
    try:
        report = validate_file(path, strict=strict, environ=environ)
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
