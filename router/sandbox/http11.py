"""Just enough HTTP/1.1 for the sandbox: request parsing and response framing.

Hand-rolled rather than http.server because the sandbox must misbehave on purpose
(half-written bodies, unterminated chunked streams, RSTs), which a framework hides.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024

REASONS: dict[int, str] = {
    100: "Continue",
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    411: "Length Required",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    529: "Overloaded",
}

CHUNK_END = b"0\r\n\r\n"

Headers = Sequence[tuple[str, str]]


class HttpError(Exception):
    """The request cannot be framed; the connection is answered once and closed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class HttpRequest:
    method: str
    target: str
    path: str
    query: str
    version: str
    headers: dict[str, str]
    body: bytes = b""
    #: The connection's reader, for faults that wait for the client to hang up.
    reader: asyncio.StreamReader | None = field(default=None, repr=False, compare=False)

    @property
    def keep_alive(self) -> bool:
        conn = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in conn
        return "close" not in conn

    @property
    def expects_continue(self) -> bool:
        return self.headers.get("expect", "").lower() == "100-continue"


async def read_head(reader: asyncio.StreamReader) -> HttpRequest | None:
    """The request line and headers, or None when the peer closed between requests."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise HttpError(400, "incomplete request head") from exc
    except asyncio.LimitOverrunError as exc:
        raise HttpError(431, "request head too large") from exc
    lines = raw[:-4].decode("latin-1").split("\r\n")
    # RFC 9112 asks servers to ignore empty lines before the request line.
    while lines and not lines[0]:
        lines.pop(0)
    if not lines:
        raise HttpError(400, "empty request")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HttpError(400, "malformed request line")
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise HttpError(400, "malformed header line")
        key = name.lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    path, _, query = target.partition("?")
    return HttpRequest(method, target, path, query, version, headers)


async def read_body(reader: asyncio.StreamReader, req: HttpRequest) -> bytes:
    try:
        if "chunked" in req.headers.get("transfer-encoding", "").lower():
            return await _read_chunked(reader)
        length_text = req.headers.get("content-length")
        if length_text is None:
            return b""
        try:
            length = int(length_text)
        except ValueError as exc:
            raise HttpError(400, "bad content-length") from exc
        if length < 0:
            raise HttpError(400, "bad content-length")
        if length > MAX_BODY:
            raise HttpError(413, "request body too large")
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError as exc:
        raise HttpError(400, "incomplete request body") from exc


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError as exc:
            raise HttpError(400, "bad chunk size") from exc
        if size == 0:
            # Trailers end with an empty line; they carry nothing the sandbox needs.
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return b"".join(parts)
        total += size
        if total > MAX_BODY:
            raise HttpError(413, "request body too large")
        parts.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise HttpError(400, "bad chunk terminator")


def http_date(at: float | None = None) -> str:
    return email.utils.formatdate(time.time() if at is None else at, usegmt=True)


def head(status: int, headers: Headers, *, close: bool = False) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}", f"date: {http_date()}"]
    lines += [f"{k}: {v}" for k, v in headers]
    if close:
        lines.append("connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def response(
    status: int, body: bytes, content_type: str, headers: Headers = (), *, close: bool = False
) -> bytes:
    base = [("content-type", content_type), ("content-length", str(len(body)))]
    return head(status, [*base, *headers], close=close) + body


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def json_response(status: int, obj: Any, headers: Headers = (), *, close: bool = False) -> bytes:
    return response(status, dumps(obj), "application/json", headers, close=close)


def sse_head(
    headers: Headers, *, close: bool = False, content_type: str = "text/event-stream; charset=utf-8"
) -> bytes:
    base = [
        ("content-type", content_type),
        ("cache-control", "no-cache"),
        ("transfer-encoding", "chunked"),
    ]
    return head(200, [*base, *headers], close=close)


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)
