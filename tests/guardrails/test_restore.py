"""Masking then restoring gives back exactly what was masked: in a whole answer, in tool call
arguments (still valid JSON), and in a stream whose chunks split a placeholder anywhere."""

from __future__ import annotations

import json
import pickle

import pytest

from router.guardrails import Guardrails, Pii, RestoreMap
from router.types import Chunk, Message, Response, TextPart, ToolCall, Usage

from .helpers import user

TEXT = (
    "Hi, I am Zoë Ângström (zoe.angstrom@example.com, +44 20 7946 0958). Pay card "
    "4111 1111 1111 1111 or IBAN DE89 3704 0044 0532 0130 00; my SSN is 123-45-6789. "
    "Again: zoe.angstrom@example.com 🙂"
)


def _masked(*messages: Message) -> tuple[tuple[Message, ...], RestoreMap]:
    decision = Guardrails([Pii()]).check(list(messages))
    return decision.messages, decision.restore


def test_mask_then_restore_gives_back_the_original() -> None:
    (message,), restore = _masked(user(TEXT))
    assert message.content == (
        "Hi, I am Zoë Ângström (<EMAIL_1>, <PHONE_1>). Pay card <CARD_1> or IBAN <IBAN_1>; "
        "my SSN is <US_SSN_1>. Again: <EMAIL_1> 🙂"
    )
    assert isinstance(message.content, str)
    assert restore.text(message.content) == TEXT
    assert sorted(restore.placeholders()) == [
        "<CARD_1>",
        "<EMAIL_1>",
        "<IBAN_1>",
        "<PHONE_1>",
        "<US_SSN_1>",
    ]


def test_the_same_value_gets_the_same_placeholder_across_messages_and_parts() -> None:
    messages, _ = _masked(
        Message("system", "Reply to ana@example.com"),
        user((TextPart("I am ana@example.com"), TextPart("cc bo@example.com"))),
        Message("assistant", "Noted, ana@example.com"),
    )
    assert messages[0].content == "Reply to <EMAIL_1>"
    assert messages[1].content == (TextPart("I am <EMAIL_1>"), TextPart("cc <EMAIL_2>"))
    assert messages[2].content == "Noted, <EMAIL_1>"


def test_masking_is_deterministic_and_idempotent() -> None:
    first, _ = _masked(user(TEXT))
    again, restore = _masked(user(TEXT))
    assert first == again
    twice = Guardrails([Pii()]).check(list(first))
    assert twice.messages == first and not twice.changed and twice.findings == ()
    assert len(restore) == 5 and len(twice.restore) == 0


def test_a_placeholder_the_caller_wrote_is_never_handed_out_or_restored() -> None:
    text = "Template <EMAIL_1> stays; mail ana@example.com"
    (message,), restore = _masked(user(text))
    assert message.content == "Template <EMAIL_1> stays; mail <EMAIL_2>"
    assert restore.text("<EMAIL_1> and <EMAIL_2>") == "<EMAIL_1> and ana@example.com"


def test_unknown_and_malformed_placeholders_are_left() -> None:
    _, restore = _masked(user("ana@example.com"))
    answer = "<EMAIL_1> <EMAIL_9> <email_1> <EMAIL_1 <PHONE_1> EMAIL_1 <<EMAIL_1>>"
    assert restore.text(answer) == (
        "ana@example.com <EMAIL_9> <email_1> <EMAIL_1 <PHONE_1> EMAIL_1 <ana@example.com>"
    )


def test_restore_false_masks_but_keeps_no_values() -> None:
    decision = Guardrails([Pii(restore=False)]).check([user("mail ana@example.com")])
    assert decision.messages[0].content == "mail <EMAIL_1>"
    assert len(decision.restore) == 0


def test_tool_call_arguments_are_masked_and_restored_as_valid_json() -> None:
    args = json.dumps({"to": "ana@example.com", "phone": "+44 20 7946 0958"})
    messages, restore = _masked(
        Message("assistant", "", tool_calls=(ToolCall("c1", "send", args),)),
    )
    sent = messages[0].tool_calls[0].arguments
    assert json.loads(sent) == {"to": "<EMAIL_1>", "phone": "<PHONE_1>"}
    # The model answers with a call using the placeholders: the caller gets the values back.
    answer = ToolCall("c2", "send", json.dumps({"to": "<EMAIL_1>", "note": 'say "hi"'}))
    (restored,) = restore.tool_calls((answer,))
    assert json.loads(restored.arguments) == {"to": "ana@example.com", "note": 'say "hi"'}


def test_a_value_needing_json_escapes_is_escaped_in_arguments() -> None:
    restore = RestoreMap({"<X_1>": 'a "quoted"\\ value\n'})
    arguments = '{"v": "<X_1>"}'
    assert json.loads(restore.arguments(arguments)) == {"v": 'a "quoted"\\ value\n'}


