"""The sandbox answers the way a model doing the task would start: a summary for a summary, a
greeting for a greeting, code for code, JSON for an extraction; never "Summary:" on a chat."""

from __future__ import annotations

import json

import pytest

from router.sandbox.answer import Prompt, reply_text


def _reply(user: str, system: str = "You are a helpful assistant.") -> str:
    return reply_text(Prompt(api="openai", model="m", user_text=user, system_text=system))


@pytest.mark.parametrize(
    ("user", "system", "start"),
    [
        ("Summarize this: the sky is blue. It is late.", "", "Summary: Summarize this"),
        ("The sky is blue. It is late.", "Summarize the text you are given.", "Summary: The sky"),
        ("Hello there.", "You are a concise, friendly assistant.", "Hello! I'm the router"),
        ("Is the chain working?", "You are a concise, friendly assistant.", "Good question: Is"),
        ("Write a parser.", "You write code.", "Here is a sketch:\n\n```python\n"),
        ("Translate 'bonjour'.", "", "Translation: Translate"),
    ],
)
def test_each_kind_of_request_gets_its_kind_of_answer(user: str, system: str, start: str) -> None:
    assert _reply(user, system).startswith(start)


def test_an_extraction_answers_json() -> None:
    text = _reply("Name: Ada. Born: 1815.", "Extract the fields as JSON.")
    assert json.loads(text) == {"name": "Ada", "born": "1815"}


def test_a_chat_never_answers_with_a_summary() -> None:
    system = "You are a concise, friendly assistant."
    for user in ("Hi!", "How are you?", "Hello from a VIP. How are you?"):
        assert not _reply(user, system).startswith("Summary:")


def test_the_system_prompt_says_what_the_task_is_for() -> None:
    # A text about code, in a summarizing task, is summarized.
    reply = _reply("This function parses JSON. It is fast.", "Summarize the text you are given.")
    assert reply.startswith("Summary: This function parses JSON.")
