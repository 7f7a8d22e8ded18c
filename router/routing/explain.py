"""A plan, in words (for ``router explain``) and as plain data (``--format json``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from router.routing.classify import classification_to_dict, format_classification
from router.routing.content import TextMatch
from router.routing.hookplan import guardrail_steps
from router.routing.plan import Candidate, Plan, cheapest_only
from router.specmodel import Spec


def _money(value: float | None) -> str:
    return "unpriced" if value is None else f"${value:.6f}"


def _seconds(value: float | None) -> str:
    return "?" if value is None else f"{value:g}s"


def _row(i: int | None, c: Candidate) -> str:
    head = f"{i}." if i is not None else "-"
    quality = "?" if c.quality is None else f"{c.quality:g}"
    score = "" if c.score is None else f"  score {c.score:.3f}"
    return (
        f"  {head:<3} {c.model:<18} {c.role:<26} est. {_money(c.estimated_cost):>10}  "
        f"p50 {_seconds(c.latency):>5}  quality {quality:>2}{score}"
    )


def _text_lines(found: TextMatch) -> list[str]:
    """What a content rule found: each keyword or pattern, with a short redacted excerpt."""
    lines = []
    for i, hit in enumerate(found.hits):
        head = "text:" if i == 0 else ""
        excerpt = hit.excerpt
        shown = f': "{excerpt}"' if excerpt else ""
        lines.append(f"{head:<10} {hit.kind} '{hit.term}' in {found.where}{shown}")
    if found.read < found.total:
        lines.append(
            f"{'':<10} read {found.read:,} of its {found.total:,} characters "
            f"(the first and last {found.read // 2:,})"
        )
    return lines


def text_match_to_dict(found: TextMatch | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "in": found.scope,
        "chars": found.total,
        "read": found.read,
        "hits": [{"kind": h.kind, "term": h.term, "excerpt": h.excerpt} for h in found.hits],
    }


def _share(d: Mapping[str, Any]) -> str:
    return f"{d['share']:.0%}" if d["share"] else "standby"


def format_deployments(model: str, rows: Sequence[Mapping[str, Any]], balance: str) -> list[str]:
    """One model's deployments (:meth:`Router.deployments`), for ``router explain``."""
    lines = [f"  {model}: {len(rows)} deployments, balance: {balance}"]
    names = max(len(str(d["name"])) for d in rows)
    places = max(len(f"{d['provider']}/{d['id']}") for d in rows)
    for d in rows:
        mark = "→" if d["chosen"] else " "
        price = d["pricing"]
        shown = "" if price is None else f"  ${price['input']:g}/${price['output']:g} per M"
        place = f"{d['provider']}/{d['id']}"
        lines.append(
            f"    {mark} {d['name']:<{names}}  {place:<{places}}  weight {d['weight']:g}"
            f" ({_share(d)})  {d['state']}{shown}"
        )
    chosen = next((d for d in rows if d["chosen"]), None)
    if chosen is not None:
        lines.append(f"    this request would go to {chosen['name']}: {chosen['why']}")
    prices = {(d["pricing"]["input"], d["pricing"]["output"]) for d in rows if d["pricing"]}
    if len(prices) > 1:
        lines.append(
            "    prices differ between deployments: each call is charged at its deployment's "
            "price; the plan estimates with the model's"
        )
    return lines


