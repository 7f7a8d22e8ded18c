"""The typed spec is built by one builder per top-level key, registered in one table."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import router.spec
from router.spec.build import BUILDERS
from router.specmodel import Spec

SCHEMA = Path(router.spec.__file__).resolve().parent / "routes.schema.json"


def test_every_top_level_key_of_the_schema_has_one_builder() -> None:
    keys = json.loads(SCHEMA.read_text(encoding="utf-8"))["properties"]
    assert sorted(BUILDERS) == sorted(keys)


def test_each_builder_builds_the_spec_field_of_its_key() -> None:
    fields = {f.name for f in dataclasses.fields(Spec)}
    assert set(BUILDERS) == fields - {"source", "warnings"}


def test_the_defaults_are_built_first_since_every_other_builder_reads_them() -> None:
    assert next(iter(BUILDERS)) == "defaults"
