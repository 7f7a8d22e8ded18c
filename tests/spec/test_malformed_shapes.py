"""The validator reports malformed specs; it never crashes on them.

The semantic checks run even when the schema has found errors (so a file with three mistakes
reports three), which means they see every wrong shape a user can write. Here every value of a
spec that uses every section is replaced, one at a time, by values of the wrong shape.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from router.spec import validate_bytes

SPEC: dict[str, Any] = yaml.safe_load(
    """
    version: 1
    providers:
      openai: {type: openai, api_key_env: OPENAI_API_KEY}
      local:
        type: openai_compatible
        base_url: http://127.0.0.1:11434/v1
        local: true
        headers: {X-Team: platform, Authorization: {env: LOCAL_TOKEN}}
        limits: {requests_per_minute: 60}
    models:
      mini:
        provider: openai
        id: gpt-4o-mini
        pricing: {input: 0.15, output: 0.6}
        context_window: 128000
        max_output_tokens: 16384
        capabilities: [streaming, tools]
        latency: {p50: 0.8, p95: 2.5}
        quality: 6
      llama:
        provider: local
        id: "llama3.1:8b"
        context_window: 32768
        capabilities: [streaming, tools]
    tasks:
      chat:
        candidates: [mini]
        priority: {latency: 0.7, cost: 0.3}
        constraints: {require: [streaming], min_context_window: 8000}
        fallback: [llama, {task: code}]
      code: {candidates: [mini], priority: quality, fallback: [llama]}
    rules:
      - {name: huge, when: {min_input_tokens: 100000}, route_to: chat}
      - {name: mid, when: {min_input_tokens: 10, max_input_tokens: 20}, priority: cost}
      - {name: premium, when: {task: [chat], metadata: {tier: premium}}, priority: quality}
      - name: private
        when: {tags: [private], capabilities: [tools]}
        candidates: [llama]
        exclude: [mini]
    defaults: {params: {temperature: 0.7}, retry: {attempts: 2}}
    state: {backend: redis, url_env: REDIS_URL}
    """
)

WRONG_SHAPES = [None, 0, -1, "x", [], [[1]], [{}], {}, {"a": {}}, float("nan")]


def _paths(node: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if path:
        yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*path, i))


def _with(path: tuple[str | int, ...], value: Any) -> bytes:
    data = copy.deepcopy(SPEC)
    node = data
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return yaml.safe_dump(data).encode()


def test_the_spec_used_here_is_valid() -> None:
    report = validate_bytes(
        yaml.safe_dump(SPEC).encode(),
        "shapes.yaml",
        environ={"OPENAI_API_KEY": "k", "LOCAL_TOKEN": "t", "REDIS_URL": "redis://r"},
    )

    assert report.errors == ()


@pytest.mark.parametrize("path", list(_paths(SPEC)), ids=lambda p: ".".join(map(str, p)))
def test_any_value_of_the_wrong_shape_is_reported_not_raised(path: tuple[str | int, ...]) -> None:
    for value in WRONG_SHAPES:
        report = validate_bytes(_with(path, value), "shapes.yaml", environ={})

        assert all(d.line is not None for d in report.errors), [d.render() for d in report.errors]
