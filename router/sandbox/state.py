"""Everything the sandbox remembers; shared by the caller's thread and the event loop."""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Any

from .answer import Api
from .faults import FaultBook
from .prompt_cache import PromptCache

# Values of these headers never reach recordings, so test logs cannot leak keys.
REDACTED_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "cookie",
    }
)
REDACTED = "***"

DEFAULT_MODELS = (
    "sandbox-gpt",
    "sandbox-gpt-mini",
    "sandbox-gpt-cached",
    "sandbox-claude",
    "sandbox-claude-haiku",
    "sandbox-claude-cached",
)
_COUNTERS = (
    "requests",
    "connections",
    "completions",
    "embeddings",
    "streams",
    "errors",
    "faults",
    "cuts",
    "resets",
    "hangups",
)


@dataclass
class RecordedRequest:
    """One completion request as it arrived (after the /fault/SPEC prefix was removed)."""

    api: Api
    path: str
    headers: dict[str, str]
    body: Any
    model: str | None
    stream: bool
    raw_path: str
    fault: str | None = None
    status: int | None = None


def redact(headers: dict[str, str]) -> dict[str, str]:
    return {k: (REDACTED if k in REDACTED_HEADERS else v) for k, v in headers.items()}


class SandboxState:
    def __init__(self, *, seed: int = 0, api_key: str | None = None, keyless: bool = False) -> None:
        self.seed = seed
        self.api_key = api_key
        #: Requests without a credential are answered, as by a local server started without
        #: a key (vLLM, Ollama); one that is presented is still checked.
        self.keyless = keyless
        self.faults = FaultBook(seed)
        self.prompt_cache = PromptCache()
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._counters = dict.fromkeys(_COUNTERS, 0)
        self._per_model: dict[str, int] = {}
        self._seen_models: list[str] = []
        self._seq = 0

    def bump(self, counter: str, n: int = 1) -> None:
        with self._lock:
            self._counters[counter] += n

    def next_key(self) -> str:
        """A per-request key; ids derive from it, so they repeat run to run."""
        with self._lock:
            self._seq += 1
            return f"{self.seed}:{self._seq}"

    def record(self, entry: RecordedRequest) -> RecordedRequest:
        with self._lock:
            self._requests.append(entry)
            if entry.model is not None:
                self._per_model[entry.model] = self._per_model.get(entry.model, 0) + 1
                if entry.model not in DEFAULT_MODELS and entry.model not in self._seen_models:
                    self._seen_models.append(entry.model)
        return entry

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def model_ids(self) -> list[str]:
        with self._lock:
            return [*DEFAULT_MODELS, *self._seen_models]

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {**self._counters, "models": copy.copy(self._per_model)}

    def reset(self) -> None:
        self.faults.clear()
        self.prompt_cache.clear()
        with self._lock:
            self._requests.clear()
            self._counters = dict.fromkeys(_COUNTERS, 0)
            self._per_model.clear()
            self._seq = 0
