"""The shipped configs and the schema itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from router.spec import load_spec, validate_file
from router.spec.schema import schema

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))
SCHEMA_FILE = ROOT / "schemas" / "routes.schema.json"
KEYS = {
    "OPENAI_API_KEY": "k",
    "ANTHROPIC_API_KEY": "k",
    "ANTHROPIC_API_KEY_2": "k",
    "SANDBOX_API_KEY": "k",
}


def test_configs_exist() -> None:
    names = {p.name for p in CONFIGS}
    assert {"routes.yaml", "minimal.yaml"} <= names


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_every_config_is_valid_without_warnings_when_keys_are_set(config: Path) -> None:
    report = validate_file(config, strict=True, environ=KEYS)
    assert report.diagnostics == (), [d.render() for d in report.diagnostics]
    assert report.spec is not None


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_every_config_declares_the_schema_for_editors(config: Path) -> None:
    first = config.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/routes.schema.json"


def test_schema_is_valid_2020_12() -> None:
    document = json.loads(SCHEMA_FILE.read_text())
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(document)
    assert document["$id"]


def test_packaged_schema_is_the_published_one() -> None:
    assert schema() == json.loads(SCHEMA_FILE.read_text())


def _properties(node: Any, path: str = "$") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            found.append((f"{path}.properties.{name}", sub))
        for key, value in node.items():
            if key not in ("if", "then"):  # conditions restate properties; they are not new
                found += _properties(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _properties(value, f"{path}[{i}]")
    return found


def test_every_property_has_a_title_and_description() -> None:
    document = schema()
    defs = document["$defs"]
    for where, sub in _properties(document):
        target = defs[sub["$ref"].rsplit("/", 1)[-1]] if "$ref" in sub else {}
        assert sub.get("title") or target.get("title"), where
        assert sub.get("description") or target.get("description"), where


def test_refs_have_no_validating_siblings() -> None:
    """fastjsonschema (draft-07 semantics) ignores keywords beside $ref; 2020-12 does not.
    Only annotations may sit beside a $ref, so both read the schema the same way."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                assert set(node) <= {"$ref", "title", "description"}, node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema())


def test_closed_objects_reject_unknown_keys() -> None:
    """additionalProperties: false wherever a typo is possible: every object with fixed
    properties is closed."""

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if "properties" in node and node.get("type") == "object":
                assert node.get("additionalProperties") is False, where
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    walk(schema(), "$")


def test_routes_yaml_compiles_to_the_expected_spec() -> None:
    spec = load_spec(ROOT / "configs" / "routes.yaml", environ=KEYS)
    assert set(spec.providers) == {"openai", "anthropic", "local"}
    assert spec.providers["local"].local is True
    summarize = spec.tasks["summarize"]
    assert summarize.candidates == ("gpt-4o-mini", "claude-haiku")
    assert [str(f) for f in summarize.fallback] == ["llama-local"]
    # Task settings are resolved against defaults.
    assert summarize.params.temperature == 0.2
    assert summarize.params.max_tokens == 512
    assert spec.tasks["chat"].params.max_tokens is None
    chat_params = spec.params_for(spec.tasks["chat"], spec.models["gpt-4o"])
    assert (chat_params.max_tokens, chat_params.temperature) == (1024, 0.7)
    summarize_params = spec.params_for(summarize, spec.models["gpt-4o-mini"])
    assert (summarize_params.max_tokens, summarize_params.temperature) == (512, 0.2)
    assert spec.tasks["chat"].system_prompt == "You are a concise, friendly assistant."
    assert spec.tasks["summarize"].system_prompt == "You are a helpful assistant."
    assert spec.tasks["code"].retry.attempts == 3
    assert spec.tasks["code"].retry.max_retry_after == 30
    assert str(spec.tasks["chat"].priority) == "weighted(cost=0.3, latency=0.7)"
    assert spec.task("no-such-task") is spec.tasks["default"]
    # private-data comes first, so no other rule (images, huge inputs) can take tagged data
    # elsewhere; its candidates and empty fallback confine it to the local model.
    assert [r.name for r in spec.rules] == [
        "private-data",
        "huge-inputs",
        "images",
        "premium-tenant",
        "code-in-chat",
    ]
    code_in_chat = spec.rules[-1].when.text
    assert code_in_chat is not None and code_in_chat.scope == "last_user"
    assert [p.pattern for p in code_in_chat.regex] == [r"```|\bTraceback \(most recent call last\)"]
    private = spec.rules[0]
    assert (private.candidates, private.fallback) == (("llama-local",), ())
    assert spec.models["gpt-4o-mini"].pricing is not None
    assert spec.models["gpt-4o-mini"].pricing.cost(1_000_000, 0) == pytest.approx(0.15)


def test_spec_is_immutable() -> None:
    spec = load_spec(ROOT / "configs" / "minimal.yaml", environ=KEYS)
    with pytest.raises(AttributeError):
        spec.version = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.models["x"] = spec.models["gpt-4o-mini"]  # type: ignore[index]


def test_generated_fast_validator_is_fresh() -> None:
    """router/spec/_fastcheck.py must be regenerated (python -m router.spec.fastgen) after
    the schema changes."""
    import fastjsonschema

    from router.spec import fastgen

    committed = fastgen.TARGET.read_text()
    if f'VERSION = "{fastjsonschema.VERSION}"' not in committed:
        pytest.skip(f"generated with another fastjsonschema than {fastjsonschema.VERSION}")
    assert committed == fastgen.source(), "stale: run python -m router.spec.fastgen"
