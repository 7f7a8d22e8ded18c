"""One `router serve` process for the package (with keys), in front of the session's sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from router.sandbox import Sandbox

from .helpers import Gateway, write_routes


@pytest.fixture(scope="package")
def routes(sandbox_server: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_routes(sandbox_server, tmp_path_factory.mktemp("gw") / "routes.yaml")


@pytest.fixture(scope="package")
def gateway(routes: Path) -> Iterator[Gateway]:
    gw = Gateway(routes, routes.parent / "serve.log", "--max-body-bytes", "65536")
    yield gw
    assert gw.stop() == 0
