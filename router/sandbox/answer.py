"""Provider-neutral prompts and the deterministic answer the sandbox gives to them.

Both wire modules parse their own request shape into a Prompt and render a Completion
back, so the two APIs always agree on what the "model" said for the same input.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

Api = Literal["openai", "anthropic"]
Finish = Literal["stop", "length", "stop_sequence", "tool_use", "filter"]

# Words and single punctuation marks, each piece carrying its leading whitespace so that
# joining the pieces reproduces the text exactly (they double as streaming deltas).
_PIECE_RE = re.compile(r"\s*(?:\w+|[^\w\s])|\s+")
_COUNT_RE = re.compile(r"\w+|[^\w\s]")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+")

IMAGE_TOKENS = 85  # what OpenAI bills for a low-detail image; any fixed number would do
MESSAGE_OVERHEAD = 3
CONTEXT_WINDOW: dict[Api, int] = {"openai": 128_000, "anthropic": 200_000}
MAX_REPLY_WORDS = 50


def pieces(text: str) -> list[str]:
    return _PIECE_RE.findall(text)


def count_tokens(text: str) -> int:
    return len(_COUNT_RE.findall(text))


def normalize(text: str) -> str:
    return " ".join(text.split())


def first_sentence(text: str) -> str:
    return next((s for s in _SENTENCE_END_RE.split(normalize(text)) if s), "")


def first_sentences(text: str) -> str:
    """The first sentence, or two when the first is very short; capped in length."""
    sentences = [s for s in _SENTENCE_END_RE.split(normalize(text)) if s]
    if not sentences:
        return ""
    chosen = sentences[0]
    if len(chosen.split()) < 6 and len(sentences) > 1:
        chosen = f"{chosen} {sentences[1]}"
    words = chosen.split(" ")
    if len(words) > MAX_REPLY_WORDS:
        chosen = " ".join(words[:MAX_REPLY_WORDS]) + " ..."
    return chosen


@dataclass(frozen=True)
class ToolDef:
    name: str
    schema: dict[str, Any]


@dataclass
class Prompt:
    api: Api
    model: str
    user_text: str = ""
    system_text: str = ""  # what the system prompt says the model is for
    tool_result: str | None = None  # set when the conversation ends with a tool's output
    images: int = 0
    prompt_tokens: int = 0
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    tools: tuple[ToolDef, ...] = ()
    tool_choice: Literal["auto", "none", "required"] = "auto"
    forced_tool: str | None = None
    stream: bool = False
    include_usage: bool = False
    n: int = 1
    #: Prefixes the prompt cache may hold (router.sandbox.prompt_cache), and what it did.
    cache_points: tuple[tuple[int, str], ...] = ()
    cache_read: int = 0
    cache_write: int = 0
    #: Anthropic's extended thinking was asked for; OpenAI's reasoning effort.
    thinking: bool = False
    reasoning_effort: str | None = None


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]

    @property
    def arguments_json(self) -> str:
        return json.dumps(self.arguments, ensure_ascii=False)


@dataclass
class Completion:
    id: str
    text: str
    tool_call: ToolCall | None
    finish: Finish
    stop_sequence: str | None
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0  # part of completion_tokens
    thinking: str = ""  # Anthropic's thinking text (its tokens are in completion_tokens)

    @property
    def text_pieces(self) -> list[str]:
        return pieces(self.text)


def context_overflow(prompt: Prompt) -> tuple[int, int]:
    """(window, tokens) for a context-length error; injected errors report an overflow."""
    window = CONTEXT_WINDOW[prompt.api]
    used = prompt.prompt_tokens
    return window, used if used > window else window + used


def _digest(key: str, salt: str, length: int) -> str:
    return hashlib.sha256(f"{key}/{salt}".encode()).hexdigest()[:length]


def make_id(api: Api, kind: Literal["completion", "tool"], key: str) -> str:
    if api == "openai":
        return (
            f"chatcmpl-{_digest(key, kind, 29)}"
            if kind == "completion"
            else (f"call_{_digest(key, kind, 24)}")
        )
    prefix = "msg_01" if kind == "completion" else "toolu_01"
    return prefix + _digest(key, kind, 22)


# What a request is for, read from its system prompt and its words: the answer is written the
# way a model doing that task would start it. Plain statements (no other sign) are summarized.
_INTENTS = (
    ("summary", re.compile(r"\b(summar\w*|condense\w*|tl;?dr)\b", re.I)),
    ("translation", re.compile(r"\btranslat\w*\b", re.I)),
    (
        "code",
        re.compile(
            r"\b(code|coding|function|parser|program|script|implement\w*|"
            r"refactor\w*|diff|bug|python|javascript|sql)\b",
            re.I,
        ),
    ),
    ("extraction", re.compile(r"\b(extract\w*|json)\b", re.I)),
)
_GREETING = re.compile(r"^\s*(hi|hello|hey|good (morning|afternoon|evening))\b", re.I)
_FIELD = re.compile(r"(\w[\w ]{0,30}?):\s*([^.:;\n]+)")


def intent(prompt: Prompt) -> str:
    """summary, translation, code, extraction, greeting, question or statement: from the
    system prompt first (what the task is for), then from the user's words."""
    for text in (prompt.system_text, prompt.user_text):
        for name, pattern in _INTENTS:
            if pattern.search(text):
                return name
    text = normalize(prompt.user_text)
    if _GREETING.match(text):
        return "greeting"
    return "question" if first_sentence(text).endswith("?") else "statement"


def _extracted(text: str) -> str:
    fields = {k.strip().lower().replace(" ", "_"): v.strip() for k, v in _FIELD.findall(text)}
    return json.dumps(fields or {"text": first_sentence(text)}, ensure_ascii=False)


