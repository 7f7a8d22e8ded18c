"""The corpus of broken specs: every file in tests/configs/invalid/ must give exactly the errors
its header announces.

A corpus file starts with comment lines that say what the validator must report, then the spec:

    # expect: LINE CODE PATH | words
    # environ: NAME=value,NAME2=value    (optional; the environment is empty otherwise)
    # strict: true                       (optional; validate with strict=True)
    # require-env: true                  (optional; validate with require_env=True)
    # secret: VALUE                      (optional; VALUE must never be shown)

One ``expect`` line per error: LINE is the 1-based line the error points at, CODE its code,
PATH its JSON path (``-`` when the error is about the file and has none), and the words after
``|`` must appear in its message or hint. The errors and the expect lines must match one to
one, so a file with three mistakes must report exactly three errors. Warnings are not counted
(tests/spec/test_warnings.py covers them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from router import diagnostics
from router.spec import Diagnostic, validate_bytes

CORPUS = Path(__file__).parents[1] / "configs" / "invalid"
SPEC_SOURCE = Path(__file__).parents[2] / "router" / "spec"
FILES = sorted(CORPUS.glob("*.yaml"))

# Every code the validator gives for an error, by where it comes from. A code missing here
# fails test_code_catalogue_matches_the_source; a code here that no corpus file expects fails
# test_corpus_covers_every_error_code.
ERROR_CODES = {
    # loading the YAML (router/spec/yamlload.py)
    "yaml-syntax",
    "yaml-encoding",
    "yaml-empty",
    "yaml-tag",
    "yaml-key",
    "yaml-merge",
    "yaml-alias",
    "yaml-depth",
    "yaml-too-large",
    "duplicate-key",
    # the version (router/spec/__init__.py)
    "missing-version",
    "unsupported-version",
    # the JSON Schema (router/spec/schema.py)
    "wrong-type",
    "unknown-key",
    "missing-key",
    "invalid-value",
    "invalid-name",
    "out-of-range",
    "too-few",
    "too-many",
    "too-short",
    "too-long",
    "duplicate-item",
    # semantic checks (router/spec/checks.py)
    "unknown-provider",
    "unknown-model",
    "unknown-task",
    "duplicate-name",
    "fallback-self-loop",
    "fallback-cycle",
    "capability-mismatch",
    "context-window-too-small",
    "rule-never-matches",
    "rule-self-route",
    "shadowed-rule",
    "outside-only",
    # what a rule's confinement leaves, planned with the built spec (router/spec/checks_rules.py)
    "confined-rule-empty",
    "non-finite-number",
    "output-exceeds-window",
    "latency-prior",
    "priority-weights",
    # deployments (router/spec/checks_deployments.py)
    "deployment-forms",
    "duplicate-deployment",
    "deployment-weights",
    "missing-provider",
    "missing-id",
    "invalid-url",
    "invalid-header",
    "reserved-header",
    "unsafe-base-url",
    "secret-in-config",
    # embedding models (router/spec/checks_embeddings.py)
    "embedding-provider",
    "dimensions-without-embedding",
    "pricing-output-missing",
    "embedding-dimensions",
    "mixed-model-kinds",
    # the classifier and the rules' label conditions (router/spec/checks_classifier.py) and
    # its examples file (router/spec/examples.py)
    "classifier-examples",
    "classifier-unknown-label",
    "classifier-label-unused",
    "classifier-few-examples",
    "unknown-label",
    # content rules (router/spec/checks_content.py, router/spec/regexcheck.py)
    "empty-keyword",
    "duplicate-keyword",
    "regex-invalid",
    "regex-unsupported",
    "regex-backtracks",
    "regex-matches-empty",
    # provider parameters (router/spec/checks_extras.py)
    "reserved-param",
    "untyped-param",
    "undeclared-param",
    # guardrails (router/spec/checks_guardrails.py)
    "unknown-guardrail",
    "guardrail-setting",
    "guardrail-action",
    "guardrail-empty",
    # a note that require_env (router validate --require-env) turns into an error
    "env-unset",
}
# Warnings (errors only with strict=True); tests/spec/test_warnings.py covers each of them.
WARNING_CODES = {
    "hedge-without-target",
    "unreachable-model",
    "duplicate-in-chain",
    "insecure-base-url",
    "priority-without-data",
    "context-window-unknown",
    "rule-drops-fallbacks",
    "task-fallback-adds-nothing",
    "classifier-ambiguous-example",
    "timeout-total-ignored",
}
# Notes (errors only with require_env=True).
NOTE_CODES = {"env-unset", "hooks-named"}
# Dashed string literals in router/spec that are not codes validate_bytes can give.
NOT_CODES = {
    "io-error",  # load_spec and the CLI, when the file cannot be read
    # header names whose literal values are secrets
    "api-key",
    "proxy-authorization",
    "x-api-key",
    "x-auth-token",
    # header names the spec may not set (checks_providers._FRAMING_HEADERS)
    "content-length",
    "transfer-encoding",
    "keep-alive",
}
# "schema" is the fallback code for a JSON Schema keyword without its own wording; every
# keyword routes.schema.json uses has one, so it cannot occur. "classifier-extra-missing"
# needs the backend's packages uninstalled, and the test environment has them: covered by
# tests/spec/test_classifier_spec.py, which hides them.
UNREACHABLE_CODES = {"schema", "classifier-extra-missing"}

_EXPECT = re.compile(r"^(?P<line>\d+) (?P<code>[a-z0-9-]+) (?P<path>.+?) \| (?P<words>.+)$")
_DIRECTIVE = re.compile(r"^# (?P<name>expect|environ|strict|require-env|secret): ?(?P<value>.*)$")


@dataclass(frozen=True)
class Expectation:
    line: int
    code: str
    path: str  # "" for file-level errors
    words: str

    def matches(self, d: Diagnostic) -> bool:
        text = f"{d.message} ({d.hint})" if d.hint else d.message
        return (
            d.line == self.line
            and d.code == self.code
            and d.path == self.path
            and self.words in text
        )

    def __str__(self) -> str:
        return f"{self.line} {self.code} {self.path or '-'} | {self.words}"


@dataclass
class Case:
    expectations: list[Expectation] = field(default_factory=list)
    environ: dict[str, str] = field(default_factory=dict)
    strict: bool = False
    require_env: bool = False
    secrets: list[str] = field(default_factory=list)


def _header_text(raw: bytes) -> str:
    """The file as text, enough to read its header: files that are broken on purpose may be
    UTF-16 or hold bytes that are not UTF-8."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    return raw.decode("utf-8", errors="replace")


