"""Fixtures shared by every test folder: one sandbox server for the whole session (started on
first use), and ``sb``, that server reset to a clean slate for the test asking for it.

A folder that needs its sandbox made differently overrides ``sandbox_server`` in its own
conftest (tests/sandbox seeds its fault book).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from router.sandbox import Sandbox


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox() as server:
        yield server


@pytest.fixture
def sb(sandbox_server: Sandbox) -> Sandbox:
    """The session's sandbox, with no script, fault, recorded request or counter left over."""
    sandbox_server.reset()
    return sandbox_server
