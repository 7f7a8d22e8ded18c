"""Fixtures: one sandbox for the session, reset before every test, and routers built from
YAML text pointed at it (closed after the test)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from router import Router
from router.sandbox import Sandbox

from .helpers import KINDS, SANDBOX_KEY, MakeRouter


@pytest.fixture(scope="session")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def _clean_sandbox(sb: Sandbox) -> None:
    sb.reset()


@pytest.fixture
def make_router(sb: Sandbox, tmp_path: Path) -> Iterator[MakeRouter]:
    """``make_router(yaml_text, clock=None, **env)``: ``{openai}`` and ``{anthropic}`` in the
    text become the sandbox's base URLs; ``env`` is added to the router's environment (which
    always holds SANDBOX_API_KEY)."""
    made: list[Router] = []

    def make(yaml_text: str, *, clock: Callable[[], float] | None = None, **env: str) -> Router:
        text = yaml_text.replace("{openai}", sb.openai_base_url).replace(
            "{anthropic}", sb.anthropic_base_url
        )
        path = tmp_path / f"routes-{len(made)}.yaml"
        path.write_text(text, encoding="utf-8")
        environ = {"SANDBOX_API_KEY": SANDBOX_KEY, **env}
        router = (
            Router.from_yaml(path, environ=environ)
            if clock is None
            else Router.from_yaml(path, environ=environ, clock=clock)
        )
        made.append(router)
        return router

    yield make
    for router in made:
        router.close()


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    """The provider wire under test: "openai" or "anthropic"."""
    return str(request.param)
