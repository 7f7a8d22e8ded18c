"""What a spec takes from the environment, and what it makes of it: the state backend (its
Redis URL), the values telemetry must redact (keys, header values, the URL's password), why a
provider cannot be called (a variable unset), and each provider's adapter (its key and header
values read here, never shown anywhere). :func:`~router.engine.compile.compile_spec` calls
these when a Router is built; ``router keys`` and the simulator use some on their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from router.diagnostics import Diagnostic
from router.errors import ConfigError, ProviderConfigError
from router.providers.base import CREDENTIAL_NAME, Adapter, ProviderSettings
from router.providers.registry import get_adapter_class
from router.redaction import url_secrets
from router.specmodel import EnvRef, ProviderSpec, Spec
from router.state import StateBackend, make_backend

__all__ = [
    "AdapterFactory",
    "make_adapter",
    "make_state",
    "resolve",
    "secrets_of",
    "unavailable_reason",
]


def make_state(spec: Spec, environ: Mapping[str, str], wall: Callable[[], float]) -> StateBackend:
    state = spec.state
    url = None
    if state.backend == "redis":
        url = environ.get(state.url_env or "")
        if not url:
            raise ConfigError(
                [
                    Diagnostic(
                        f"state.backend is redis but the environment variable {state.url_env} "
                        "is not set",
                        code="env-unset",
                        path="$.state.url_env",
                        file=spec.source,
                        hint=f"export {state.url_env}=redis://... (router explain and graph, "
                        "and --sandbox runs, need no Redis)",
                    )
                ]
            )
    return make_backend(
        state.backend,
        url=url,
        key_prefix=state.key_prefix,
        on_unavailable=state.on_unavailable,
        connect_timeout=state.connect_timeout,
        clock=wall,
        cache_max_entries=spec.defaults.cache.max_entries,
    )


def secrets_of(spec: Spec, environ: Mapping[str, str]) -> list[str]:
    """Every value read from the environment that could be a secret: keys, header values,
    the Redis URL's password. Telemetry redacts them wherever they might appear."""
    names = [n for p in spec.providers.values() for n in (p.api_key_env, p.token_env) if n]
    names += [d.api_key_env for m in spec.models.values() for d in m.deployments if d.api_key_env]
    # The cloud credentials an adapter reads (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN...).
    names += [n for t in {p.type for p in spec.providers.values()} for n in _credential_names(t)]
    names += [
        v.name for p in spec.providers.values() for v in p.headers.values() if isinstance(v, EnvRef)
    ]
    found = [environ[n] for n in names if environ.get(n)]
    url = environ.get(spec.state.url_env or "")
    return found + url_secrets(url) if url else found


def _credential_names(provider_type: str) -> tuple[str, ...]:
    """The environment variables holding credentials that adapters of this type read; none
    when its module cannot be imported (that provider fails on its own, naming what to
    install)."""
    try:
        names = get_adapter_class(provider_type).environment_names
    except (ProviderConfigError, ValueError):
        return ()
    return tuple(n for n in names if CREDENTIAL_NAME.search(n))


def resolve(value: str | EnvRef, environ: Mapping[str, str]) -> str | None:
    return environ.get(value.name) if isinstance(value, EnvRef) else value


def unavailable_reason(provider: ProviderSpec, environ: Mapping[str, str]) -> str | None:
    for name in (provider.api_key_env, provider.token_env):
        if name and not environ.get(name):
            return f"{name} is not set"
    for header, value in provider.headers.items():
        if isinstance(value, EnvRef) and not environ.get(value.name):
            return f"{value.name} (header {header}) is not set"
    return None


#: Makes the adapter of one provider entry, given the environment (keys, header values).
AdapterFactory = Callable[[ProviderSpec, Mapping[str, str]], Adapter]


def make_adapter(provider: ProviderSpec, environ: Mapping[str, str]) -> Adapter:
    """The default :data:`AdapterFactory`: the registry's adapter class for the provider's
    type, with its key and header values taken from ``environ``."""
    headers = {k: v for k, raw in provider.headers.items() if (v := resolve(raw, environ))}
    cls = get_adapter_class(provider.type, provider=provider.name)
    settings = ProviderSettings(
        name=provider.name,
        base_url=provider.base_url,
        api_key=environ.get(provider.api_key_env) if provider.api_key_env else None,
        headers=headers,
        connect_timeout=provider.timeouts.connect,
        request_timeout=provider.timeouts.request,
        api_version=provider.api_version,
        region=provider.region,
        project=provider.project,
        token=environ.get(provider.token_env) if provider.token_env else None,
        environment={n: environ[n] for n in cls.environment_names if environ.get(n)},
    )
    return cls(settings)