def test_a_response_has_its_text_reasoning_and_tool_calls_restored() -> None:
    _, restore = _masked(user("ana@example.com"))
    response = Response(
        content="Dear <EMAIL_1>",
        finish_reason="stop",
        usage=Usage(1, 1),
        model="m",
        model_id="m",
        provider="p",
        cost=None,
        latency_s=0.1,
        reasoning="write to <EMAIL_1>",
        tool_calls=(ToolCall("1", "send", '{"to": "<EMAIL_1>"}'),),
    )
    out = restore.response(response)
    assert (out.content, out.reasoning) == ("Dear ana@example.com", "write to ana@example.com")
    assert out.tool_calls[0].arguments == '{"to": "ana@example.com"}'
    plain = Response("no placeholder", "stop", Usage(), "m", "m", "p", None, 0.0)
    assert restore.response(plain) is plain
    assert RestoreMap().response(response) is response


# --- streams -----------------------------------------------------------------------------------


def _stream(restore: RestoreMap, pieces: list[str]) -> tuple[str, list[str]]:
    restorer = restore.stream()
    shown = [restorer.feed(p) for p in pieces]
    shown.append(restorer.flush())
    return "".join(shown), shown


ANSWER = "Dear <EMAIL_1>, your card <CARD_1> and <EMAIL_1>. <not a placeholder> <EMAIL_1"


@pytest.fixture(scope="module")
def restore() -> RestoreMap:
    return RestoreMap({"<EMAIL_1>": "ana@example.com", "<CARD_1>": "4111 1111 1111 1111"})


def test_a_stream_split_at_every_position_restores_as_the_whole_text_does(
    restore: RestoreMap,
) -> None:
    whole = restore.text(ANSWER)
    for cut in range(len(ANSWER) + 1):
        text, _ = _stream(restore, [ANSWER[:cut], ANSWER[cut:]])
        assert text == whole, cut


def test_a_stream_of_single_characters_restores(restore: RestoreMap) -> None:
    text, shown = _stream(restore, list(ANSWER))
    assert text == restore.text(ANSWER)
    assert "".join(shown[: ANSWER.index("<EMAIL_1>")]) == "Dear "  # shown as it came


def test_a_stream_split_at_every_pair_of_positions_restores(restore: RestoreMap) -> None:
    sample = ANSWER[:40]
    whole = restore.text(sample)
    for i in range(len(sample) + 1):
        for j in range(i, len(sample) + 1):
            assert _stream(restore, [sample[:i], sample[i:j], sample[j:]])[0] == whole


def test_a_stream_holds_back_only_a_possible_placeholder(restore: RestoreMap) -> None:
    restorer = restore.stream()
    assert restorer.feed("Dear <EM") == "Dear "  # "<EM" may be the start of <EMAIL_1>
    assert restorer.feed("AIL_1> hi <b>") == "ana@example.com hi <b>"  # <b> is not one
    assert restorer.feed("x <") == "x "
    assert restorer.feed("3") == "<3"  # "<3" starts no placeholder
    assert restorer.feed("<EMAIL_1") == ""
    assert restorer.flush() == "<EMAIL_1"  # cut short: goes as it came


def test_chunks_are_restored_and_the_last_one_carries_what_was_held(restore: RestoreMap) -> None:
    restorer = restore.stream()
    chunks = [
        Chunk("Dear <EMA", "m", "p", reasoning="to <EM"),
        Chunk("IL_1>, <CARD", "m", "p", reasoning="AIL_1>"),
        Chunk(
            "_1",
            "m",
            "p",
            finish_reason="stop",
            usage=Usage(1, 1),
            tool_calls=(ToolCall("1", "f", '{"to": "<EMAIL_1>"}'),),
        ),
    ]
    out = [restorer.chunk(c) for c in chunks]
    assert [c.delta for c in out] == ["Dear ", "ana@example.com, ", "<CARD_1"]
    assert [c.reasoning for c in out] == ["to ", "ana@example.com", ""]
    assert out[2].tool_calls[0].arguments == '{"to": "ana@example.com"}'
    assert out[2].usage == Usage(1, 1) and out[2].finish_reason == "stop"


def test_with_nothing_to_restore_a_stream_passes_chunks_through() -> None:
    chunk = Chunk("<EMAIL_1> <", "m", "p")
    assert RestoreMap().stream().chunk(chunk) is chunk
    assert RestoreMap().stream().feed("a <") == "a <"


# --- values never shown ------------------------------------------------------------------------


def test_the_restore_map_never_shows_or_pickles_its_values() -> None:
    decision = Guardrails([Pii()]).check([user(TEXT)])
    restore = decision.restore
    for shown in (repr(restore), str(restore), repr(restore.stream()), repr(decision)):
        assert "example.com" not in shown and "4111" not in shown and "7946" not in shown
    assert repr(restore) == "RestoreMap(<5 values hidden>)"
    assert not hasattr(restore, "__dict__")
    with pytest.raises(TypeError, match="not pickled"):
        pickle.dumps(restore)
    with pytest.raises(TypeError, match="not pickled"):
        pickle.dumps(decision)


def test_each_request_restores_only_its_own_values() -> None:
    guards = Guardrails([Pii()])
    first = guards.check([user("I am ana@example.com")])
    second = guards.check([user("I am bo@example.com")])
    assert first.messages[0].content == second.messages[0].content == "I am <EMAIL_1>"
    assert first.restore.text("<EMAIL_1>") == "ana@example.com"
    assert second.restore.text("<EMAIL_1>") == "bo@example.com"
