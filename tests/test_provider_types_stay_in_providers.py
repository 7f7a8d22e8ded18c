"""Nothing above ``router/providers/`` branches on a provider type: a provider's quirks are
properties of its adapter class. Only the providers themselves, the sandbox (a fake provider
of each wire format) and the spec loader (which validates the ``type`` strings: data) may
compare against a provider type's name."""

from __future__ import annotations

import ast
from pathlib import Path

from router.providers.registry import PROVIDER_TYPES

PACKAGE = Path(__file__).resolve().parent.parent / "router"
ALLOWED = ("providers", "sandbox", "spec")


def _strings(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [s for element in node.elts for s in _strings(element)]
    return []


def _provider_type_comparisons(path: Path) -> list[str]:
    """``line: 'type'`` for every comparison (``==``, ``in``, ``case``) against a type name."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        compared: list[ast.expr] = []
        if isinstance(node, ast.Compare):
            compared = [node.left, *node.comparators]
        elif isinstance(node, ast.match_case) and isinstance(node.pattern, ast.MatchValue):
            compared = [node.pattern.value]
        for operand in compared:
            for value in _strings(operand):
                if value in PROVIDER_TYPES:
                    found.append(f"{operand.lineno}: {value!r}")
    return found


def test_no_module_above_providers_compares_against_a_provider_type() -> None:
    found = [
        hit
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).parts[0] not in ALLOWED
        for hit in (f"{path.relative_to(PACKAGE)}:{h}" for h in _provider_type_comparisons(path))
    ]
    assert found == []


def test_the_check_sees_equality_membership_and_match(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        'if kind == "anthropic" or kind in ("x", "openai"):\n    pass\n'
        'match kind:\n    case "openai_compatible":\n        pass\n',
        encoding="utf-8",
    )
    assert sorted(_provider_type_comparisons(probe)) == [
        "1: 'anthropic'",
        "1: 'openai'",
        "4: 'openai_compatible'",
    ]
