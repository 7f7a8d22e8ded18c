"""Worker threads started on first use (:class:`Workers`): where the engine runs what must not
run on an event loop or must be bounded from outside (plain hooks, large guardrail checks)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = ["Workers"]


class Workers:
    """A thread pool of ``size`` threads named ``name-N``, started the first time
    :attr:`pool` is read (a Router that never needs one starts none)."""

    __slots__ = ("_lock", "_pool", "name", "size")

    def __init__(self, size: int, name: str) -> None:
        self.size = size
        self.name = name
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def pool(self) -> ThreadPoolExecutor:
        pool = self._pool
        if pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self.size, thread_name_prefix=self.name)
                pool = self._pool
        return pool

    def close(self) -> None:
        """Stops the threads once their work is done; what was queued and not started is
        dropped."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
