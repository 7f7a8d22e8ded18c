"""The access log: one JSON line per request (no prompt or answer text, never a key), written
by a thread of its own so the event loop only puts a dict on a queue.

Fields: ``ts`` (UTC), ``request_id``, ``method``, ``path``, ``status``, ``outcome`` (``ok``,
``error``, ``refused`` (auth), ``client_disconnected``, ``cancelled``), ``caller`` (the
key's name), ``task``, ``model``, ``attempts``, ``cost_usd``, ``stream``, ``ms``, and
``error`` (the error's kind) when it failed.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import IO, Any

__all__ = ["AccessLog"]

_STOP = None


class AccessLog:
    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._queue: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write, name="router-access-log", daemon=True)
        self._thread.start()

    def record(self, entry: dict[str, Any]) -> None:
        self._queue.put(entry)

    def _write(self) -> None:
        while (entry := self._queue.get()) is not _STOP:
            entry = {"ts": _utc(entry.pop("at")), "event": "access", **entry}
            try:
                self._stream.write(json.dumps(entry, separators=(",", ":")) + "\n")
                self._stream.flush()
            except (OSError, ValueError):  # the stream is closed: the log goes quiet
                return

    def close(self) -> None:
        """Writes what is queued, then stops the thread."""
        self._queue.put(_STOP)
        self._thread.join(5.0)


def _utc(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at % 1 * 1000):03d}Z"
