"""The README's example of how validation errors read is what `router validate` prints."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest

from router.cli import run

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_validation_example_is_the_real_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    section = README.read_text("utf-8").split("## Validation", 1)[1].split("\n## ", 1)[0]
    example = section.split("Errors read like this", 1)[1]
    spec, output = re.findall(r"```(?:yaml)?\n(.*?)```", example, re.S)[:2]
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "routes.yaml").write_text(spec, "utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    out, err = StringIO(), StringIO()

    code = run(["validate", "configs/routes.yaml"], out, err)

    assert code == 1
    assert out.getvalue() == output
