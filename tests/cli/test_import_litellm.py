"""`router import litellm`: LiteLLM proxy configs of six shapes (our own copies of the shapes in
LiteLLM's documentation) converted into specs that validate, with every setting either mapped or
listed, and no key written in the LiteLLM file anywhere in what the command prints or writes."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from router.cli import run
from router.engine.router import Router
from router.providers.presets import PRESETS
from router.spec import validate_bytes

HERE = Path(__file__).parent / "litellm"
SHAPES = ("simple", "groups", "fallbacks", "redis", "keys", "unsupported")

# What the importer maps (so needs no note); everything else a LiteLLM file says must be named
# on stderr. Paths as the notes write them: section.key, model_list[i] (group).section.key.
MAPPED = {
    "model_name",
    "litellm_params.model",
    "litellm_params.api_key",
    "litellm_params.api_base",
    "litellm_params.rpm",
    "litellm_params.tpm",
    "litellm_params.order",
    "litellm_params.weight",
    "litellm_params.temperature",
    "litellm_params.max_tokens",
    "model_info.input_cost_per_token",
    "model_info.output_cost_per_token",
    "model_info.cache_read_input_token_cost",
    "model_info.cache_creation_input_token_cost",
    "model_info.max_input_tokens",
    "model_info.max_output_tokens",
    "model_info.supports_vision",
    "model_info.supports_function_calling",
    "model_info.mode",
    "router_settings.fallbacks",
    "router_settings.context_window_fallbacks",
    "router_settings.content_policy_fallbacks",
    "router_settings.default_fallbacks",
    "router_settings.retry_after",
    "litellm_settings.cache",
    "litellm_settings.cache_params.ttl",
    "litellm_settings.cache_params.namespace",
    "litellm_settings.budget_duration",
}


def _import(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(["import", "litellm", *args], out, err)
    return code, out.getvalue(), err.getvalue()


def _variables(spec_text: str) -> dict[str, str]:
    """Every variable the converted spec names, set (as a deployment would set them)."""
    names = re.findall(r"(?:api_key_env|url_env): ([A-Za-z0-9_]+)", spec_text)
    for preset in re.findall(r"preset: (\w+)", spec_text):  # the variable a preset names
        names.append(PRESETS[preset].api_key_env or "")
    names = [n for n in names if n]
    return {
        name: "redis://127.0.0.1:6390/0" if name.startswith("REDIS") else "k-" + name.lower()
        for name in names
    }


@pytest.mark.parametrize("shape", SHAPES)
def test_each_shape_converts_to_its_golden_spec_which_validates(shape: str, tmp_path: Path) -> None:
    out = tmp_path / "routes.yaml"
    code, stdout, stderr = _import(str(HERE / f"{shape}.yaml"), "-o", str(out))
    assert code == 0, stderr
    assert stdout == ""
    text = out.read_text()
    golden = HERE / f"{shape}.routes.yaml"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text(), f"golden {golden.name} differs (UPDATE_GOLDEN=1 rewrites it)"
    # Valid, with nothing to warn about once the variables it names are set.
    report = validate_bytes(text.encode(), "routes.yaml", environ=_variables(text), strict=True)
    assert report.ok and report.diagnostics == (), [d.render() for d in report.diagnostics]
    assert f"router import: {out}:" in stderr.splitlines()[-1]


def _settings(data: Any) -> list[str]:
    """Every setting of a LiteLLM config, as the notes name them."""
    found: list[str] = []
    for i, entry in enumerate(data.get("model_list") or []):
        group = entry.get("model_name")
        for section in ("litellm_params", "model_info"):
            for key in entry.get(section) or {}:
                found.append(f"model_list[{i}] ({group}).{section}.{key}")
    for section in ("router_settings", "litellm_settings", "general_settings"):
        for key, value in (data.get(section) or {}).items():
            if key == "cache_params":
                found += [f"{section}.cache_params.{k}" for k in value]
            else:
                found.append(f"{section}.{key}")
    found += [f"environment_variables.{k}" for k in data.get("environment_variables") or {}]
    return found


@pytest.mark.parametrize("shape", SHAPES)
def test_no_setting_is_dropped_silently(shape: str) -> None:
    source = HERE / f"{shape}.yaml"
    code, text, stderr = _import(str(source))
    assert code == 0
    data = yaml.safe_load(source.read_text())
    for setting in _settings(data):
        generic = re.sub(r"^model_list\[\d+\] \([^)]*\)\.", "", setting)
        if generic in MAPPED:
            continue
        deployment = setting.split(".", 1)[0]
        # Named in a note (some notes name several settings: "a, b: ..."), itself or the
        # whole deployment it belongs to.
        assert re.search(rf": (.*, )?{re.escape(setting)}[,:]", stderr) or (
            f": {deployment}: " in stderr
        ), f"{setting} is neither mapped nor listed"
    # ...and what is not converted is in the file too, as comments.
    listed = [line for line in stderr.splitlines() if ": not converted: " in line]
    for line in listed:
        where = line.split(": not converted: ", 1)[1].split(": ", 1)[0]
        assert f"#   - {where}:" in text


CANARIES = (
    "AAAAcanary",
    "BBBBcanary",
    "CCCCcanary",
    "DDDDcanary",
    "EEEEcanary",
    "FFFFcanary",
    "GGGGcanary",
    "HHHHcanary",
)


def test_keys_written_in_the_file_are_never_copied(tmp_path: Path) -> None:
    out = tmp_path / "routes.yaml"
    code, _, stderr = _import(str(HERE / "keys.yaml"), "-o", str(out))
    assert code == 0
    text = out.read_text()
    for canary in CANARIES:
        assert canary not in text and canary not in stderr, canary
    spec = yaml.safe_load(text)
    providers = spec["providers"]
    # Two different literal OpenAI keys: two variables, each named in a warning.
    assert providers["openai"]["api_key_env"] == "OPENAI_API_KEY"
    assert providers["openai-2"]["api_key_env"] == "OPENAI_API_KEY_2"
    assert providers["anthropic"]["api_key_env"] == "ANTHROPIC_API_KEY"
    assert "export OPENAI_API_KEY_2=<that key>" in stderr
    assert stderr.count(": warning: ") == 4  # three keys, one URL with a password
    # os.environ/NAME is kept as the variable's name; credentials in a URL are taken out.
    assert providers["groq"]["api_key_env"] == "MY_GROQ_KEY"
    assert providers["openai-3"]["base_url"] == "https://llm.internal.example.com/v1"


def test_keys_never_appear_in_errors_either(tmp_path: Path) -> None:
    key = "sk-proj-ZZZZcanaryBROKEN1234567890abcdef"
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        f"model_list:\n  - model_name: a\n    litellm_params: {{api_key: {key}}}\n\tx: 1\n"
    )
    nothing = tmp_path / "nothing.yaml"
    nothing.write_text(
        "model_list:\n  - model_name: a\n"
        f"    litellm_params: {{model: bedrock/x, api_key: {key}}}\n"
    )
    for path in (broken, nothing):
        code, text, stderr = _import(str(path))
        assert code == 1 and text == ""
        assert "ZZZZcanary" not in stderr
    assert "no model could be converted" in stderr


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    out = tmp_path / "routes.yaml"
    out.write_text("mine\n")
    code, _, stderr = _import(str(HERE / "simple.yaml"), "-o", str(out))
    assert code == 2 and "exists; pass --force" in stderr
    assert out.read_text() == "mine\n"
    code, _, _ = _import(str(HERE / "simple.yaml"), "-o", str(out), "--force")
    assert code == 0 and out.read_text().startswith("# Converted from the LiteLLM config")


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    code, _, stderr = _import(str(tmp_path / "nope.yaml"))
    assert code == 2 and "cannot read" in stderr


def test_the_converted_chains_are_litellms(tmp_path: Path) -> None:
    """A group's deployments behind one model, then the fallback groups' models; a
    context-window-only fallback moves on for context-window failures only."""
    out = tmp_path / "routes.yaml"
    assert _import(str(HERE / "fallbacks.yaml"), "-o", str(out))[0] == 0
    env = _variables(out.read_text())
    with Router.from_yaml(out, environ=env, preload=False) as router:
        plan = router.explain("gpt-4", prompt="hi")
        assert [c.model for c in plan.chain] == [
            "gpt-4",
            "claude-3-opus",
            "gpt-3.5-turbo",
            "gpt-4-turbo",
        ]
        haiku = router.spec.tasks["claude-3-haiku"]
        assert haiku.fallback_on == frozenset({"content_filter"})
    out2 = tmp_path / "groups.yaml"
    assert _import(str(HERE / "groups.yaml"), "-o", str(out2))[0] == 0
    with Router.from_yaml(out2, environ=_variables(out2.read_text()), preload=False) as router:
        # One model served by the group's deployments: the lowest `order` takes the traffic,
        # the others stand by (weight 0) for when it fails.
        assert [c.model for c in router.explain("gpt-4o", prompt="hi").chain] == ["gpt-4o"]
        spread = {d["name"]: d["share"] for d in router.deployments("gpt-4o")}
        assert spread == {"openai-2": 1.0, "openai": 0.0, "openai-3": 0.0}
