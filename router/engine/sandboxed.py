"""A spec run against the in-process sandbox: ``Router(spec, sandbox=True)``,
``Router.from_yaml(path, sandbox=True)``, ``router complete|explain --sandbox``.

Every provider (of every type, ``local: true`` ones too) is pointed at the sandbox, which
speaks each wire format (and the clouds' paths: Azure, Bedrock, Vertex); the key, token and
header variables the providers read get dummy values in a private environment (and a cloud
provider the region or project its adapter asks for), so no key is needed and none is ever
sent, even to the sandbox. Tasks, rules, fallbacks, constraints, limits, breakers, retries,
timeouts, cache and priorities are the spec's own. Two things change, so that a trial run never
touches what the deployment shares: the state backend is this process's memory (no Redis is
needed or written), and a ledger kept in a file is kept in memory instead (``router report``
never counts sandbox calls).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from router.errors import RequestError
from router.providers.registry import get_adapter_class
from router.sandbox import Sandbox
from router.specmodel import EnvRef, Spec, StateSpec

__all__ = ["DUMMY_KEY", "sandbox_changes", "sandboxed", "start_sandbox"]

#: The key every provider sends to the sandbox (which accepts any key).
DUMMY_KEY = "router-sandbox-dummy-key"
_DUMMY_VALUE = "router-sandbox-dummy-value"
_KEY_ENV = "ROUTER_SANDBOX_API_KEY"  # for providers that name no key variable


def start_sandbox(option: object) -> tuple[Sandbox, Sandbox | None]:
    """The sandbox a Router runs on for its ``sandbox`` option (True: a new one, started; a
    Sandbox: that one, started if it is not), and the one the Router owns and stops (None when
    the caller passed it)."""
    if option is True:
        owned = Sandbox().start()
        return owned, owned
    if isinstance(option, Sandbox):
        return option.start(), None  # start() is a no-op on a running sandbox
    raise RequestError(
        f"sandbox must be True, False or a router.sandbox.Sandbox, not {type(option).__name__}",
        argument="sandbox",
    )


def sandboxed(spec: Spec, sandbox: Sandbox) -> tuple[Spec, dict[str, str]]:
    """``spec`` with every provider on ``sandbox`` (started), state in memory and a file
    ledger in memory; and a private environment giving every variable the providers read a
    dummy value: no real key is needed, or ever sent."""
    environ: dict[str, str] = {_KEY_ENV: DUMMY_KEY}
    providers = {}
    for name, p in spec.providers.items():
        cls = get_adapter_class(p.type)
        # The field whose variable carries the credential (api_key_env; token_env for a
        # provider authenticated by a bearer token) names a variable holding the dummy key.
        field = cls.sandbox_credential
        key_env = getattr(p, field) or _KEY_ENV
        environ[key_env] = DUMMY_KEY
        environ.update(cls.sandbox_environment)  # a region, a project: never a credential
        for value in p.headers.values():
            if isinstance(value, EnvRef):
                environ[value.name] = _DUMMY_VALUE
        base = sandbox.url + cls.base_path  # the server's root, + /v1...
        moved = dataclasses.replace(p, base_url=base)
        if field == "token_env":
            providers[name] = dataclasses.replace(moved, token_env=key_env)
        else:
            providers[name] = dataclasses.replace(moved, api_key_env=key_env)
    models = {}
    for name, m in spec.models.items():
        # A deployment's own endpoint becomes its provider's (the sandbox); its own key
        # variable gets the dummy value too.
        for d in m.deployments:
            if d.api_key_env:
                environ[d.api_key_env] = DUMMY_KEY
        deployments = tuple(dataclasses.replace(d, base_url=None) for d in m.deployments)
        models[name] = dataclasses.replace(m, deployments=deployments)
    telemetry: Mapping[str, Any] = spec.telemetry
    if _file_ledger(spec):
        telemetry = {**spec.telemetry, "ledger": "memory"}
    pointed = dataclasses.replace(
        spec, providers=providers, models=models, state=StateSpec(), telemetry=telemetry
    )
    return pointed, environ


def _file_ledger(spec: Spec) -> bool:
    ledger = spec.telemetry.get("ledger")
    return isinstance(ledger, Mapping) and ledger.get("path") is not None


def sandbox_changes(spec: Spec) -> list[str]:
    """What running ``spec`` on the sandbox changes besides the providers' addresses, in
    words (for the CLI to say)."""
    changes = []
    if spec.state.backend != "memory":
        changes.append(
            f"state in memory instead of {spec.state.backend} ({spec.state.url_env} not needed)"
        )
    if _file_ledger(spec):
        changes.append("the usage ledger in memory (its file is not written)")
    return changes
