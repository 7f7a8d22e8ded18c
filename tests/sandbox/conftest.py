"""The sandbox's own tests: a seeded sandbox for the session (``sb``, reset for each test, comes
from tests/conftest.py), a key-locked one, SDK clients and raw HTTP calls against it."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import openai
import pytest

from router.sandbox import Sandbox

KEY = "sk-test-0123456789"
SECRET = "sk-sandbox-secret"

RawCall = Callable[..., tuple[int, dict[str, str], bytes]]


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Sandbox]:
    """This folder's sandbox (``sb`` resets it): seeded, so its fault book is the same each run."""
    with Sandbox(seed=7) as server:
        yield server


@pytest.fixture(scope="session")
def locked() -> Iterator[Sandbox]:
    """A sandbox that accepts exactly one key."""
    with Sandbox(api_key=SECRET) as server:
        yield server


@pytest.fixture(scope="session")
def oai(sandbox_server: Sandbox) -> Iterator[openai.OpenAI]:
    client = openai.OpenAI(
        base_url=sandbox_server.openai_base_url, api_key=KEY, max_retries=0, timeout=10
    )
    yield client
    client.close()


@pytest.fixture(scope="session")
def ant(sandbox_server: Sandbox) -> Iterator[anthropic.Anthropic]:
    client = anthropic.Anthropic(
        base_url=sandbox_server.anthropic_base_url, api_key=KEY, max_retries=0, timeout=10
    )
    yield client
    client.close()


def raw_request(
    sandbox: Sandbox,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request over a fresh connection, bypassing the SDKs, to inspect the wire."""
    conn = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=10)
    try:
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        conn.request(method, path, body=data, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


@pytest.fixture
def raw(sb: Sandbox) -> RawCall:
    def call(
        method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        return raw_request(sb, method, path, body, headers)

    return call
