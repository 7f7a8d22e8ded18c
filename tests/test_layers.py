"""The house: what sits at the package root, and the provider types every place lists.

The import rules between layers are checked by import-linter (``lint-imports``, run by
scripts/test.sh; the contracts are in pyproject.toml)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from router.providers.registry import PROVIDER_TYPES

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "router"

#: The bottom layer: what every layer may import. Everything else lives in a layer folder.
BOTTOM = {
    "__init__",
    "diagnostics",
    "errors",
    "messages",
    "redaction",
    "specmodel",
    "tools",
    "types",
}


#: Bottom-layer modules grown into packages (split by topic, imported as one name).
BOTTOM_PACKAGES = {"errors", "specmodel"}


def test_the_package_root_holds_only_the_bottom_layer() -> None:
    modules = {p.stem for p in PACKAGE.glob("*.py")} | BOTTOM_PACKAGES
    assert modules == BOTTOM


def test_every_layer_folder_is_a_package() -> None:
    folders = [p for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"]
    assert folders
    for folder in folders:
        assert (folder / "__init__.py").is_file(), folder.name


def _schema_provider_types() -> list[str]:
    schema = json.loads((ROOT / "schemas" / "routes.schema.json").read_text(encoding="utf-8"))
    found: list[list[str]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("title") == "Provider type":
                found.append(node["enum"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    assert len(found) == 1, "the schema defines the provider type once"
    return found[0]


def _readme_provider_table() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Providers\n", 1)[1].split("\n## ", 1)[0]
    table = section.split("\n\n", 1)[0]  # the section's first table (then come others)
    return re.findall(r"^\| `(\w+)` \|", table, flags=re.MULTILINE)


def _readme_spec_reference() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = re.search(r"^\| `type` \| (.+?) \| required \|", readme, flags=re.MULTILINE)
    assert row is not None, "the spec reference lists the provider types"
    return re.findall(r"`(\w+)`", row.group(1))


def test_registry_schema_and_readme_list_the_same_provider_types() -> None:
    registry = list(PROVIDER_TYPES)
    assert _schema_provider_types() == registry
    assert _readme_provider_table() == registry
    assert _readme_spec_reference() == registry
