"""The fault grammar and the book of scripted / persistent faults.

A spec is comma-separated items (``;`` also separates); later items override earlier
ones, so a path spec merged with a header spec lets the header win. Items:

    429, 500, 503, 529, 400, 401, 403, 404 ...  that HTTP error, in the provider's own JSON
                                                shape (Anthropic: 429 rate_limit_error,
                                                529 overloaded_error, 500 api_error, ...)
    quota                   with 429 on OpenAI: code insufficient_quota instead of a rate limit
    echo-key                with 401/403: the error message quotes the whole key the client sent
                            (as some OpenAI-compatible servers and gateways do); without it a
                            401 on OpenAI quotes it masked as api.openai.com does
                            (``sk-canar****************9b8a``), and Anthropic quotes nothing
    retry-after=S           Retry-After: S (seconds, verbatim)
    retry-after-date=S      Retry-After as an HTTP-date S seconds from now
    retry-after-ms=MS       retry-after-ms: MS (read by both SDKs before Retry-After)
    should-retry=true|false x-should-retry header (both SDKs obey it)
    p=0.3                   apply the whole spec with this probability (seeded RNG)
    delay=MS                wait before answering (also before errors, resets, cuts)
    chunk-delay=MS          wait between SSE events
    cut=N                   stream: preamble + N content events, then close without the
                            terminal events or the chunked terminator; non-stream: headers
                            and half the body, then close
    clean                   with cut=N: send the chunked terminator (only SSE is truncated)
    reset                   close with a TCP RST (SO_LINGER 0) instead of answering
    badjson                 200 with malformed JSON (stream: a half event after the preamble)
    html                    200 text/html page; with a status (html,502) that status instead
    context                 400 context-length-exceeded in the provider's shape
    filter                  OpenAI: 400 content_policy_violation; Anthropic: stop_reason refusal
    filter=finish           OpenAI: 200 with finish_reason content_filter (Anthropic: refusal)
    stream-error=N          stream: N content events, then an in-stream error event (OpenAI
                            `data: {"error": ...}`, Anthropic `event: error`; the status item,
                            default 500 / 529, picks its type); non-stream: that HTTP error
    stall=N                 stream: preamble + N content events, then silence with the
                            connection held open; non-stream: silence, no status line. Until
                            the client hangs up (counted in the ``hangups`` stat)
    keepalive=MS            with stall=N (stream): instead of silence, an SSE comment line
                            every MS: bytes that keep a read timeout from firing, no event;
                            non-stream: a status line, then a header line every MS, never
                            the end of the head, until the client hangs up (``hangups``)
    linger                  stream: the whole answer, terminal events included, then the
                            body held open (no chunked terminator) until the client hangs
                            up (``hangups``)
    redirect=URL            answer with a redirect to URL (Location header), 307 unless a
                            3xx status item says otherwise (redirect=URL,301): a client that
                            follows it resends the request, key and body, there
    trickle=MS              stream: preamble, then the answer's content events over and over,
                            one every MS, never the terminal event, until the client hangs
                            up (``hangups``); non-stream: the head at once, then the
                            JSON body one byte every MS (a hang-up counts in ``hangups``)

Sources, in precedence order: the ``x-sandbox-fault`` header (``x-fake-fault`` also works)
merged over a ``/fault/SPEC/...`` path prefix; then Sandbox.script(); then
Sandbox.set_fault(spec, model); then Sandbox.set_fault(spec) for every model.
Faults apply only to completion requests, after auth and request validation.
"""

from __future__ import annotations

import random
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from .http11 import Headers, http_date

FAULT_HEADERS = ("x-sandbox-fault", "x-fake-fault")  # the latter for fakellm compatibility
_FLAGS = ("clean", "reset", "badjson", "html", "context", "quota", "echo-key", "linger")
_FILTER_MODES = ("error", "finish")


@dataclass(frozen=True)
class FaultSpec:
    text: str
    status: int | None = None
    retry_after: str | None = None
    retry_after_ms: str | None = None
    retry_after_date: float | None = None
    should_retry: str | None = None
    p: float | None = None
    delay_ms: float = 0.0
    chunk_delay_ms: float = 0.0
    cut: int | None = None
    clean: bool = False
    reset: bool = False
    badjson: bool = False
    html: bool = False
    context: bool = False
    quota: bool = False
    echo_key: bool = False
    filter: str | None = None
    stream_error: int | None = None
    stall: int | None = None
    trickle_ms: float | None = None
    keepalive_ms: float | None = None
    redirect: str | None = None
    linger: bool = False

    @property
    def delay_s(self) -> float:
        return self.delay_ms / 1000.0

    @property
    def chunk_delay_s(self) -> float:
        return self.chunk_delay_ms / 1000.0


def _number(key: str, value: str, *, minimum: float = 0.0) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"fault item {key}={value!r}: not a number") from None
    if not number >= minimum:  # also rejects NaN
        raise ValueError(f"fault item {key}={value!r}: must be >= {minimum:g}")
    return number


