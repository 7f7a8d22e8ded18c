"""What `from router import Router` loads: the request path only. The spec loader (YAML, the
schema, the semantic checks), the event log (structlog, and the rich it may pull in), the
vendor SDKs, the metrics client and the guardrails are imported when a Router is built from a
file, when a spec turns them on, or when the Router is built (preload), never by the import
itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "routes.yaml"

DEFERRED = (
    "openai",
    "anthropic",
    "httpx2",
    "jsonschema",
    "yaml",
    "structlog",
    "rich",
    "prometheus_client",
    "router.spec",
    "router.cli",
    "router.sandbox",
    "router.simulate",
    # the classifier's backends: imported when a Router with a classifier trains it
    "numpy",
    "scipy",
    "sklearn",
    "onnxruntime",
    "tokenizers",
    "router.routing.classifiers.tfidf",
    "router.routing.classifiers.embeddings",
    "router.guardrails",
)


def _loaded_after(statement: str) -> list[str]:
    code = f"import sys; {statement}; print(sorted(m for m in {DEFERRED!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return eval(out.stdout)  # type: ignore[no-any-return]


def test_from_router_import_router_loads_only_the_request_path() -> None:
    assert _loaded_after("from router import Router, Response, RouterError") == []


def test_building_a_router_from_a_file_loads_the_spec_loader_then() -> None:
    loaded = _loaded_after(
        f"from router import Router; r = Router.from_yaml({str(CONFIG)!r}, preload=False)"
    )
    assert "router.spec" in loaded and "yaml" in loaded
