"""A fake clock and a Redis server the tests start and stop themselves."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
import redis

#: Every test server requires this password, and no repr, error or log may ever show it.
PASSWORD = "s3cret-canary"
START = 1_000_000.0

_T = TypeVar("_T")


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float = START) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """One ``redis-server`` subprocess on 127.0.0.1: no persistence, a password, a port of
    its own (kept across ``stop()``/``start()`` so clients can find it again)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://:{PASSWORD}@127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None
        self.extra: list[str] = []  # more redis-server options (cluster mode)

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail(
                "redis-server is not on PATH: the state backend tests run against a real Redis "
                "(install it, e.g. `apt-get install redis-server` or `brew install redis`)",
                pytrace=False,
            )
        argv = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "no", "--requirepass", PASSWORD, *self.extra]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 10.0) -> None:
        client = self.client(timeout=0.2)
        deadline = time.monotonic() + timeout
        try:
            while True:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    stderr = self.proc.stderr.read().decode() if self.proc.stderr else ""
                    pytest.fail(f"redis-server on port {self.port} exited: {stderr}")
                try:
                    if client.ping():
                        return
                except redis.exceptions.RedisError:
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"redis-server on port {self.port} did not answer PING")
                time.sleep(0.005)
        finally:
            client.close()

    def client(self, timeout: float = 2.0) -> redis.Redis:
        return redis.Redis(
            port=self.port,
            password=PASSWORD,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            if self.proc.stderr:
                self.proc.stderr.close()
            self.proc = None


def fire(pool: ThreadPoolExecutor, n: int, call: Callable[[], _T]) -> list[_T]:
    """Runs ``call`` ``n`` times on the pool's threads at once; the results in order."""
    return list(pool.map(lambda _: call(), range(n)))


def windows_ok(times: Iterable[float], width: float, limit: int) -> bool:
    """Whether every half-open window ``[t, t + width)`` starting at an admission holds at
    most ``limit`` admissions."""
    ordered = sorted(times)
    return all(sum(1 for u in ordered[i:] if u < t + width) <= limit for i, t in enumerate(ordered))


def cluster_port() -> int:
    """A free port whose cluster bus port (+10000) is free too."""
    while True:
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port


def _cluster_ok(info: object) -> bool:
    if isinstance(info, dict):
        return str(info.get("cluster_state")) == "ok"
    return b"cluster_state:ok" in (info if isinstance(info, bytes) else str(info).encode())


class RedisClusterServers:
    """A real Redis Cluster of ``masters`` masters (no replicas), each a ``redis-server
    --cluster-enabled yes`` on a free port, joined by ``redis-cli --cluster create``. Its
    ``url`` (``redis+cluster://``) names the first node; the client discovers the others."""

    def __init__(self, workdir: Path, masters: int = 3) -> None:
        self.workdir = workdir
        self.servers = [RedisServer(cluster_port()) for _ in range(masters)]
        first = self.servers[0].port
        self.url = f"redis+cluster://:{PASSWORD}@127.0.0.1:{first}"

    def start(self) -> RedisClusterServers:
        try:
            return self._start()
        except BaseException:
            self.stop()  # no server outlives a cluster that failed to form
            raise

    def _start(self) -> RedisClusterServers:
        for server in self.servers:
            conf = self.workdir / f"nodes-{server.port}.conf"
            server.extra = [
                "--cluster-enabled", "yes", "--cluster-config-file", str(conf),
                "--cluster-node-timeout", "2000", "--masterauth", PASSWORD,
                "--dir", str(self.workdir),
            ]  # fmt: skip
            server.start()
        cli = shutil.which("redis-cli")
        if cli is None:
            pytest.fail("redis-cli is not on PATH: the cluster tests join nodes with it")
        nodes = [f"127.0.0.1:{s.port}" for s in self.servers]
        subprocess.run(
            [cli, "-a", PASSWORD, "--no-auth-warning", "--cluster", "create", *nodes,
             "--cluster-replicas", "0", "--cluster-yes"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        for server in self.servers:
            client = server.client()
            try:
                while not _cluster_ok(client.execute_command("CLUSTER INFO")):
                    if time.monotonic() > deadline:
                        pytest.fail("the test Redis Cluster did not reach cluster_state:ok")
                    time.sleep(0.05)
            finally:
                client.close()
        return self

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
