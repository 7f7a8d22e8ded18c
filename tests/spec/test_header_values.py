"""Values sent as HTTP headers (literal header values, header values and API keys read from
the environment) are refused when they cannot be sent as one header line: CR, LF, NUL, other
control characters, non-ASCII, surrounding whitespace. The error says where, never the value.
(Literal values in the spec file: tests/configs/invalid/122-*.yaml.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from router import Router
from router.errors import ConfigError
from router.spec import load_spec, validate_bytes
from router.spec.checks_environment import header_value_problem

SPEC = b"""version: 1
providers:
  openai:
    type: openai
    api_key_env: OPENAI_API_KEY
    headers:
      OpenAI-Organization: {env: ORG_ID}
models:
  mini: {provider: openai, id: gpt-4o-mini}
tasks:
  chat: {candidates: [mini]}
"""
KEY = "sk-proj-9c8b7a6d5e4f3a2b1c0d"
ORG = "org-platform-7e6d5c"

BAD_VALUES = [
    ("ends with a newline", "{}\n", "contains a line break (CR or LF)"),
    ("header injection", "{}\r\nX-Injected: 1", "contains a line break (CR or LF)"),
    ("carriage return", "{}\r", "contains a line break (CR or LF)"),
    ("NUL", "{}\x00", "contains a NUL character"),
    ("escape", "\x1b[31m{}", "contains the control character U+001B"),
    ("non-ASCII", "{}\u00e9", "contains characters outside ASCII"),
    ("trailing space", "{} ", "starts or ends with a space or tab"),
    ("leading tab", "\t{}", "starts or ends with a space or tab"),
]


@pytest.mark.parametrize(
    ("template", "words"), [b[1:] for b in BAD_VALUES], ids=[b[0] for b in BAD_VALUES]
)
def test_an_api_key_from_the_environment_that_cannot_be_a_header_is_refused_where_it_is_named(
    template: str, words: str
) -> None:
    report = validate_bytes(
        SPEC, "spec.yaml", environ={"OPENAI_API_KEY": template.format(KEY), "ORG_ID": ORG}
    )

    assert [(d.code, d.line, d.path) for d in report.errors] == [
        ("invalid-header", 5, "$.providers.openai.api_key_env")
    ]
    assert words in report.errors[0].message
    assert "OPENAI_API_KEY" in report.errors[0].message
    assert KEY[:12] not in report.errors[0].render()


@pytest.mark.parametrize(
    ("template", "words"), [b[1:] for b in BAD_VALUES], ids=[b[0] for b in BAD_VALUES]
)
def test_a_header_value_from_the_environment_that_cannot_be_sent_is_refused_at_its_env_line(
    template: str, words: str
) -> None:
    report = validate_bytes(
        SPEC, "spec.yaml", environ={"OPENAI_API_KEY": KEY, "ORG_ID": template.format(ORG)}
    )

    assert [(d.code, d.line, d.path) for d in report.errors] == [
        ("invalid-header", 7, "$.providers.openai.headers['OpenAI-Organization'].env")
    ]
    assert words in report.errors[0].message
    assert ORG not in report.errors[0].render()


@pytest.mark.parametrize(
    "value",
    ["Bearer abc", "a\tb", "x", "org-1; region=eu", "!#$%&'*+-.^_`|~"],
)
def test_ordinary_header_values_pass(value: str) -> None:
    assert header_value_problem(value) is None


def test_a_router_built_with_a_bad_environment_refuses_to_start_naming_the_variable(
    tmp_path: Path,
) -> None:
    spec_file = tmp_path / "routes.yaml"
    spec_file.write_bytes(SPEC)
    spec = load_spec(spec_file, environ={"OPENAI_API_KEY": KEY, "ORG_ID": ORG})

    # The spec was validated in one environment; the Router is built in another.
    with pytest.raises(ConfigError) as caught:
        Router(spec, environ={"OPENAI_API_KEY": KEY + "\n", "ORG_ID": ORG + "\r\nX-Evil: 1"})

    rendered = str(caught.value)
    assert [(d.code, d.path) for d in caught.value.diagnostics] == [
        ("invalid-header", "$.providers.openai.api_key_env"),
        ("invalid-header", "$.providers.openai.headers['OpenAI-Organization'].env"),
    ]
    assert "OPENAI_API_KEY" in rendered and "ORG_ID" in rendered
    assert str(spec_file) in rendered
    assert KEY not in rendered and ORG not in rendered


def test_router_from_yaml_refuses_a_key_with_a_trailing_newline_at_its_line(tmp_path: Path) -> None:
    spec_file = tmp_path / "routes.yaml"
    spec_file.write_bytes(SPEC)

    with pytest.raises(ConfigError) as caught:
        Router.from_yaml(spec_file, environ={"OPENAI_API_KEY": KEY + "\n"})

    errors = [d for d in caught.value.diagnostics if d.severity == "error"]
    assert [(d.code, d.line) for d in errors] == [("invalid-header", 5)]
    assert KEY not in str(caught.value)
