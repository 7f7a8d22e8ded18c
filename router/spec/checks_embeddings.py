"""Semantic checks on embedding models: a task's models are of one kind, a fallback between
embedding models keeps their dimensions, and an embedding model is served by a wire format
that has embeddings (not Anthropic's)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from router.diagnostics import Diagnostic
from router.spec.checks_rules import string_items

if TYPE_CHECKING:
    from router.spec.checks import Context

__all__ = ["NO_EMBEDDINGS", "check_embeddings", "task_chain"]

#: Provider types whose wire format has no embeddings endpoint.
NO_EMBEDDINGS = frozenset({"anthropic", "anthropic_bedrock", "anthropic_vertex"})


def _kind(model: Any) -> str:
    kind = model.get("kind", "chat") if isinstance(model, dict) else "chat"
    return kind if isinstance(kind, str) else "chat"


def task_chain(ctx: Context, task: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    """(path, model name) for each model of a task's candidates and fallback."""
    models = ctx.section("models")
    found = [(("candidates", i), ref) for i, ref in string_items(task.get("candidates"))]
    fallback = task.get("fallback")
    for i, entry in enumerate(fallback if isinstance(fallback, list) else []):
        if isinstance(entry, str):
            found.append((("fallback", i), entry))
        elif isinstance(entry, dict) and isinstance(entry.get("model"), str):
            found.append((("fallback", i), entry["model"]))
    return [(path, ref) for path, ref in found if ref in models]


def _providers(model: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    found: list[tuple[tuple[Any, ...], str]] = []
    if isinstance(model.get("provider"), str):
        found.append((("provider",), model["provider"]))
    deployments = model.get("deployments")
    for i, d in enumerate(deployments if isinstance(deployments, list) else []):
        if isinstance(d, dict) and isinstance(d.get("provider"), str):
            found.append((("deployments", i, "provider"), d["provider"]))
    return found


def check_embeddings(ctx: Context) -> Iterator[Diagnostic]:
    models, providers = ctx.section("models"), ctx.section("providers")
    for name, model in ctx.entries("models"):
        if _kind(model) != "embedding":
            yield from _output_prices(ctx, name, model)
            dims = model.get("dimensions")
            if isinstance(dims, int) and not isinstance(dims, bool) and dims >= 1:
                yield ctx.doc.diagnostic(
                    ("models", name, "dimensions"),
                    f"model '{name}' declares dimensions but is not an embedding model",
                    "dimensions-without-embedding",
                    hint="add `kind: embedding`, or remove `dimensions`",
                )
            continue
        for path, provider in _providers(model):
            p = providers.get(provider)
            ptype = p.get("type") if isinstance(p, dict) else None
            if ptype in NO_EMBEDDINGS:
                yield ctx.doc.diagnostic(
                    ("models", name, *path),
                    f"embedding model '{name}' is served by provider '{provider}' of type "
                    f"{ptype}, which has no embeddings endpoint",
                    "embedding-provider",
                    hint="serve embedding models from openai, azure_openai or "
                    "openai_compatible providers",
                )
    for tname, task in ctx.entries("tasks"):
        chain = task_chain(ctx, task)
        kinds = {_kind(models[ref]) for _, ref in chain}
        if len(kinds) > 1:
            first = {k: ref for _, ref in reversed(chain) for k in [_kind(models[ref])]}
            yield ctx.doc.diagnostic(
                ("tasks", tname),
                f"task '{tname}' mixes chat models ('{first['chat']}') and embedding models "
                f"('{first['embedding']}'); a task answers either complete or embed",
                "mixed-model-kinds",
                hint="put the embedding models in a task of their own",
            )
            continue
        if kinds != {"embedding"}:
            continue
        first_dim: tuple[str, int] | None = None
        for path, ref in chain:
            dim = models[ref].get("dimensions")
            if not isinstance(dim, int):
                continue
            if first_dim is None:
                first_dim = (ref, dim)
            elif dim != first_dim[1]:
                yield ctx.doc.diagnostic(
                    ("tasks", tname, *path),
                    f"task '{tname}': '{ref}' returns {dim}-dimensional vectors but "
                    f"'{first_dim[0]}' returns {first_dim[1]}; vectors of different "
                    "dimensions cannot stand in for each other",
                    "embedding-dimensions",
                    hint=f"fall back only to embedding models of {first_dim[1]} dimensions",
                )


def _output_prices(ctx: Context, name: str, model: dict[str, Any]) -> Iterator[Diagnostic]:
    """A chat model's prices include output (only an embedding model's may leave it out)."""
    places: list[tuple[tuple[Any, ...], Any]] = [(("pricing",), model.get("pricing"))]
    deployments = model.get("deployments")
    for i, d in enumerate(deployments if isinstance(deployments, list) else []):
        if isinstance(d, dict):
            places.append((("deployments", i, "pricing"), d.get("pricing")))
    for path, pricing in places:
        if isinstance(pricing, dict) and "output" not in pricing:
            yield ctx.doc.diagnostic(
                ("models", name, *path),
                f"model '{name}': pricing has no output price",
                "pricing-output-missing",
                hint="add `output` (USD per million generated tokens), or `kind: embedding` "
                "on the model if it is an embedding model",
            )
