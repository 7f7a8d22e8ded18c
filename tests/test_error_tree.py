"""Every error the router raises on purpose is exported from `router` and drawn in the tree
(the docstring of router.errors and the README's Errors section)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import router
import router.errors

ROOT = Path(__file__).resolve().parent.parent
ERRORS = sorted(
    name
    for name, value in vars(router.errors).items()
    if inspect.isclass(value) and issubclass(value, router.errors.RouterError)
)


def test_every_router_error_is_exported_from_router() -> None:
    assert set(ERRORS) <= set(router.__all__)
    for name in ERRORS:
        assert getattr(router, name) is getattr(router.errors, name)


@pytest.mark.parametrize("name", ERRORS)
def test_every_router_error_is_drawn_in_both_trees(name: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tree = readme.split("### Errors", 1)[1].split("```", 2)[1]
    assert f" {name} " in f" {tree} ".replace("\n", " "), f"{name} missing from the README tree"
    assert f" {name} " in (router.errors.__doc__ or "").replace("\n", " "), name


def test_spend_caps_and_state_errors_are_router_errors() -> None:
    assert issubclass(router.BudgetExceeded, router.RouterError)
    assert issubclass(router.StateUnavailable, router.RouterError)
    from router.engine.spend import BudgetExceeded
    from router.state import StateUnavailable

    assert (BudgetExceeded, StateUnavailable) == (router.BudgetExceeded, router.StateUnavailable)


def test_no_error_shadows_a_builtin() -> None:
    import builtins

    assert [name for name in ERRORS if hasattr(builtins, name)] == []
    assert "TimeoutError" not in router.errors.__all__