def parse_case(raw: bytes) -> Case:
    case = Case()
    for text in _header_text(raw).splitlines():
        if not text.startswith("#"):
            break  # the header ends where the spec starts
        directive = _DIRECTIVE.match(text)
        if directive is None:
            continue  # a plain comment
        name, value = directive["name"], directive["value"].strip()
        if name == "expect":
            m = _EXPECT.match(value)
            assert m, f"malformed expect line: {text!r}"
            path = "" if m["path"] == "-" else m["path"]
            case.expectations.append(
                Expectation(int(m["line"]), m["code"], path, m["words"].strip())
            )
        elif name == "environ":
            for pair in value.split(","):
                key, _, val = pair.partition("=")
                case.environ[key.strip()] = val.strip()
        elif name == "strict":
            assert value in ("true", "false"), f"strict must be true or false: {text!r}"
            case.strict = value == "true"
        elif name == "require-env":
            assert value in ("true", "false"), f"require-env must be true or false: {text!r}"
            case.require_env = value == "true"
        else:
            case.secrets.append(value)
    return case


def _unmatched(case: Case, errors: tuple[Diagnostic, ...]) -> tuple[list[str], list[str]]:
    """Expectations no error satisfies, and errors no expectation accounts for (one to one)."""
    left = list(errors)
    missing = []
    for expectation in case.expectations:
        found = next((d for d in left if expectation.matches(d)), None)
        if found is None:
            missing.append(str(expectation))
        else:
            left.remove(found)
    return missing, [d.render() for d in left]


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_corpus_file_gives_exactly_its_expected_errors(path: Path) -> None:
    raw = path.read_bytes()
    case = parse_case(raw)
    assert case.expectations, f"{path.name} announces no errors"

    report = validate_bytes(
        raw,
        path.name,
        strict=case.strict,
        require_env=case.require_env,
        environ=case.environ,
    )

    missing, unexpected = _unmatched(case, report.errors)
    assert not missing and not unexpected, (
        f"\nexpected but not reported: {missing}\nreported but not expected: {unexpected}"
    )
    assert len(report.errors) == len(case.expectations)
    assert report.spec is None
    for secret in case.secrets:
        slices = {secret[i : i + 8] for i in range(len(secret) - 7)}
        for d in report.diagnostics:
            shown = [s for s in slices if s in d.render()]
            assert shown == [], f"{path.name} shows part of a secret: {d.render()}"


@pytest.mark.parametrize("raw", [b"", b"\n", b"   \n\n", b"\xef\xbb\xbf"], ids=repr)
def test_a_file_without_content_is_empty(raw: bytes) -> None:
    # A corpus file cannot be truly empty (it holds its expect line), so these are here.
    report = validate_bytes(raw, "empty.yaml", environ={})

    assert [(d.code, d.line) for d in report.errors] == [("yaml-empty", 1)]


def test_corpus_is_large_enough() -> None:
    assert len(FILES) >= 40


def test_corpus_files_are_named_nn_short_name() -> None:
    bad = [
        f.name for f in FILES if not re.fullmatch(r"\d{2,3}-[a-z0-9]+(?:-[a-z0-9]+)*\.yaml", f.name)
    ]
    numbers = [f.name.split("-", 1)[0] for f in FILES]

    assert bad == []
    assert len(set(numbers)) == len(numbers), "two corpus files share a number"


def test_corpus_covers_every_error_code() -> None:
    expected = {e.code for f in FILES for e in parse_case(f.read_bytes()).expectations}

    assert ERROR_CODES - expected == set(), "error codes no corpus file expects"
    assert expected - ERROR_CODES == set(), "corpus codes missing from ERROR_CODES"


def test_code_catalogue_matches_the_source() -> None:
    """Every code-shaped string in router/spec is a known code (or known not to be one), so a
    new check cannot be added without a corpus file for it."""
    source = "\n".join(p.read_text("utf-8") for p in sorted(SPEC_SOURCE.glob("*.py")))
    literals = set(re.findall(r"\"([a-z]+(?:-[a-z]+)+)\"", source))
    # checks.py names its reference errors f"unknown-{kind}", for three kinds of reference
    assert 'f"unknown-{kind}"' in source
    literals |= {f"unknown-{kind}" for kind in ("provider", "model", "task")}

    known = ERROR_CODES | WARNING_CODES | NOTE_CODES | NOT_CODES | UNREACHABLE_CODES
    assert literals - known == set(), "codes in router/spec that this catalogue lacks"
    assert (ERROR_CODES | WARNING_CODES | NOTE_CODES) - literals == set(), (
        "codes no longer in the source"
    )


def test_the_catalogue_of_codes_that_can_be_ignored_is_the_routers() -> None:
    # router validate --ignore CODE accepts exactly these.
    assert WARNING_CODES == diagnostics.WARNING_CODES
    assert NOTE_CODES == diagnostics.NOTE_CODES
