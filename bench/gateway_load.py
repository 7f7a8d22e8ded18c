"""The Python load clients of ``bench_gateway.py``: what ``wrk`` cannot measure.

* :func:`paced` is an **open-loop** client at a fixed rate: request ``i`` is due at
  ``t0 + i / rate`` whether or not earlier ones have answered, and its latency counts from
  when it was due (not from when a connection was free), so a server that falls behind shows
  it in the tail instead of slowing the client down (wrk2's correction; Debian has no wrk2).
* :func:`ttft` sends streamed chat completions one at a time and times the first SSE event's
  bytes (time to first token as a client sees it) and the whole stream.

Both speak HTTP/1.1 over keep-alive connections on asyncio streams (uvloop when importable),
with a minimal response reader (content-length or chunked bodies), so the client costs little
and the same for every target.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

PATH = "/v1/chat/completions"


def _request(port: int, body: dict[str, Any]) -> bytes:
    data = json.dumps(body).encode()
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


async def _read_response(reader: asyncio.StreamReader, first: list[float] | None = None) -> int:
    """Read one response; return its status. ``first`` gets the time of the first body bytes."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    lower = head.lower()
    if b"transfer-encoding: chunked" in lower:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if first is not None and not first and size:
                first.append(time.perf_counter())
            await reader.readexactly(size + 2)
            if size == 0:
                return status
    length = 0
    for line in lower.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if length:
        await reader.readexactly(length)
    if first is not None and not first:
        first.append(time.perf_counter())
    return status


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _paced(port: int, body: dict[str, Any], rate: float, seconds: float, conns: int) -> Any:
    count = int(rate * seconds)
    request = _request(port, body)
    queue: asyncio.Queue[float] = asyncio.Queue()
    latencies: list[float] = []
    failed = 0

    async def worker() -> None:
        nonlocal failed
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                due = await queue.get()
                writer.write(request)
                status = await _read_response(reader)
                latencies.append((time.perf_counter() - due) * 1e3)
                if status != 200:
                    failed += 1
                queue.task_done()
        finally:
            writer.close()

    workers = [asyncio.create_task(worker()) for _ in range(conns)]
    await asyncio.sleep(0.2)  # connections open before the clock starts
    start = time.perf_counter()
    for i in range(count):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(due)
    await queue.join()
    elapsed = time.perf_counter() - start
    for w in workers:
        w.cancel()
    for w in workers:
        with contextlib.suppress(asyncio.CancelledError, OSError):
            await w
    return {
        "rate": len(latencies) / elapsed,
        "requests": len(latencies),
        "p50": _quantile(latencies, 0.50),
        "p99": _quantile(latencies, 0.99),
        "failed": failed,
    }


async def _ttft(port: int, body: dict[str, Any], count: int) -> Any:
    request = _request(port, dict(body, stream=True))
    firsts: list[float] = []
    totals: list[float] = []
    failed = 0
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for i in range(count + count // 10):
            first: list[float] = []
            t0 = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader, first)
            end = time.perf_counter()
            if i < count // 10:
                continue  # warm-up
            if status != 200:
                failed += 1
            firsts.append((first[0] - t0) * 1e3)
            totals.append((end - t0) * 1e3)
    finally:
        writer.close()
    return {
        "ttft_p50": _quantile(firsts, 0.50),
        "ttft_p99": _quantile(firsts, 0.99),
        "stream_p50": _quantile(totals, 0.50),
        "requests": count + count // 10,
        "failed": failed,
    }


def _run(coro: Any) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def paced(
    port: int, body: dict[str, Any], rate: float, seconds: float, conns: int = 32
) -> dict[str, float]:
    """Open-loop requests at ``rate``/s for ``seconds``: achieved rate, p50/p99 ms, failures."""
    result: dict[str, float] = _run(_paced(port, body, rate, seconds, conns))
    return result


def ttft(port: int, body: dict[str, Any], count: int) -> dict[str, float]:
    """``count`` streamed requests one after another (plus 10% warm-up): TTFT p50/p99 ms."""
    result: dict[str, float] = _run(_ttft(port, body, count))
    return result
