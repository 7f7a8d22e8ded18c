"""`router serve` in a subprocess for the gateway tests: started on a free port (it says
which on stdout), its access log (stderr) read back, stopped by a signal."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from router.sandbox import Sandbox

GATEWAY_KEY = "gw-test-key-0123456789abcdef"
SANDBOX_KEY = "sk-sandbox"
_SERVE = (sys.executable, "-c", "from router.cli import main; main()", "serve")
_START_S = 60.0  # loading the spec and both SDKs; a bound, not a measurement

# Tasks: chat (gpt, then claude), claude (Anthropic upstream), broken (a provider answering
# 503), limited (429 with Retry-After), slow (gpt-mini: the tests give it a fault).
ROUTES = """\
version: 1
providers:
  oai:
    type: openai
    base_url: "{openai}"
    api_key_env: SANDBOX_API_KEY
    local: true
  ant:
    type: anthropic
    base_url: "{anthropic}"
    api_key_env: SANDBOX_API_KEY
    local: true
  down:
    type: openai
    base_url: "{down}"
    api_key_env: SANDBOX_API_KEY
    local: true
  busy:
    type: openai
    base_url: "{busy}"
    api_key_env: SANDBOX_API_KEY
    local: true
models:
  gpt:
    provider: oai
    id: sandbox-gpt
    pricing: {{input: 0.15, output: 0.60}}
    capabilities: [streaming, tools, vision, json]
  gpt-mini:
    provider: oai
    id: sandbox-gpt-mini
    capabilities: [streaming, tools, vision, json]
  claude:
    provider: ant
    id: sandbox-claude
    pricing: {{input: 3, output: 15}}
    capabilities: [streaming, tools, vision]
  gpt-down:
    provider: down
    id: sandbox-gpt
    capabilities: [streaming]
  gpt-busy:
    provider: busy
    id: sandbox-gpt
    capabilities: [streaming]
  emb:
    provider: oai
    id: sandbox-embed
    kind: embedding
    dimensions: 64
    pricing: {{input: 0.02}}
  emb-down:
    provider: down
    id: sandbox-embed
    kind: embedding
    dimensions: 64
defaults:
  retry: {{attempts: 1, max_retry_after: 1}}
tasks:
  chat:
    description: General chat
    candidates: [gpt]
    fallback: [claude]
  claude:
    candidates: [claude]
  broken:
    candidates: [gpt-down]
  limited:
    candidates: [gpt-busy]
  slow:
    candidates: [gpt-mini]
  vectors:
    candidates: [emb-down]
    fallback: [emb]
rules:
  - name: tagged
    when: {{task: chat, tags: [anthropic-only]}}
    candidates: [claude]
  - name: gold
    when: {{task: chat, metadata: {{tier: gold}}}}
    candidates: [claude]
  - name: confidential
    when: {{task: chat, text: {{any: [confidential]}}}}
    candidates: [claude]
