"""`router explain` on content rules: which rule matched and why (the pattern or keyword and a
short, redacted excerpt), in words (a golden file) and as data, and how much of a long text
was read."""

from __future__ import annotations

import json
import os
from io import StringIO
from pathlib import Path

import pytest

from router.cli import run

ROOT = Path(__file__).resolve().parents[2]
ROUTES = ROOT / "configs" / "routes.yaml"
GOLDEN = ROOT / "tests" / "golden"


def call(*argv: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    code = run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"golden {name} differs (UPDATE_GOLDEN=1 rewrites it)"


SECRET = "sk-proj-" + "Zq81Xw" * 8
PASTE = f"It fails with api_key={SECRET}:\n```python\nprint(1/0)\n```\nWhy?"


@pytest.fixture(autouse=True)
def _keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY_2"):
        monkeypatch.setenv(name, "sk-test")


def test_explain_says_which_pattern_matched_and_where() -> None:
    code, out, err = call("explain", "--config", str(ROUTES), "--task", "chat", "--prompt", PASTE)

    assert code == 0, err
    check_golden("explain_code_in_chat.txt", out)
    assert "rule:      'code-in-chat' matched → route_to code" in out
    assert SECRET[8:16] not in out


def test_explain_gives_the_match_as_data() -> None:
    code, out, err = call(
        "explain", "--config", str(ROUTES), "--task", "chat", "--prompt", PASTE, "--format", "json"
    )

    assert code == 0, err
    data = json.loads(out)
    assert data["rule"] == "code-in-chat"
    match = data["text_match"]
    assert (match["in"], match["chars"], match["read"]) == ("last_user", len(PASTE), len(PASTE))
    (hit,) = match["hits"]
    assert hit["kind"] == "regex"
    assert hit["term"] == r"```|\bTraceback \(most recent call last\)"
    assert "```python" in hit["excerpt"]
    assert SECRET[8:16] not in out


def test_explain_without_a_content_match_has_no_text_match() -> None:
    code, out, _ = call(
        "explain", "--config", str(ROUTES), "--task", "chat", "--prompt", "Hi.", "--format", "json"
    )

    assert code == 0
    assert json.loads(out)["text_match"] is None


def test_explain_says_how_much_of_a_long_message_it_read(tmp_path: Path) -> None:
    messages = tmp_path / "messages.json"
    content = "word " * 5_000 + "\nTraceback (most recent call last):\n  File x"
    messages.write_text(json.dumps([{"role": "user", "content": content}]))

    code, out, err = call(
        "explain", "--config", str(ROUTES), "--task", "chat", "--messages", str(messages)
    )

    assert code == 0, err
    assert "rule:      'code-in-chat' matched" in out
    assert f"read 8,000 of its {len(content):,} characters (the first and last 4,000)" in out
