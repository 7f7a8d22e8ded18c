"""The well-known provider parameters: each adapter class's table is typed and stays clear of
the router's own names, and the README's table lists exactly them."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.providers.registry import PROVIDER_TYPES, get_adapter_class
from router.routing.call import CALL_PARAMS, REFUSED_PARAMS
from router.routing.extras import RESERVED
from router.specmodel import EXTRA_TYPES

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", PROVIDER_TYPES)
def test_every_well_known_field_is_typed_and_no_core_name(kind: str) -> None:
    for name, p in get_adapter_class(kind).extra_params.items():
        assert p.name == name and p.type in EXTRA_TYPES
        top = name.split(".")[0]
        assert name not in CALL_PARAMS | REFUSED_PARAMS and top not in RESERVED
        if p.enum is not None:
            assert all(p.fits(v) for v in p.enum)


def test_the_readme_table_lists_every_well_known_field() -> None:
    table = README.split("The well-known provider parameters", 1)[1].split("\n\n", 2)[1]
    listed = {
        (row.split("|")[1].strip(" `"), t.strip(" `"))
        for row in table.splitlines()[2:]
        for t in row.split("|")[2].split(",")
    }
    expected = {
        (name, kind) for kind in PROVIDER_TYPES for name in get_adapter_class(kind).extra_params
    }
    assert listed == expected
    for kind in PROVIDER_TYPES:
        for name, p in get_adapter_class(kind).extra_params.items():
            assert f"| `{name}` |" in table and p.describe() in table
