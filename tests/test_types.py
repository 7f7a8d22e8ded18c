"""The provider-neutral types: building, coercing OpenAI-shaped dicts, and rejecting bad input."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path
from types import MappingProxyType

import pytest

from router.messages import coerce_messages
from router.types import (
    Chunk,
    ImagePart,
    Message,
    Request,
    TextPart,
    ToolCall,
    ToolDefinition,
    Usage,
)

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n fake").decode()


def test_coerce_openai_dicts() -> None:
    msgs = coerce_messages(
        [
            {"role": "system", "content": "Be brief."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in "},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                    {"type": "image_url", "image_url": {"url": "https://x/y.jpg", "detail": "low"}},
                    {"type": "image_url", "image_url": "https://x/z.jpg"},
                ],
                "name": "ann",
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "look", "arguments": '{"q": 1}'},
                    },
                    {"id": "c2", "type": "function", "function": {"name": "f", "arguments": {}}},
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "found a cat"},
            Message("user", "thanks"),
        ]
    )
    system, user, assistant, tool, last = msgs
    assert system == Message("system", "Be brief.")
    assert user.name == "ann" and user.text == "What is in "
    assert isinstance(user.content, tuple)
    text, inline, url, bare = user.content
    assert text == TextPart("What is in ")
    assert inline == ImagePart(data=PNG, media_type="image/png")
    assert url == ImagePart(url="https://x/y.jpg", detail="low")
    assert bare == ImagePart(url="https://x/z.jpg")
    assert assistant.content == "" and assistant.tool_calls == (
        ToolCall("c1", "look", '{"q": 1}'),
        ToolCall("c2", "f", "{}"),
    )
    assert tool == Message("tool", "found a cat", tool_call_id="c1")
    assert last == Message("user", "thanks")
    # round trip through the OpenAI shape
    assert coerce_messages([m.to_dict() for m in msgs]) == msgs


@pytest.mark.parametrize(
    ("items", "error", "match"),
    [
        (
            [{"role": "robot", "content": "x"}],
            ValueError,
            r"messages\[0\]\.role: 'robot' is not one of system, user, assistant, tool",
        ),
        (
            [{"role": "user", "content": "a"}, {"content": "x"}],
            ValueError,
            r"messages\[1\]\.role: None",
        ),
        ([{"role": "user"}], ValueError, r"messages\[0\]\.content: missing"),
        ([{"role": "user", "content": 5}], ValueError, r"messages\[0\]\.content: expected"),
        (
            [{"role": "user", "content": [{"type": "audio"}]}],
            ValueError,
            r"messages\[0\]\.content\[0\]: expected",
        ),
        (
            [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}],
            ValueError,
            r"messages\[0\]\.content\[0\]\.image_url: expected",
        ),
        (
            [
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": "data:image/png,abc"}}],
                }
            ],
            ValueError,
            r"messages\[0\]\.content\[0\]\.image_url\.url: data: URLs must",
        ),
        (
            [
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}
                    ],
                }
            ],
            ValueError,
            r"not base64",
        ),
        ([{"role": "tool", "content": "x"}], ValueError, r"messages\[0\]\.tool_call_id"),
        (
            [{"role": "assistant", "content": "", "tool_calls": [{"function": {}}]}],
            ValueError,
            r"messages\[0\]\.tool_calls\[0\]",
        ),
        ([{"role": "user", "content": "x", "name": 3}], ValueError, r"messages\[0\]\.name"),
        (["hello"], TypeError, r"messages\[0\]: expected a dict or Message, got str"),
        ("hello", TypeError, "not a single string"),
        ([], ValueError, "at least one message"),
    ],
)
def test_coerce_rejects_bad_input(items: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        coerce_messages(items)  # type: ignore[arg-type]


def test_image_part_helpers(tmp_path: Path) -> None:
    raw = b"\x89PNG fake bytes"
    part = ImagePart.from_bytes(raw, "image/png", detail="high")
    assert base64.b64decode(part.data or "") == raw
    assert part.as_url().startswith("data:image/png;base64,")
    assert ImagePart.from_url(part.as_url()) == ImagePart(data=part.data, media_type="image/png")
    path = tmp_path / "cat.png"
    path.write_bytes(raw)
    assert ImagePart.from_path(path).data == part.data
    with pytest.raises(ValueError, match="cannot tell the image type"):
        ImagePart.from_path(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="exactly one"):
        ImagePart()
    with pytest.raises(ValueError, match="media_type"):
        ImagePart(data="abc")
    big = ImagePart.from_bytes(b"x" * 100_000, "image/png")
    assert len(repr(big)) < 100  # megabytes of base64 stay out of reprs


def test_tool_definition_shapes() -> None:
    schema = {"type": "object", "properties": {"q": {"type": "string"}}}
    openai = ToolDefinition.from_dict(
        {
            "type": "function",
            "function": {"name": "search", "description": "d", "parameters": schema},
        }
    )
    assert openai == ToolDefinition("search", "d", schema)
    assert (
        ToolDefinition.from_dict({"name": "search", "description": "d", "input_schema": schema})
        == openai
    )
    bare = ToolDefinition.from_dict({"name": "ping"})
    assert bare.parameters == {"type": "object", "properties": {}}
    for bad in ({"type": "function", "function": {}}, {"name": "x", "parameters": [1]}):
        with pytest.raises(ValueError):
            ToolDefinition.from_dict(bad)


def test_tool_call_arguments() -> None:
    assert ToolCall("1", "f", '{"a": [1]}').parsed_arguments() == {"a": [1]}
    assert ToolCall("1", "f", "").parsed_arguments() == {}
    with pytest.raises(ValueError):
        ToolCall("1", "f", "[1, 2]").parsed_arguments()
    with pytest.raises(ValueError):
        ToolCall("1", "f", "{broken").parsed_arguments()


def test_values_are_frozen_slotted_and_quiet() -> None:
    request = Request("m", "mid", "p", (Message("user", "hi"),), extra={"api_secret": "s3cr3t"})
    for value in (request, Usage(), Chunk("d", "m", "p"), TextPart("x"), Message("user", "x")):
        assert not hasattr(value, "__dict__")
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, dataclasses.fields(value)[0].name, "other")
    assert "s3cr3t" not in repr(request)
    assert isinstance(Request("m", "mid", "p", ()).extra, MappingProxyType)
    assert hash(Message("user", (TextPart("a"),))) == hash(Message("user", (TextPart("a"),)))
