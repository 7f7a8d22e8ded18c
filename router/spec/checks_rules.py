"""Semantic checks on rules: conditions that can never hold, rules that send a task to
itself, rules no request can reach because an earlier one matches everything they would
(rules are tried in order and the first match wins), and what confinement does: candidates
outside a rule's ``only``, task fallbacks a rule's candidates leave out, and confined rules
that leave no model at all for requests they match (:func:`plan_diagnostics`, which plans
with the built spec, and also finds ``{task: X}`` fallbacks that add no model)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from router.diagnostics import Diagnostic
from router.spec.checks_content import text_implies
from router.spec.schema import where
from router.spec.yamlload import Document
from router.specmodel import RuleSpec, RuleWhen, Spec

if TYPE_CHECKING:
    from router.routing.classify import Classification
    from router.routing.plan import Plan
    from router.spec.checks import Context


def _rule_name(rule: dict[str, Any], i: int) -> str:
    return where(("rules", i), {"rules": {i: rule}})


def _conditions(rule: dict[str, Any]) -> dict[str, Any] | None:
    when = rule.get("when", {})
    if when is None:
        return {}
    return when if isinstance(when, dict) else None


def _as_set(value: Any) -> set[Any] | None:
    if value is None:
        return None
    return {value} if not isinstance(value, list) else set(value)


def _scalars(value: Any) -> bool:
    items = value if isinstance(value, list) else [value]
    return all(isinstance(v, (str, int, float)) for v in items)


def _comparable(when: dict[str, Any]) -> bool:
    """Whether ``when`` has the shapes :func:`_implies` compares (the schema reports the rest)."""
    tokens = (when.get("min_input_tokens"), when.get("max_input_tokens"))
    metadata = when.get("metadata") or {}
    return (
        all(t is None or (isinstance(t, int) and not isinstance(t, bool)) for t in tokens)
        and all(
            when.get(k) is None or _scalars(when[k])
            for k in ("task", "capabilities", "tags", "label", "min_confidence")
        )
        and isinstance(metadata, dict)
        and all(_scalars(v) for v in metadata.values())
    )


def _implies(later: dict[str, Any], earlier: dict[str, Any]) -> bool:
    """True when every request matching ``later`` also matches ``earlier``."""
    e_tasks, l_tasks = _as_set(earlier.get("task")), _as_set(later.get("task"))
    if e_tasks is not None and (l_tasks is None or not l_tasks <= e_tasks):
        return False
    e_min, l_min = earlier.get("min_input_tokens"), later.get("min_input_tokens")
    if e_min is not None and (l_min is None or l_min < e_min):
        return False
    e_max, l_max = earlier.get("max_input_tokens"), later.get("max_input_tokens")
    if e_max is not None and (l_max is None or l_max > e_max):
        return False
    if not (_as_set(earlier.get("capabilities")) or set()) <= (
        _as_set(later.get("capabilities")) or set()
    ):
        return False
    if not (_as_set(earlier.get("tags")) or set()) <= (_as_set(later.get("tags")) or set()):
        return False
    e_labels, l_labels = _as_set(earlier.get("label")), _as_set(later.get("label"))
    if e_labels is not None and (l_labels is None or not l_labels <= e_labels):
        return False
    e_conf, l_conf = earlier.get("min_confidence"), later.get("min_confidence")
    if e_conf is not None and (l_conf is None or l_conf < e_conf):
        return False
    e_meta, l_meta = earlier.get("metadata") or {}, later.get("metadata") or {}
    for key, allowed in e_meta.items():
        if key not in l_meta or not (_as_set(l_meta[key]) or set()) <= (_as_set(allowed) or set()):
            return False
    return text_implies(later.get("text"), earlier.get("text"))


def check_rules(ctx: Context) -> Iterator[Diagnostic]:
    earlier: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    for i, rule in ctx.rules():
        when = _conditions(rule)
        if when is None:
            continue
        lo, hi = when.get("min_input_tokens"), when.get("max_input_tokens")
        impossible = isinstance(lo, int) and isinstance(hi, int) and lo > hi
        if impossible:
            yield ctx.doc.diagnostic(
                ("rules", i, "when"),
                f"{_rule_name(rule, i)} can never match: "
                f"min_input_tokens {lo} is above max_input_tokens {hi}",
                "rule-never-matches",
            )
        route_to, task_cond = rule.get("route_to"), when.get("task")
        if isinstance(route_to, str) and task_cond in (route_to, [route_to]):
            yield ctx.doc.diagnostic(
                ("rules", i, "route_to"),
                f"{_rule_name(rule, i)} sends task '{route_to}' to itself",
                "rule-self-route",
                hint="remove route_to or change the task condition",
            )
        yield from _outside_only(ctx, i, rule)
        if impossible or not _comparable(when):
            continue  # it shadows nothing, and "never used" would only repeat the error above
        for j, prev, prev_when in earlier:
            if _implies(when, prev_when):
                line = ctx.doc.position(("rules", j))
                what = (
                    "matches every request"
                    if not prev_when
                    else "matches every request this one would"
                )
                yield ctx.doc.diagnostic(
                    ("rules", i),
                    f"{_rule_name(rule, i)} is never used: {_rule_name(prev, j)}"
                    f"{f' (line {line[0]})' if line else ''} comes first and {what}",
                    "shadowed-rule",
                    hint="rules are tried in order and the first match wins; "
                    "move this rule up or narrow the earlier one",
                )
                break
        earlier.append((i, rule, when))


def _outside_only(ctx: Context, i: int, rule: dict[str, Any]) -> Iterator[Diagnostic]:
    """With ``only``, a candidate or a fallback model outside it could never be tried."""
    only = rule.get("only")
    if not isinstance(only, list):
        return
    allowed = {m for m in only if isinstance(m, str)}
    candidates = rule.get("candidates")
    fallback = rule.get("fallback")
    places = [("candidates", j, m, "chooses candidate") for j, m in string_items(candidates)]
    places += [("fallback", j, m, "falls back to") for j, m in string_items(fallback)]
    for key, j, ref, what in places:
        if ref not in allowed:
            yield ctx.doc.diagnostic(
                ("rules", i, key, j),
                f"{_rule_name(rule, i)} {what} '{ref}', which its `only` list leaves out",
                "outside-only",
                hint=f"add '{ref}' to `only`, or remove it from `{key}`",
            )


def string_items(value: Any) -> list[tuple[int, str]]:
    """(index, name) for each string in a list; tolerant of the wrong shape."""
    if not isinstance(value, list):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, str)]


# --- with the built spec: what confinement leaves -------------------------------------------------


def _plans(spec: Spec, rule: RuleSpec) -> list[Plan]:
    """For each task the rule can match, the plan of the smallest request it matches: the
    capabilities, tags and metadata its ``when`` asks for (and any text it asks for),
    ``min_input_tokens`` of input and one token of output, every model available. What this
    plan lacks, every request lacks."""
    from router.routing.features import Features
    from router.routing.plan import make_plan

    w = rule.when
    # A text condition narrows which requests match, never what they are: the smallest
    # request stands for those whose text meets it.
    alone = replace(spec, rules=(replace(rule, when=replace(w, text=None)),))
    names = sorted(w.tasks) if w.tasks is not None else list(spec.tasks)
    if rule.route_to is not None:
        names = names[:1]  # every request goes to the same task
    plans = []
    for name in names:
        if spec.task(name) is None:
            continue  # an unknown task without a default: reported as such
        features = Features(
            task=name,
            input_tokens=w.min_input_tokens or 0,
            output_tokens=1,
            capabilities=w.capabilities,
            metadata={k: v[0] for k, v in w.metadata.items() if v},
            tags=w.tags,
            classification=_labelled(w),
        )
        plans.append(make_plan(alone, features))
    return plans


def _labelled(w: RuleWhen) -> Classification | None:
    """A classification the rule's ``label`` and ``min_confidence`` conditions accept."""
    if w.labels is None and w.min_confidence is None:
        return None
    from router.routing.classify import Classification

    label = min(w.labels) if w.labels else "label"
    return Classification("", label, 1.0, ((label, 1.0),), 0.0, "tfidf")


