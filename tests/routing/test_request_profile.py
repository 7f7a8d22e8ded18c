"""Provider quirks are properties of the adapter class: the request builder reads them from
the target's profile and never asks which provider type it is talking to."""

from __future__ import annotations

from dataclasses import replace

import pytest

from router.providers.base import RequestProfile
from router.providers.registry import PROVIDER_TYPES, get_adapter_class, profile_of
from router.routing.call import build_request

from .helpers import Clock, call, load, targets

SPEC = "  default: {candidates: [small, medium, large]}\n"


def test_each_adapter_class_states_its_request_quirks() -> None:
    assert get_adapter_class("anthropic").profile() == RequestProfile(
        4096, penalties=False, cache_read_multiple=0.1, cache_write_multiple=1.25,
        reasoning_param="thinking",
    )  # fmt: skip
    assert get_adapter_class("openai").profile() == RequestProfile(
        None, penalties=True, cache_read_multiple=0.5, reasoning_param="reasoning_effort"
    )
    assert get_adapter_class("openai_compatible").profile() == RequestProfile(
        None, True, reasoning_param="reasoning_effort"
    )


@pytest.mark.parametrize("provider_type", PROVIDER_TYPES)
def test_a_target_reads_its_profile_from_its_provider_types_adapter(provider_type: str) -> None:
    spec = load(SPEC)
    types = dict.fromkeys(spec.providers, provider_type)
    target = targets(spec, Clock(), types)["small"]
    assert target.profile == get_adapter_class(provider_type).profile()
    assert profile_of(provider_type) == target.profile


def test_the_request_follows_the_profile_not_the_provider_type() -> None:
    spec = load(
        "  default:\n    candidates: [small]\n"
        "    params: {presence_penalty: 0.5, frequency_penalty: 0.25}\n"
    )
    target = targets(spec, Clock())["small"]
    strict = replace(target, profile=RequestProfile(default_max_tokens=123, penalties=False))
    request = build_request(spec, call(spec), strict, 12.0)
    assert request.max_tokens == 123
    assert "presence_penalty" not in request.extra and "frequency_penalty" not in request.extra
    lenient = build_request(spec, call(spec), replace(target, profile=RequestProfile()), 12.0)
    assert lenient.max_tokens is None
    assert lenient.extra == {"presence_penalty": 0.5, "frequency_penalty": 0.25}
