"""What the engine-backed CLI commands share: exit codes, the --config option, loading the
router, and turning an error into words and an exit code."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping
from typing import IO, Any

from router.errors import ConfigError, RequestError

#: The exit codes of every command: 0 success, 1 the input is invalid or a request failed,
#: 2 usage or I/O error.
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_CONFIG = "configs/routes.yaml"
#: The name this project is installed under (``pip install declarative-llm-router``): the name
#: ``router`` on PyPI belongs to another project. The import package and the command stay
#: ``router``.
DISTRIBUTION = "declarative-llm-router"


def version_line() -> str:
    """``router --version``: the distribution and its installed version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{DISTRIBUTION} {version(DISTRIBUTION)}"
    except PackageNotFoundError:
        return f"{DISTRIBUTION} (not installed: run from a source tree)"


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


def add_sandbox_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sandbox",
        action="store_true",
        help=(
            "run the spec against the in-process sandbox: every provider points at it, no key "
            "or Redis needed (and none sent); state in memory; tasks, rules, fallbacks and "
            "limits are the spec's"
        ),
    )


def config_path(args: argparse.Namespace) -> str:
    return str(args.config or default_config())


def add_hooks_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--hooks",
        action="append",
        default=None,
        metavar="SPEC",
        help=(
            "register a hook the spec names: NAME=module:attribute (one hook), or "
            "module:attribute (a mapping of names to hooks); repeatable. The module is "
            "imported from the current directory or the Python path: the operator names "
            "code here, the spec only names hooks"
        ),
    )


def router_hooks(args: argparse.Namespace, spec: Any) -> dict[str, object]:
    """The hooks a command's Router gets: those ``--hooks`` names, for a command that has the
    option (it calls models: the spec's hooks must run, so a name it lacks fails the Router);
    else a stand-in for each name the spec lists (the command plans but never calls)."""
    from router.engine.hooks import stand_ins
    from router.engine.hookspecs import import_hooks

    if hasattr(args, "hooks"):
        return import_hooks(args.hooks or ())
    return stand_ins(spec)


def load_router(args: argparse.Namespace, stderr: IO[str], *, offline: bool = False) -> Any:
    """The Router of ``--config``. With ``--sandbox``, on the in-process sandbox. ``offline``
    (commands that plan but never call: explain, graph): unset key, header and Redis URL
    variables are not needed; the plan is made as if they were set, and a note on stderr
    names them. Hooks: :func:`router_hooks`."""
    from router.engine.router import Router
    from router.spec import load_spec

    path = config_path(args)
    spec = load_spec(path)
    hooks = router_hooks(args, spec)
    # One-shot commands: each provider's SDK loads when (if) the command calls it.
    if getattr(args, "sandbox", False):
        from router.engine.sandboxed import sandbox_changes

        router = Router(spec, preload=False, sandbox=True, hooks=hooks)
        assert router.sandbox is not None
        changed = "".join(f"; {c}" for c in sandbox_changes(spec))
        stderr.write(
            f"sandbox: every provider of {path} is answered by the in-process sandbox at "
            f"{router.sandbox.url} (no key needed or sent{changed})\n"
        )
        return router
    if not offline:
        return Router(spec, preload=False, hooks=hooks)
    environ, unset, state = planning_environment(spec, os.environ)
    if unset:
        names = ", ".join(unset)
        verb = "is" if len(unset) == 1 else "are"
        stderr.write(
            f"note: {names} {verb} not set: planned as if set (a call now would skip the "
            "models that need them)\n"
        )
    if state is not None:
        stderr.write(
            f"note: {spec.state.url_env} is not set: state (holds, spend) read from memory\n"
        )
    return Router(spec, environ=environ, state=state, preload=False, hooks=hooks)


_PLACEHOLDER = "router-offline-placeholder"  # never sent: offline commands call nothing


def planning_environment(
    spec: Any, environ: Mapping[str, str]
) -> tuple[dict[str, str], list[str], Any]:
    """The environment an offline command plans with: ``environ`` plus a placeholder for
    every key and header variable the spec reads that is unset; the names of those (in spec
    order); and a memory state backend when the Redis URL variable is unset (else None)."""
    from router.specmodel import EnvRef

    env = dict(environ)
    unset: list[str] = []
    for provider in spec.providers.values():
        names = [n for n in (provider.api_key_env, provider.token_env) if n]
        names += [v.name for v in provider.headers.values() if isinstance(v, EnvRef)]
        for name in names:
            if not env.get(name):
                env[name] = _PLACEHOLDER
                unset.append(name)
    for model in spec.models.values():  # a deployment's own key variable (a key pool...)
        for deployment in model.deployments:
            name = deployment.api_key_env
            if name and not env.get(name):
                env[name] = _PLACEHOLDER
                unset.append(name)
    state = None
    if spec.state.backend == "redis" and not env.get(spec.state.url_env or ""):
        from router.state import make_backend

        state = make_backend("memory", cache_max_entries=spec.defaults.cache.max_entries)
    return env, list(dict.fromkeys(unset)), state


def report_error(exc: BaseException, stderr: IO[str], config: str | None = None) -> int:
    """Writes ``exc`` in words and returns the exit code. ``config``: the spec the command
    read, named in an error about the request's task (unknown, or no model can take it)."""
    if isinstance(exc, ConfigError):
        stderr.write(f"{exc}\n")
        return EXIT_FAILED
    if isinstance(exc, RequestError):
        about_spec = config is not None and exc.argument in (None, "task")
        stderr.write(f"router: {config}: {exc}\n" if about_spec else f"router: {exc}\n")
        return EXIT_USAGE
    if isinstance(exc, OSError):
        stderr.write(f"router: {exc.strerror or exc}: {getattr(exc, 'filename', '')}\n")
        return EXIT_USAGE
    if isinstance(exc, json.JSONDecodeError):
        stderr.write(f"router: --messages is not valid JSON: {exc}\n")
        return EXIT_USAGE
    stderr.write(f"router: {exc}\n")
    return EXIT_FAILED
