"""The AWS event-stream framing (``application/vnd.amazon.eventstream``) of Bedrock's
``invoke-with-response-stream``, decoded into the events the Anthropic stream parser reads.

A frame is: total length and headers length (big-endian u32 each), a CRC32 of those 8 bytes,
the headers (name length u8, name, value type u8, value), the payload, and a CRC32 of all that
came before. An ``event`` frame's payload is ``{"bytes": "<base64 of one Messages stream
event>"}``; an ``exception`` frame names the exception in its ``:exception-type`` header and
carries ``{"message": ...}``, given to the parser as an Anthropic ``error`` event. The
anthropic SDK decodes this with botocore; ours needs nothing outside the standard library, so a
Bedrock API key (bearer) needs no boto3 at all.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib

__all__ = ["EXCEPTION_TYPES", "AWSEventStreamDecoder", "parse_frames"]

Event = tuple[str | None, str]

_PRELUDE = struct.Struct(">III")
#: Fixed sizes of header value types (7, string, and 6, bytes, carry a u16 length).
_FIXED = {0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}
#: Bedrock's stream exceptions, as the Anthropic error types the stream parser knows.
EXCEPTION_TYPES = {
    "throttlingException": "rate_limit_error",
    "serviceUnavailableException": "overloaded_error",
    "internalServerException": "api_error",
    "modelStreamErrorException": "api_error",
    "modelTimeoutException": "timeout_error",
    "validationException": "invalid_request_error",
    "accessDeniedException": "permission_error",
}


def _headers(raw: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    i = 0
    while i < len(raw):
        size = raw[i]
        name = raw[i + 1 : i + 1 + size].decode("utf-8")
        i += 1 + size
        kind = raw[i]
        i += 1
        if kind in (6, 7):
            (length,) = struct.unpack_from(">H", raw, i)
            value = raw[i + 2 : i + 2 + length]
            i += 2 + length
            if kind == 7:
                out[name] = value.decode("utf-8")
        elif kind in _FIXED:
            i += _FIXED[kind]
        else:
            raise ValueError(f"event stream header {name!r} has an unknown type {kind}")
    return out


def _event(headers: dict[str, str], payload: bytes) -> Event | None:
    kind = headers.get(":message-type", "event")
    if kind == "event":
        if headers.get(":event-type") != "chunk":
            return None
        data = base64.b64decode(json.loads(payload)["bytes"]).decode("utf-8")
        inner = json.loads(data)
        return (inner.get("type") if isinstance(inner, dict) else None), data
    name = headers.get(":exception-type") or headers.get(":error-code") or "internalServerException"
    try:
        message = str(json.loads(payload).get("message") or name)
    except (ValueError, AttributeError):
        message = payload.decode("utf-8", "replace")[:500] or name
    etype = EXCEPTION_TYPES.get(name, "api_error")
    error = {"type": "error", "error": {"type": etype, "message": f"{name}: {message}"}}
    return "error", json.dumps(error)


def parse_frames(buf: bytes) -> tuple[list[Event], bytes]:
    """The events of the whole frames at the start of ``buf``, and what is left over."""
    events: list[Event] = []
    while len(buf) >= _PRELUDE.size:
        total, header_len, prelude_crc = _PRELUDE.unpack_from(buf)
        if zlib.crc32(buf[:8]) != prelude_crc or total < 16 + header_len:
            raise ValueError("event stream frame has a bad prelude")
        if len(buf) < total:
            break
        frame, buf = buf[:total], buf[total:]
        (crc,) = struct.unpack_from(">I", frame, total - 4)
        if zlib.crc32(frame[: total - 4]) != crc:
            raise ValueError("event stream frame fails its checksum")
        headers = _headers(frame[12 : 12 + header_len])
        event = _event(headers, frame[12 + header_len : total - 4])
        if event is not None:
            events.append(event)
    return events, buf


class AWSEventStreamDecoder:
    """Incremental, like :class:`~router.providers._sse.SSEDecoder`: bytes in, events out."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, chunk: bytes) -> list[Event]:
        events, self._buf = parse_frames(self._buf + chunk)
        return events

    def flush(self) -> list[Event]:
        """At the end of a body that ended cleanly: nothing, or the bytes of a frame it left
        unfinished, as an event no parser accepts (the answer is malformed: a ModelError)."""
        rest, self._buf = self._buf, b""
        if not rest:
            return []
        return [(None, f"unfinished event stream frame: {rest[:60]!r}")]
