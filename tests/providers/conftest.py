"""Fixtures: adapters pointed at the session's sandbox (``sb``, in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from provider_helpers import ADAPTER_TYPES, MakeAdapter, base_url, credentials

from router.providers import Adapter, ProviderSettings, get_adapter_class
from router.sandbox import Sandbox


@pytest.fixture
def make_adapter(sb: Sandbox) -> Iterator[MakeAdapter]:
    made: list[Adapter] = []

    def make(kind: str, *, fault: str | None = None, **settings: Any) -> Adapter:
        for name, value in credentials(kind).items():
            settings.setdefault(name, value)
        settings.setdefault("base_url", base_url(sb, kind, fault))
        adapter = get_adapter_class(kind)(ProviderSettings(name=f"{kind}-p", **settings))
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        adapter.close()


@pytest.fixture(params=ADAPTER_TYPES)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)
