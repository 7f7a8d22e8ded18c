"""Hooks named on the command line (``router complete|serve --hooks SPEC``): code the operator
names, never the spec. ``SPEC`` is ``NAME=module:attribute`` (one hook, registered as NAME)
or ``module:attribute`` (a mapping of names to hooks, each registered under its key). The
module is imported from the Python path, the current directory first; importing it runs its
code, once, when the command starts.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from router.diagnostics import Diagnostic
from router.errors import ConfigError

__all__ = ["import_hooks"]

_SPEC = re.compile(
    r"^(?:(?P<name>[A-Za-z0-9][A-Za-z0-9._:/@+-]*)=)?"
    r"(?P<module>[A-Za-z_][\w.]*):(?P<attr>[A-Za-z_][\w.]*)$"
)


def _problem(spec: str, what: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(f"--hooks {spec}: {what}", code="hooks-option", hint=hint)


def _load(module: str, attr: str) -> Any:
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` would: the operator's own modules
    value: Any = importlib.import_module(module)
    for part in attr.split("."):
        value = getattr(value, part)
    return value


def import_hooks(specs: Iterable[str]) -> dict[str, object]:
    """The hooks ``specs`` name, by name. Raises ConfigError listing every spec that is
    malformed, cannot be imported, or registers a name twice."""
    hooks: dict[str, object] = {}
    problems: list[Diagnostic] = []
    for spec in specs:
        m = _SPEC.match(spec)
        if m is None:
            problems.append(
                _problem(
                    spec,
                    "expected NAME=module:attribute or module:attribute",
                    "e.g. --hooks pii=myapp.hooks:mask_pii",
                )
            )
            continue
        error: str | None = None
        try:
            value = _load(m["module"], m["attr"])
        except ImportError as exc:
            error = f"cannot import module '{m['module']}' ({type(exc).__name__}: {exc})"
        except AttributeError:
            error = f"module '{m['module']}' has no attribute '{m['attr']}'"
        except Exception as exc:
            error = f"importing module '{m['module']}' raised {type(exc).__name__}"
        if error is not None:
            problems.append(_problem(spec, error))
            continue
        if m["name"] is not None:
            found: Mapping[Any, object] = {m["name"]: value}
        elif isinstance(value, Mapping):
            found = value
        else:
            problems.append(
                _problem(
                    spec,
                    f"'{m['attr']}' is a {type(value).__name__}, not a mapping of names to hooks",
                    f"name the hook: --hooks NAME={m['module']}:{m['attr']}",
                )
            )
            continue
        for name, hook in found.items():
            if name in hooks:
                problems.append(_problem(spec, f"registers hook '{name}' a second time"))
            else:
                hooks[name] = hook
    if problems:
        raise ConfigError(problems)
    return hooks