"""


def write_routes(sb: Sandbox, path: Path) -> Path:
    path.write_text(
        ROUTES.format(
            openai=sb.openai_base_url,
            anthropic=sb.anthropic_base_url,
            down=sb.fault_url("503") + "/v1",
            busy=sb.fault_url("429,retry-after=7") + "/v1",
        ),
        encoding="utf-8",
    )
    return path


class Gateway:
    """One ``router serve`` process."""

    def __init__(
        self,
        config: Path,
        log: Path,
        *args: str,
        keys: str | None = GATEWAY_KEY,
        env: dict[str, str] | None = None,
    ):
        environ = {k: v for k, v in os.environ.items() if not k.startswith("ROUTER_")}
        environ["SANDBOX_API_KEY"] = SANDBOX_KEY
        if keys is not None:
            environ["ROUTER_GATEWAY_KEYS"] = keys
        environ.update(env or {})
        self.config = config
        self.log = log
        self._stderr = log.open("wb")
        self._drain: threading.Thread | None = None
        self.proc = subprocess.Popen(
            [*_SERVE, "--config", str(config), "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=environ,
        )
        self.port = self._wait_listening()
        self.url = f"http://127.0.0.1:{self.port}"

    def _wait_listening(self) -> int:
        assert self.proc.stdout is not None
        end = time.monotonic() + _START_S
        line = b""
        while time.monotonic() < end:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if ready:
                line = self.proc.stdout.readline()
                if b"listening on" in line:
                    # Whatever it prints later is read and dropped, so a full pipe never
                    # blocks the server.
                    self._drain = threading.Thread(target=self.proc.stdout.read, daemon=True)
                    self._drain.start()
                    return int(line.split(b"listening on http://127.0.0.1:")[1].split()[0])
                if not line and self.proc.poll() is not None:
                    break
        self.proc.kill()
        raise RuntimeError(f"router serve did not start: {line!r}; log: {self.log.read_text()}")

    def entries(self, event: str = "access") -> list[dict[str, Any]]:
        """The log's lines of ``event`` so far (``access``, ``reload``, ``retire``)."""
        out = []
        for line in self.log.read_text(encoding="utf-8").splitlines():
            if line.startswith('{"ts"'):
                entry = json.loads(line)
                if entry["event"] == event:
                    out.append(entry)
        return out

    def events(self, event: str, count: int = 1, wait_s: float = 10.0) -> list[dict[str, Any]]:
        """The log's ``event`` lines, once there are ``count`` (written by the log's thread:
        waited for)."""
        wait_for(lambda: len(self.entries(event)) >= count, f"{count} {event} line(s)", wait_s)
        return self.entries(event)

    def entry(self, request_id: str, wait_s: float = 10.0) -> dict[str, Any]:
        """The access log's line for ``request_id`` (written by the log's thread: waited for)."""
        end = time.monotonic() + wait_s
        while True:
            found = [e for e in self.entries() if e["request_id"] == request_id]
            if found or time.monotonic() > end:
                assert found, f"no access log line for {request_id}"
                return found[0]
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM, wait_s: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(wait_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()
        if self._drain is not None:
            self._drain.join(5.0)  # the process is gone: its stdout is at its end
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return self.proc.returncode


def wait_for(predicate: Any, what: str, wait_s: float = 10.0) -> None:
    """Waits for an event in another process (a bound, never a timing assertion)."""
    end = time.monotonic() + wait_s
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


ADMIN_KEY = "admin-test-key-0123456789abcdef"
METRICS_KEY = "metrics-test-key-0123456789abcd"

# For the reload and metrics tests: capped (1 request a minute), flaky (its provider answers
# 503; the circuit opens after 3 failures), pooled (two deployments), slow (its model given).
RELOAD_ROUTES = """\
version: 1
providers:
  oai: {{type: openai, base_url: "{openai}", api_key_env: SANDBOX_API_KEY, local: true}}
  ant: {{type: anthropic, base_url: "{anthropic}", api_key_env: SANDBOX_API_KEY, local: true}}
  down: {{type: openai, base_url: "{down}", api_key_env: SANDBOX_API_KEY, local: true}}
models:
  gpt: {{provider: oai, id: sandbox-gpt, capabilities: [streaming]}}
  gpt-mini: {{provider: oai, id: sandbox-gpt-mini, capabilities: [streaming]}}
  claude: {{provider: ant, id: sandbox-claude, capabilities: [streaming]}}
  capped:
    provider: oai
    id: sandbox-gpt
    limits: {{requests_per_minute: 1}}
  flaky:
    provider: down
    id: sandbox-gpt
    breaker: {{failures: 3, cooldown: 600}}
  pooled:
    provider: oai
    id: sandbox-gpt
    capabilities: [streaming]
    deployments:
      - {{name: east, api_key_env: SANDBOX_API_KEY}}
      - {{name: west, api_key_env: SANDBOX_API_KEY_WEST}}
defaults:
  retry: {{attempts: 1}}
  timeouts: {{total: 10}}
tasks:
  chat: {{candidates: [gpt]}}
  slow: {{candidates: [{slow}]}}
  capped: {{candidates: [capped]}}
  flaky: {{candidates: [flaky]}}
  pooled: {{candidates: [pooled]}}
{extra}"""


def write_reload_routes(
    sb: Sandbox, path: Path, *, extra: str = "", slow: str = "gpt-mini", text: str | None = None
) -> Path:
    """Writes the spec at once (a new file renamed over the old), as an editor or a deploy
    would: the gateway's file watch never sees half of it."""
    if text is None:
        text = RELOAD_ROUTES.format(
            openai=sb.openai_base_url,
            anthropic=sb.anthropic_base_url,
            down=sb.fault_url("503") + "/v1",
            slow=slow,
            extra=extra,
        )
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
