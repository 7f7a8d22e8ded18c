"""Fixtures: routers built from YAML text pointed at the session's sandbox (``sb``, reset for
each test, in tests/conftest.py), closed after the test."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from router import Router
from router.sandbox import Sandbox

from .helpers import KINDS, SANDBOX_KEY, FakeTime, MakeRouter


def _without_retries(text: str) -> str:
    """Fallback tests count attempts model by model: unless a spec sets its own retry policy,
    same-model retries (on by default) are turned off for it."""
    if "retry:" in text:
        return text
    if "\ndefaults:\n" in text:
        return text.replace("\ndefaults:\n", "\ndefaults:\n  retry: {attempts: 1}\n", 1)
    return text.rstrip("\n") + "\ndefaults:\n  retry: {attempts: 1}\n"


@pytest.fixture
def make_router(sb: Sandbox, tmp_path: Path) -> Iterator[MakeRouter]:
    """``make_router(yaml_text, clock=None, retries=False, hooks=None, **env)``: ``{openai}`` and
    ``{anthropic}`` in the text become the sandbox's base URLs; ``env`` is added to the
    router's environment (which always holds SANDBOX_API_KEY). Time is fake (FakeTime over
    ``clock``): waits advance it instead of sleeping. Same-model retries are off unless the
    spec sets ``retry:`` or ``retries=True``. ``seed`` seeds the draw among deployments."""
    made: list[Router] = []

    def make(
        yaml_text: str,
        *,
        clock: Callable[[], float] | None = None,
        retries: bool = False,
        seed: int | None = None,
        hooks: Mapping[str, object] | None = None,
        **env: str,
    ) -> Router:
        text = yaml_text.replace("{openai}", sb.openai_base_url).replace(
            "{anthropic}", sb.anthropic_base_url
        )
        if not retries:
            text = _without_retries(text)
        path = tmp_path / f"routes-{len(made)}.yaml"
        path.write_text(text, encoding="utf-8")
        environ = {"SANDBOX_API_KEY": SANDBOX_KEY, **env}
        time = FakeTime(clock)
        router = Router.from_yaml(
            path,
            environ=environ,
            clock=time,
            wall=time,
            sleep=time.sleep,
            asleep=time.asleep,
            random=random.Random(seed).random if seed is not None else None,
            hooks=hooks,
        )
        router.fake_time = time  # type: ignore[attr-defined]
        made.append(router)
        return router

    yield make
    for router in made:
        router.close()


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    """The provider wire under test: "openai" or "anthropic"."""
    return str(request.param)
