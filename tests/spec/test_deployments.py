"""Deployments in the spec: the long form and the two short ones, names, state keys, and what a
deployment takes from its model and its provider."""

from __future__ import annotations

from router.spec import validate_bytes
from router.specmodel import Spec

HEAD = """\
version: 1
providers:
  openai: {type: openai, api_key_env: OPENAI_API_KEY}
  azure:
    type: openai_compatible
    base_url: "https://example.openai.azure.com/v1"
    api_key_env: AZURE_KEY
  vllm: {type: openai_compatible, base_url: "http://10.0.0.1:8000/v1", local: true}
models:
"""
ENV = {"OPENAI_API_KEY": "k", "OPENAI_API_KEY_2": "k", "AZURE_KEY": "k"}


def build(models: str, extra: str = "") -> Spec:
    text = HEAD + models + "tasks:\n  default: {candidates: [m]}\n" + extra
    report = validate_bytes(text.encode(), "<test>", environ=ENV, strict=True)
    assert report.spec is not None, [d.render() for d in report.diagnostics]
    return report.spec


def test_a_model_without_deployments_has_one_implicit_deployment_keyed_by_its_name() -> None:
    model = build("  m: {provider: openai, id: gpt-4o}\n").models["m"]
    assert model.deployments == ()
    (only,) = model.pool()
    assert (only.name, only.provider, only.id, only.key, only.implicit) == (
        "openai",
        "openai",
        "gpt-4o",
        "m",
        True,
    )
    assert model.balance == "weighted"


def test_a_key_pool_is_one_deployment_per_key_variable() -> None:
    model = build(
        "  m: {provider: openai, id: gpt-4o, api_key_envs: [OPENAI_API_KEY, OPENAI_API_KEY_2]}\n"
    ).models["m"]
    assert [(d.name, d.provider, d.id, d.api_key_env, d.key) for d in model.deployments] == [
        ("OPENAI_API_KEY", "openai", "gpt-4o", "OPENAI_API_KEY", "m/OPENAI_API_KEY"),
        ("OPENAI_API_KEY_2", "openai", "gpt-4o", "OPENAI_API_KEY_2", "m/OPENAI_API_KEY_2"),
    ]


def test_replicas_are_one_deployment_per_base_url_named_provider_n() -> None:
    model = build(
        "  m:\n    provider: vllm\n    id: llama\n    balance: least_busy\n"
        '    base_urls: ["http://10.0.0.1:8000/v1", "http://10.0.0.2:8000/v1"]\n'
    ).models["m"]
    assert [(d.name, d.base_url) for d in model.deployments] == [
        ("vllm-1", "http://10.0.0.1:8000/v1"),
        ("vllm-2", "http://10.0.0.2:8000/v1"),
    ]
    assert model.balance == "least_busy"


def test_the_same_model_on_two_providers_with_weights_and_own_prices() -> None:
    spec = build(
        "  m:\n    id: gpt-4o\n    pricing: {input: 2.5, output: 10}\n    deployments:\n"
        "      - {provider: openai, weight: 3}\n"
        "      - {provider: azure, id: prod-4o, pricing: {input: 2, output: 8},"
        " timeouts: {request: 20}}\n",
        extra="defaults: {balance: latency}\n",
    )
    model = spec.models["m"]
    openai, azure = model.deployments
    assert (model.provider, model.balance) == ("openai", "latency")
    assert (openai.name, openai.weight, openai.id, openai.pricing) == (
        "openai",
        3.0,
        "gpt-4o",
        None,
    )
    assert (azure.name, azure.weight, azure.id) == ("azure", 1.0, "prod-4o")
    assert azure.pricing is not None and azure.pricing.input == 2
    reached = spec.deployment_provider(azure)
    assert reached.timeouts.request == 20 and reached.base_url == spec.providers["azure"].base_url
    assert spec.deployment_provider(openai) is spec.providers["openai"]


def test_a_deployment_url_is_checked_like_a_providers() -> None:
    text = (
        HEAD
        + '  m: {provider: openai, id: x, base_urls: ["http://169.254.169.254/v1", "ftp://a/b"]}\n'
        + "tasks:\n  default: {candidates: [m]}\n"
    )
    report = validate_bytes(text.encode(), "<test>", environ=ENV)
    assert sorted(d.code for d in report.errors) == ["unsafe-base-url", "unsafe-base-url"]
    assert all("deployment 'openai-" in d.message for d in report.errors)


def test_an_unset_deployment_key_is_a_warning_naming_the_variable_only() -> None:
    text = HEAD + "  m: {provider: openai, id: x, api_key_envs: [OPENAI_API_KEY, SPARE_KEY]}\n"
    text += "tasks:\n  default: {candidates: [m]}\n"
    report = validate_bytes(text.encode(), "<test>", environ=ENV)
    assert report.spec is not None
    (warning,) = [d for d in report.diagnostics if d.code == "env-unset"]
    assert "SPARE_KEY" in warning.message and warning.path == "$.models.m.api_key_envs[1]"


def test_a_hedge_over_one_model_with_several_deployments_is_not_flagged() -> None:
    text = (
        HEAD + "  m: {provider: openai, id: x, api_key_envs: [OPENAI_API_KEY, OPENAI_API_KEY_2]}\n"
    )
    text += "tasks:\n  default: {candidates: [m], hedge: {after: 1}}\n"
    report = validate_bytes(text.encode(), "<test>", environ=ENV, strict=True)
    assert report.spec is not None, [d.render() for d in report.diagnostics]
    alone = text.replace(", api_key_envs: [OPENAI_API_KEY, OPENAI_API_KEY_2]", "")
    report = validate_bytes(alone.encode(), "<test>", environ=ENV)
    assert [d.code for d in report.warnings] == ["hedge-without-target"]
