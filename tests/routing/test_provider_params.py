"""Provider parameters without I/O: which names a call may use, their values checked against
the models of its chain, the layers of ``params`` they come from, the body fields each
deployment is built with (and those it drops), the cache key, and what explain shows."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from router.errors import RequestError
from router.nodes.cache import cache_key
from router.providers.registry import profile_of
from router.routing.call import Target, build_request, prepare_call
from router.routing.extras import accepts, declared_names, fields_for, sent_fields
from router.spec import validate_bytes
from router.specmodel import ExtraParam, Spec
from router.types import Request

from .helpers import Clock, ScriptedNode

ENV = {"K": "sk-test"}
SPEC = """\
version: 1
providers:
  oai: {type: openai, api_key_env: K, extra_params: [service_tier, store]}
  ant: {type: anthropic, api_key_env: K}
  vllm:
    type: openai_compatible
    base_url: https://vllm.example.com/v1
    extra_params:
      top_k:
      guided_choice: {type: array}
models:
  gpt: {provider: oai, id: gpt-1}
  claude:
    provider: ant
    id: claude-1
    extra_params: [top_k, metadata.user_id, service_tier]
    params: {top_k: 5}
  llama: {provider: vllm, id: llama-1}
  mixed:
    deployments:
      - {provider: oai, id: gpt-1}
      - {provider: ant, id: claude-1}
    extra_params: [service_tier]
  emb: {provider: oai, id: emb-1, kind: embedding, dimensions: 8, extra_params: [user]}
defaults:
  params: {store: false}
tasks:
  both: {candidates: [claude, gpt]}
  gpt-only: {candidates: [gpt], params: {service_tier: flex}}
  claude-only: {candidates: [claude]}
  llama: {candidates: [llama]}
  mixed: {candidates: [mixed]}
  vectors: {candidates: [emb]}
"""


@pytest.fixture(scope="module")
def spec() -> Spec:
    report = validate_bytes(SPEC.encode(), "<test spec>", environ=ENV)
    assert report.spec is not None, [d.render() for d in report.errors]
    return report.spec


def prepare(spec: Spec, task: str = "both", **params: Any) -> Any:
    return prepare_call(spec, task, None, "hi", params, stream=False, unavailable=lambda m: None)


def request(spec: Spec, task: str, model: str, deployment: int = 0, **params: Any) -> Request:
    """The request built for ``model``'s deployment of a call of ``task``."""
    m = spec.models[model]
    d = m.pool()[deployment]
    provider = spec.providers[d.provider]
    target = Target(
        m,
        provider.name,
        ScriptedNode(Clock()),
        profile_of(provider.type),
        key=d.key,
        extra_params=accepts(spec, m, provider.name),
    )
    return build_request(spec, prepare(spec, task, **params), target, 10.0)


# --- declarations ---------------------------------------------------------------------------


def test_a_well_known_name_takes_its_type_from_the_provider_types_table(spec: Spec) -> None:
    tier = spec.providers["oai"].extra_params["service_tier"]
    assert (tier.type, "flex" in (tier.enum or ())) == ("string", True)
    assert spec.providers["vllm"].extra_params["guided_choice"] == ExtraParam(
        "guided_choice", "array"
    )
    assert declared_names(spec) == {
        "service_tier",
        "store",
        "top_k",
        "guided_choice",
        "metadata.user_id",
        "user",
    }


def test_a_model_served_by_two_provider_types_gets_each_ones_type(spec: Spec) -> None:
    mixed = spec.models["mixed"]
    at_openai = accepts(spec, mixed, "oai")["service_tier"]
    at_anthropic = accepts(spec, mixed, "ant")["service_tier"]
    assert at_openai.enum is not None and "flex" in at_openai.enum
    assert at_anthropic.enum == ("auto", "standard_only")


def test_an_embedding_model_takes_only_what_it_declares_itself(spec: Spec) -> None:
    assert list(accepts(spec, spec.models["emb"], "oai")) == ["user"]


# --- per call -------------------------------------------------------------------------------


def test_a_name_no_provider_or_model_declares_is_an_unknown_parameter(spec: Spec) -> None:
    with pytest.raises(RequestError, match="unknown parameter top_p_k; accepted: ") as caught:
        prepare(spec, top_p_k=3)
    assert caught.value.argument == "top_p_k"
    assert "provider parameters: guided_choice, metadata.user_id" in str(caught.value)


def test_extra_body_is_refused_pointing_at_extra_params(spec: Spec) -> None:
    with pytest.raises(RequestError, match=r"declare each field .* under extra_params") as c:
        prepare(spec, extra_body={"service_tier": "flex"})
    assert c.value.argument == "extra_body"


@pytest.mark.parametrize("name", ["extra_query", "default_query", "api_key", "base_url"])
def test_endpoint_key_and_query_overrides_stay_refused(spec: Spec, name: str) -> None:
    with pytest.raises(RequestError, match=f"per-call {name} is refused") as caught:
        prepare(spec, **{name: "x"})
    assert caught.value.argument == name