def _task_label(plan: Plan) -> str:
    return f"task '{plan.task.name}'"


def _empty_task_fallbacks(doc: Document, spec: Spec) -> Iterator[Diagnostic]:
    """A ``{task: X}`` fallback none of whose models can serve the task that lists it: the
    task's constraints hold through it, so it adds nothing to the chain."""
    from router.routing.features import Features
    from router.routing.plan import make_plan

    for task in spec.tasks.values():
        for i, entry in enumerate(task.fallback):
            if entry.task is None or entry.task == task.name:
                continue
            alone = replace(task, candidates=(), fallback=(entry,))
            probe = replace(spec, rules=(), tasks={**spec.tasks, task.name: alone})
            plan = make_plan(probe, Features(task=task.name, input_tokens=0, output_tokens=1))
            if plan.chain or not plan.skipped:
                continue
            why = ", ".join(f"{c.model}: {c.skipped}" for c in plan.skipped)
            yield doc.diagnostic(
                ("tasks", task.name, "fallback", i),
                f"fallback {{task: {entry.task}}} of task '{task.name}' adds no model to its "
                f"chain ({why})",
                "task-fallback-adds-nothing",
                severity="warning",
                hint=f"the constraints of task '{task.name}' hold for every model of its "
                f"chain; remove the entry, or give task '{entry.task}' a model that meets them",
            )


