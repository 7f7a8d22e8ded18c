"""The README's Hooks example runs as written (keys-free: it builds its Router with
``sandbox=True``), and says what the README says it says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_hooks_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    section = README.read_text(encoding="utf-8").split("\n## Hooks\n", 1)[1].split("\n## ", 1)[0]
    spec = re.search(r"```yaml\n(.*?)```", section, re.S)
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert spec is not None and code is not None
    (tmp_path / "hooks.yaml").write_text(spec.group(1), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)

    exec(compile(code.group(1), "README.md (Hooks)", "exec"), {"__name__": "readme"})

    out = capsys.readouterr().out.splitlines()
    assert out == [
        "audit: support -> mini: ok",
        "Summary: Summarize: write to ana@example.com today.",
        "audit: support -> mini: ok",
        "Summary: Summarize: ana@example.com.",
        "refused by hook 'no-keys', secret_in_prompt: an API key was pasted into the prompt",
    ]
