"""HTTP control endpoints, so a sandbox in another process can be scripted like an object.

GET  /_sandbox/requests                        recorded completion requests
POST /_sandbox/reset
POST /_sandbox/fault   {"spec": "500,p=0.3" | null, "model": "gpt-x" | null}
POST /_sandbox/script  {"spec": "503", "times": 1, "model": null}
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from .state import SandboxState

PREFIX = "/_sandbox/"


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name} must be a string or null")
    return value


def handle(state: SandboxState, method: str, path: str, raw: bytes) -> tuple[int, Any]:
    action = path[len(PREFIX) :]
    if method == "GET" and action == "requests":
        return 200, [dataclasses.asdict(r) for r in state.requests]
    if method != "POST" or action not in ("reset", "fault", "script"):
        return 404, {"error": {"message": f"unknown control endpoint {method} {path}"}}
    try:
        body = json.loads(raw) if raw.strip() else {}
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object")
        if action == "reset":
            state.reset()
        elif action == "fault":
            state.faults.set(_optional_str(body, "spec"), _optional_str(body, "model"))
        else:
            spec = _optional_str(body, "spec")
            times = body.get("times", 1)
            if spec is None or not isinstance(times, int):
                raise ValueError("script needs a spec string and an integer times")
            state.faults.script(spec, times, _optional_str(body, "model"))
    except ValueError as exc:
        return 400, {"error": {"message": str(exc)}}
    return 200, {"ok": True}