def plan_diagnostics(doc: Document, spec: Spec) -> list[Diagnostic]:
    """Findings that need planning with the built spec: task fallbacks a rule's candidates
    leave out (a warning: the safe reading, but a change a user should see), confined rules
    that leave no model for requests they match (an error), and ``{task: X}`` fallbacks that
    add no model under the listing task's constraints (a warning)."""
    found = list(_empty_task_fallbacks(doc, spec))
    for rule in spec.rules:
        if not rule.confines:
            continue
        key = "candidates" if rule.candidates is not None else "only"
        plans = _plans(spec, rule)
        empty = [p for p in plans if not p.chain]
        explicit = rule.when.tasks is not None or rule.route_to is not None
        # A rule matching every task (no task condition) may leave some of them no model:
        # those requests are refused, which is what confinement is for, and the only way to
        # quiet such a finding (narrowing the rule) would send them elsewhere. When it leaves
        # no model for any task, or for a task it names, it is a mistake.
        if empty and (explicit or len(empty) == len(plans)):
            why = "; ".join(
                f"{_task_label(p)} → " + ", ".join(f"{c.model}: {c.skipped}" for c in p.skipped)
                for p in empty
            )
            what = "requests it matches" if len(empty) == len(plans) else "some requests it matches"
            found.append(
                doc.diagnostic(
                    ("rules", rule.index, key),
                    f"rule '{rule.name}' leaves no model for {what} ({why})",
                    "confined-rule-empty",
                    hint="such requests would always be refused, never sent elsewhere; "
                    "add a model that can serve them to the rule's "
                    f"{'candidates or fallback' if key == 'candidates' else '`only` list'}",
                )
            )
        if rule.candidates is None or rule.fallback is not None or rule.only is not None:
            continue
        dropped = []
        for p in plans:
            confined = p.confined or frozenset()
            left = sorted(
                {
                    c.model
                    for c in p.skipped
                    if c.role != "candidate"
                    and c.model not in confined
                    and c.model not in rule.exclude
                }
            )
            if left:
                dropped.append(f"{_task_label(p)} → {', '.join(left)}")
        if dropped:
            found.append(
                doc.diagnostic(
                    ("rules", rule.index, "candidates"),
                    f"rule '{rule.name}' confines requests to its candidates "
                    f"({', '.join(rule.candidates)}), so these fallbacks are not tried: "
                    + "; ".join(dropped),
                    "rule-drops-fallbacks",
                    severity="warning",
                    hint="if the request may go there, list them in the rule's `fallback`; "
                    "write `fallback: []` to confirm it stays on the candidates",
                )
            )
    return found
