"""The access log: one JSON line per request (no prompt or answer text, never a key), written
by a thread of its own so the event loop only appends a dict to a list. The thread writes
what has gathered every ``interval`` seconds, in one write: waking it for every line (a
queue it blocks on) cost more CPU per request than the rest of the gateway together.

Fields: ``ts`` (UTC), ``request_id``, ``method``, ``path``, ``status``, ``outcome`` (``ok``,
``error``, ``refused`` (auth), ``client_disconnected``, ``cancelled``), ``caller`` (the
key's name), ``task``, ``model``, ``attempts``, ``cost_usd``, ``stream``, ``ms``, and
``error`` (the error's kind) when it failed, ``deployment`` (its name: the provider's for a
model without ``deployments``). Other events share the stream in the same shape:
``"event": "reload"`` and ``"retire"`` (see :mod:`router.gateway.reload`).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from typing import IO, Any

__all__ = ["AccessLog"]


class AccessLog:
    def __init__(self, stream: IO[str], *, interval: float = 0.05) -> None:
        self._stream = stream
        self._interval = interval
        self._pending: deque[dict[str, Any]] = deque()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="router-access-log", daemon=True)
        self._thread.start()

    def record(self, entry: dict[str, Any]) -> None:
        self._pending.append(entry)  # deque: appends and pops are thread-safe

    def _run(self) -> None:
        while not self._closed.wait(self._interval):
            self._flush()
        self._flush()

    def _flush(self) -> None:
        pending, lines = self._pending, []
        while pending:
            try:
                lines.append(_line(pending.popleft()))
            except (TypeError, ValueError):  # pragma: no cover - a bug: that line is lost
                continue
        if not lines:
            return
        try:
            self._stream.write("\n".join(lines) + "\n")
            self._stream.flush()
        except (OSError, ValueError):  # the stream is closed: the log goes quiet
            self._closed.set()

    @staticmethod
    def write_now(stream: IO[str], entry: dict[str, Any]) -> None:
        """One line written at once, by the caller's thread (no access log running)."""
        try:
            stream.write(_line(entry) + "\n")
            stream.flush()
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        """Writes what is pending, then stops the thread."""
        self._closed.set()
        self._thread.join(5.0)


def _line(e: dict[str, Any]) -> str:
    """``event`` is ``access`` unless the entry names another (``reload``)."""
    return json.dumps({"ts": _utc(e.pop("at")), "event": "access", **e}, separators=(",", ":"))


def _utc(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at % 1 * 1000):03d}Z"