def test_a_name_no_model_of_the_chain_accepts_is_refused_naming_who_does(spec: Spec) -> None:
    with pytest.raises(RequestError) as caught:
        prepare(spec, "gpt-only", top_k=3)
    assert caught.value.argument == "top_k"
    assert "no model this call may reach accepts it (gpt); declared by claude, llama" in str(
        caught.value
    )


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"service_tier": "slow"}, "'slow' is not one of auto, standard_only"),
        ({"service_tier": "flex"}, "'flex' is not one of auto, standard_only (as model 'claude'"),
        ({"top_k": -1}, "-1 is not an integer >= 0 (as model 'claude' takes it)"),
        ({"top_k": True}, "True is not an integer >= 0"),
        ({"store": "no"}, "'no' is not a boolean (as model 'gpt' takes it)"),
    ],
)
def test_a_value_is_checked_against_every_model_of_the_chain_that_takes_it(
    spec: Spec, params: dict[str, Any], words: str
) -> None:
    with pytest.raises(RequestError) as caught:
        prepare(spec, **params)
    assert words in str(caught.value)
    assert caught.value.argument == next(iter(params))


def test_a_value_must_be_json_all_the_way_down(spec: Spec) -> None:
    with pytest.raises(RequestError) as caught:
        prepare(spec, "llama", guided_choice=["a", float("nan")])
    assert caught.value.argument == "guided_choice"


def test_none_means_not_given(spec: Spec) -> None:
    assert "service_tier" not in request(spec, "both", "gpt", service_tier=None).extra


# --- what each deployment is sent ------------------------------------------------------------


def test_each_model_gets_only_the_fields_it_declares_dotted_names_nested(spec: Spec) -> None:
    params = {"service_tier": "auto", "metadata.user_id": "u-1"}
    to_claude = request(spec, "both", "claude", **params).extra
    to_gpt = request(spec, "both", "gpt", **params).extra
    assert to_claude == {"service_tier": "auto", "metadata": {"user_id": "u-1"}, "top_k": 5}
    assert to_gpt == {"service_tier": "auto", "store": False}


def test_a_call_overrides_the_task_which_overrides_the_model_and_the_defaults(
    spec: Spec,
) -> None:
    assert request(spec, "gpt-only", "gpt").extra == {"service_tier": "flex", "store": False}
    assert request(spec, "gpt-only", "gpt", service_tier="priority", store=True).extra == {
        "service_tier": "priority",
        "store": True,
    }
    assert request(spec, "claude-only", "claude", top_k=40).extra == {"top_k": 40}


def test_a_deployment_whose_provider_does_not_declare_a_field_drops_it(spec: Spec) -> None:
    assert request(spec, "mixed", "mixed", 0, service_tier="auto").extra == {
        "service_tier": "auto",
        "store": False,  # the defaults' store: declared by the OpenAI provider only
    }
    assert request(spec, "mixed", "mixed", 1, service_tier="auto").extra == {"service_tier": "auto"}
    with pytest.raises(RequestError, match="as model 'mixed' takes it"):
        prepare(spec, "mixed", service_tier="flex")  # its Anthropic deployment's enum refuses it


def test_a_dropped_field_is_a_debug_event_naming_it_never_its_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    accepted = {"top_k": ExtraParam("top_k", "integer")}
    with caplog.at_level(logging.DEBUG, logger="router.params"):
        fields = fields_for(accepted, {"top_k": 3, "user": "alice@example.com"}, "m", "m/d")
    assert fields == {"top_k": 3}
    [record] = caplog.records
    assert "user" in record.getMessage() and "model 'm'" in record.getMessage()
    assert "alice" not in record.getMessage()


def test_the_fields_are_part_of_the_cache_key(spec: Spec) -> None:
    keys = {
        cache_key(request(spec, "gpt-only", "gpt", service_tier=tier), "ns")
        for tier in ("flex", "priority", "flex")
    }
    assert len(keys) == 2


def test_explain_lists_what_each_model_gets_and_drops(spec: Spec) -> None:
    call = prepare(spec, "both", service_tier="auto")
    assert sent_fields(spec, call.plan, {"service_tier": "auto"}) == {
        "claude": {"sent": ["service_tier", "top_k"], "dropped": ["store"]},
        "gpt": {"sent": ["service_tier", "store"], "dropped": []},
    }
    mixed = prepare(spec, "mixed", service_tier="auto")
    rows = sent_fields(spec, mixed.plan, {"service_tier": "auto"})
    assert rows["mixed"] == {
        "deployments": {
            "oai": {"sent": ["service_tier", "store"], "dropped": []},
            "ant": {"sent": ["service_tier"], "dropped": ["store"]},
        }
    }