def reply_text(prompt: Prompt) -> str:
    if prompt.tool_result is not None:
        body = f"Tool result: {first_sentences(prompt.tool_result) or '(empty)'}"
    else:
        summary = first_sentences(prompt.user_text)
        kind = intent(prompt)
        if not summary:
            body = "Hello from the router sandbox."
        elif kind == "greeting":
            body = "Hello! I'm the router sandbox. What can I do for you?"
        elif kind == "question":
            body = f"Good question: {summary} A real model would answer it here."
        elif kind == "code":
            body = f"Here is a sketch:\n\n```python\ndef solve():\n    # {summary}\n    ...\n```"
        elif kind == "extraction":
            body = _extracted(prompt.user_text)
        elif kind == "translation":
            body = f"Translation: {summary}"
        else:
            body = f"Summary: {summary}"
    if prompt.images:
        plural = "" if prompt.images == 1 else "s"
        body = f"({prompt.images} image{plural} received) {body}"
    return body


def pick_tool(prompt: Prompt) -> ToolDef | None:
    # After a tool result the model answers in text, so demo tool loops terminate.
    if not prompt.tools or prompt.tool_choice == "none" or prompt.tool_result is not None:
        return None
    if prompt.forced_tool is not None:
        return next((t for t in prompt.tools if t.name == prompt.forced_tool), None)
    text = prompt.user_text.lower()
    for tool in prompt.tools:
        name = tool.name.lower()
        if name in text or name.replace("_", " ") in text:
            return tool
    return prompt.tools[0] if prompt.tool_choice == "required" else None


def sample_value(schema: Any, sentence: str) -> Any:
    if not isinstance(schema, dict):
        return sentence
    for key in ("const", "default"):
        if key in schema:
            return schema[key]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            return sample_value(options[0], sentence)
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    values: dict[str, Any] = {"integer": 1, "number": 1, "boolean": True, "array": [], "null": None}
    if kind == "object":
        return fill_arguments(schema, sentence)
    return values.get(kind, sentence)


def fill_arguments(schema: dict[str, Any], sentence: str) -> dict[str, Any]:
    """Every required property, filled with a value of its declared type."""
    props = schema.get("properties")
    props = props if isinstance(props, dict) else {}
    required = schema.get("required")
    names = [n for n in required if isinstance(n, str)] if isinstance(required, list) else []
    return {name: sample_value(props.get(name, {}), sentence) for name in names}


def _apply_limits(text: str, prompt: Prompt) -> tuple[str, Finish, str | None]:
    toks = pieces(text)
    limited = text
    truncated = prompt.max_tokens is not None and len(toks) > prompt.max_tokens
    if truncated:
        limited = "".join(toks[: prompt.max_tokens])
    # A stop sequence only counts once it has been generated in full within the budget.
    hits = [(limited.find(s), s) for s in prompt.stop if s and s in limited]
    if hits:
        pos, seq = min(hits)
        return limited[:pos], "stop_sequence", seq
    return limited, ("length" if truncated else "stop"), None


def compose(prompt: Prompt, key: str, *, refuse: bool = False) -> Completion:
    """The answer for a prompt; `key` seeds the ids so runs are reproducible."""
    cached = prompt.prompt_tokens // 2 if "cached" in prompt.model.lower() else 0
    cached = prompt.cache_read or (0 if prompt.cache_write else cached)
    tool = None if refuse else pick_tool(prompt)
    completion = Completion(
        id=make_id(prompt.api, "completion", key),
        text="",
        tool_call=None,
        finish="stop",
        stop_sequence=None,
        prompt_tokens=prompt.prompt_tokens,
        cached_tokens=cached,
        completion_tokens=0,
        cache_write_tokens=prompt.cache_write,
    )
    completion.thinking = think(prompt) if prompt.thinking else ""
    completion.reasoning_tokens = REASONING_TOKENS.get(prompt.reasoning_effort or "", 0)
    extra = count_tokens(completion.thinking) + completion.reasoning_tokens
    if tool is not None:
        sentence = first_sentence(prompt.user_text) or tool.name
        call = ToolCall(
            make_id(prompt.api, "tool", key), tool.name, fill_arguments(tool.schema, sentence)
        )
        # Claude usually narrates before calling a tool unless the call is forced.
        if prompt.api == "anthropic" and prompt.tool_choice == "auto" and not prompt.forced_tool:
            completion.text = f"I'll use the {tool.name} tool."
        completion.tool_call = call
        completion.finish = "tool_use"
        completion.completion_tokens = (
            count_tokens(completion.text)
            + count_tokens(tool.name)
            + count_tokens(call.arguments_json)
            + extra
        )
        return completion
    text, finish, stop_seq = _apply_limits(reply_text(prompt), prompt)
    if refuse:
        toks = pieces(text)
        text, finish, stop_seq = "".join(toks[: len(toks) // 2]), "filter", None
    completion.text, completion.finish, completion.stop_sequence = text, finish, stop_seq
    completion.completion_tokens = len(pieces(text)) + extra
    return completion


#: Reasoning tokens an OpenAI reasoning model spends per ``reasoning_effort``.
REASONING_TOKENS = {"none": 0, "minimal": 8, "low": 32, "medium": 128, "high": 512, "xhigh": 1024}


def think(prompt: Prompt) -> str:
    """What the model thinks before answering (Anthropic's extended thinking)."""
    topic = first_sentence(prompt.tool_result or prompt.user_text) or "the request"
    return f"The user wants: {topic} I should answer briefly and plainly."


def signature(thinking: str) -> str:
    """The signature of a thinking block (the real API's is opaque; this one is checkable)."""
    return base64.b64encode(hashlib.sha256(f"sandbox/{thinking}".encode()).digest()).decode()