def format_extras(rows: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """What each model of the chain is sent of the provider parameters set
    (:func:`router.routing.extras.sent_fields`): names only."""

    def gets(row: Mapping[str, Any]) -> str:
        sent = ", ".join(row["sent"]) or "none"
        dropped = f"; drops {', '.join(row['dropped'])} (not declared)" if row["dropped"] else ""
        return f"gets {sent}{dropped}"

    lines = ["provider parameters:"]
    for model, row in rows.items():
        if "deployments" in row:
            lines.append(f"  {model}:")
            lines += [f"    {name}: {gets(r)}" for name, r in row["deployments"].items()]
        else:
            lines.append(f"  {model}: {gets(row)}")
    return lines


def format_plan(
    plan: Plan,
    spec: Spec,
    deployments: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    extras: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """The plan in words; ``deployments`` (model -> :meth:`Router.deployments`) adds where
    each model of the chain with several deployments is served and which one goes first;
    ``extras`` (:func:`router.routing.extras.sent_fields`) which provider parameters each
    model gets."""
    f = plan.features
    task = plan.task
    lines = format_classification(f.classification) if f.classification is not None else []
    if plan.requested_task != task.name and plan.requested_task not in spec.tasks:
        model = (
            f"; '{plan.requested_task}' is a model's name: a call names a task"
            if plan.requested_task in spec.models
            else ""
        )
        lines.append(f"task:      {task.name} (serves unknown task '{plan.requested_task}'{model})")
    elif plan.requested_task != task.name:
        lines.append(f"task:      {task.name} (requested: {plan.requested_task})")
    else:
        lines.append(f"task:      {task.name}")
    if plan.rule is None:
        lines.append("rule:      none matched")
    else:
        lines.append(f"rule:      '{plan.rule.name}' matched → {'; '.join(plan.rule.actions())}")
    if plan.text_match is not None:
        lines += _text_lines(plan.text_match)
    guardrails = guardrail_steps(spec, task, plan.rule)
    if guardrails:
        passed = ", ".join(f"{g.name} ({g.type}, {g.origin})" for g in guardrails)
        lines.append(
            f"guardrails: {passed}: in this order, on the messages as sent (after the before "
            "hooks); masked values restored in the answer (before the after hooks)"
        )
    if plan.confined is not None:
        lines.append(
            f"confined:  {', '.join(sorted(plan.confined)) or '(no model)'} "
            "(nothing outside this set is tried, fallbacks included)"
        )
    needs = ", ".join(sorted(f.capabilities)) or "none"
    lines.append(f"request:   ~{f.input_tokens:,} input tokens; needs: {needs}")
    if plan.hooks:
        passed = ", ".join(f"{h.name} ({h.origin})" for h in plan.hooks)
        lines.append(f"hooks:     {passed}: before the request in this order, after it reversed")
    lines.append(
        f"priority:  {plan.priority} (lower score first, ties in spec order; "
        "fallbacks follow in spec order)"
    )
    lines.append("chain (tried in order):")
    lines += [_row(i, c) for i, c in enumerate(plan.chain, 1)] or [
        "  (empty: no model can serve this request)"
    ]
    if plan.truncated:
        lines.append(f"  ... {plan.truncated} more left out by max_attempts={task.max_attempts}")
    if plan.skipped:
        lines.append("skipped:")
        lines += [f"  - {c.model} ({c.role}): {c.skipped}" for c in plan.skipped]
    if task.on_budget == "cheapest" and (task.budget or spec.budgets) and plan.chain:
        cheapest = cheapest_only(plan).chain[0].model
        lines.append(
            f"spend cap: once reached, only {cheapest} is tried "
            "(on_budget: cheapest, the cheapest model of this chain)"
        )
    lines.append(f"moves on after: {', '.join(sorted(task.fallback_on))}")
    t = task.timeouts
    lines.append(
        f"timeouts:  {_seconds(t.request)} per attempt, {_seconds(t.total)} for the whole request"
    )
    if plan.chain and plan.chain[0].estimated_cost is not None:
        lines.append(f"estimated cost of the first attempt: {_money(plan.chain[0].estimated_cost)}")
    if extras:
        lines += format_extras(extras)
    if deployments:
        lines.append("deployments (a failure moves to the model's next one first):")
        for model, rows in deployments.items():
            lines += format_deployments(model, rows, spec.models[model].balance)
    return "\n".join(lines)


def plan_to_dict(
    plan: Plan,
    deployments: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    extras: Mapping[str, Mapping[str, Any]] | None = None,
    spec: Spec | None = None,
) -> dict[str, Any]:
    """The plan as data; with ``spec``, the guardrails the request passes, in the order they
    run (``[{"name", "type", "from"}]``, left out when there are none)."""

    def cand(c: Candidate) -> dict[str, Any]:
        return {
            "model": c.model,
            "role": c.role,
            "estimated_cost": c.estimated_cost,
            "latency_p50": c.latency,
            "quality": c.quality,
            "score": c.score,
            **({"skipped": c.skipped} if c.skipped else {}),
        }

    return {
        **(
            {"classification": classification_to_dict(plan.features.classification)}
            if plan.features.classification is not None
            else {}
        ),
        "requested_task": plan.requested_task,
        "task": plan.task.name,
        "rule": plan.rule.name if plan.rule else None,
        "text_match": text_match_to_dict(plan.text_match),
        "confined": sorted(plan.confined) if plan.confined is not None else None,
        "hooks": [{"name": h.name, "from": h.origin} for h in plan.hooks],
        "priority": str(plan.priority),
        "input_tokens": plan.features.input_tokens,
        "capabilities": sorted(plan.features.capabilities),
        "chain": [cand(c) for c in plan.chain],
        "skipped": [cand(c) for c in plan.skipped],
        "truncated": plan.truncated,
        "fallback_on": sorted(plan.task.fallback_on),
        **(
            {"guardrails": [{"name": g.name, "type": g.type, "from": g.origin} for g in steps]}
            if spec is not None and (steps := guardrail_steps(spec, plan.task, plan.rule))
            else {}
        ),
        **(
            {"deployments": {m: list(rows) for m, rows in deployments.items()}}
            if deployments
            else {}
        ),
        **({"provider_params": dict(extras)} if extras else {}),
    }