def _int(key: str, value: str) -> int:
    if not value.isdigit():
        raise ValueError(f"fault item {key}={value!r}: expected a non-negative integer")
    return int(value)


def parse_fault(text: str) -> FaultSpec:
    """Parse a spec; unknown items raise ValueError so typos in tests fail loudly."""
    fields: dict[str, Any] = {}
    for raw in text.replace(";", ",").split(","):
        item = raw.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep and key.isdigit():
            if not 100 <= int(key) <= 599:
                raise ValueError(f"fault status {key} out of range")
            fields["status"] = int(key)
        elif key in _FLAGS and not sep:
            fields[key.replace("-", "_")] = True
        elif key == "filter":
            mode = value.lower() if sep else "error"
            if mode not in _FILTER_MODES:
                raise ValueError(f"fault item filter={value!r}: expected error or finish")
            fields["filter"] = mode
        elif key in ("retry-after", "retry-after-ms") and sep:
            _number(key, value)
            fields[key.replace("-", "_")] = value
        elif key == "retry-after-date" and sep:
            fields["retry_after_date"] = _number(key, value)
        elif key == "should-retry" and sep:
            if value.lower() not in ("true", "false"):
                raise ValueError(f"fault item should-retry={value!r}: expected true or false")
            fields["should_retry"] = value.lower()
        elif key == "p" and sep:
            p = _number(key, value)
            if p > 1:
                raise ValueError(f"fault item p={value!r}: must be within [0, 1]")
            fields["p"] = p
        elif key in ("delay", "chunk-delay") and sep:
            fields[key.replace("-", "_") + "_ms"] = _number(key, value)
        elif key in ("trickle", "keepalive") and sep:
            fields[f"{key}_ms"] = _number(key, value, minimum=1.0)
        elif key == "redirect" and sep:
            if not value.startswith(("http://", "https://", "/")):
                raise ValueError(f"fault item redirect={value!r}: expected a URL or a path")
            fields["redirect"] = value
        elif key in ("cut", "stream-error", "stall"):
            fields[key.replace("-", "_")] = _int(key, value) if sep else 0
        else:
            raise ValueError(f"unknown fault item {item!r}")
    return FaultSpec(text=text, **fields)


@dataclass
class _Script:
    spec: FaultSpec
    remaining: int
    model: str | None


class FaultBook:
    """Scripted (consumed) and persistent faults; shared by the test thread and the loop."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._scripts: list[_Script] = []
        self._persistent: dict[str | None, FaultSpec] = {}

    def script(self, spec: str, times: int, model: str | None) -> None:
        if times < 1:
            raise ValueError("times must be >= 1")
        parsed = parse_fault(spec)
        with self._lock:
            self._scripts.append(_Script(parsed, times, model))

    def set(self, spec: str | None, model: str | None) -> None:
        parsed = None if spec is None else parse_fault(spec)
        with self._lock:
            if parsed is None:
                self._persistent.pop(model, None)
            else:
                self._persistent[model] = parsed

    def clear(self) -> None:
        with self._lock:
            self._scripts.clear()
            self._persistent.clear()
            # Re-seeding makes p= outcomes repeatable per test, not per process.
            self._rng = random.Random(self._seed)

    def choose(self, explicit: FaultSpec | None, model: str | None) -> FaultSpec | None:
        """The fault for one completion request, after the p= roll (None: behave normally).

        Precedence: header/path spec, then the first matching script entry (consumed even
        when its p= roll misses), then the model's persistent fault, then the global one.
        """
        with self._lock:
            spec = explicit or self._take_script(model)
            if spec is None:
                spec = self._persistent.get(model) if model is not None else None
            if spec is None:
                spec = self._persistent.get(None)
            if spec is None:
                return None
            if spec.p is not None and self._rng.random() >= spec.p:
                return None
            return spec

    def _take_script(self, model: str | None) -> FaultSpec | None:
        for i, entry in enumerate(self._scripts):
            if entry.model is None or entry.model == model:
                entry.remaining -= 1
                if entry.remaining <= 0:
                    del self._scripts[i]
                return entry.spec
        return None


def split_fault_prefix(path: str) -> tuple[str, str | None]:
    """'/fault/SPEC/v1/x' -> ('/v1/x', 'SPEC'); other paths are returned unchanged."""
    if not path.startswith("/fault/"):
        return path, None
    spec, sep, rest = path[len("/fault/") :].partition("/")
    return (sep + rest or "/"), urllib.parse.unquote(spec)


def fault_headers(spec: FaultSpec | None) -> Headers:
    if spec is None:
        return []
    out: list[tuple[str, str]] = []
    if spec.retry_after is not None:
        out.append(("retry-after", spec.retry_after))
    if spec.retry_after_date is not None:
        out.append(("retry-after", http_date(time.time() + spec.retry_after_date)))
    if spec.retry_after_ms is not None:
        out.append(("retry-after-ms", spec.retry_after_ms))
    if spec.should_retry is not None:
        out.append(("x-should-retry", spec.should_retry))
    return out
