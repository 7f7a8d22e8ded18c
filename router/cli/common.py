"""What the engine-backed CLI commands share: exit codes, the --config option, loading the
router, and turning an error into words and an exit code."""

from __future__ import annotations

import argparse
import json
import os
from typing import IO, Any

from router.errors import ConfigError, RequestError

#: The exit codes of every command: 0 success, 1 the input is invalid or a request failed,
#: 2 usage or I/O error.
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_CONFIG = "configs/routes.yaml"


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 rule``, ``2 rules``, ``0 entries`` (with ``many``)."""
    return f"{count} {word if count == 1 else many or word + 's'}"


def default_config() -> str:
    return os.environ.get("ROUTER_CONFIG", DEFAULT_CONFIG)


def add_config_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help=f"routing spec (default: $ROUTER_CONFIG or {DEFAULT_CONFIG})",
    )


def load_router(args: argparse.Namespace, stderr: IO[str]) -> Any:
    from router.engine.router import Router

    path = args.config or default_config()
    # One-shot commands: each provider's SDK loads when (if) the command calls it.
    return Router.from_yaml(path, preload=False)


def report_error(exc: BaseException, stderr: IO[str]) -> int:
    if isinstance(exc, ConfigError):
        stderr.write(f"{exc}\n")
        return EXIT_FAILED
    if isinstance(exc, RequestError):
        stderr.write(f"router: {exc}\n")
        return EXIT_USAGE
    if isinstance(exc, OSError):
        stderr.write(f"router: {exc.strerror or exc}: {getattr(exc, 'filename', '')}\n")
        return EXIT_USAGE
    if isinstance(exc, json.JSONDecodeError):
        stderr.write(f"router: --messages is not valid JSON: {exc}\n")
        return EXIT_USAGE
    stderr.write(f"router: {exc}\n")
    return EXIT_FAILED
