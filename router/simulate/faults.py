"""The ``--faults`` grammar of ``router simulate``, and the fault decision for each attempt.

    SPEC   := ENTRY (";" ENTRY)*              (newlines separate entries too)
    ENTRY  := TARGET "=" ITEM ("," ITEM)*
    TARGET := all                             every model
            | first                           each request's first candidate (chain[0] of
                                              the plan ``router.explain`` gives for it)
            | first:TASK                      the same, for requests of TASK only
            | model:NAME                      a model of the spec (or a provider model id)
            | provider:NAME                   every model of a provider of the spec

ITEMs are the sandbox's fault items (router/sandbox/faults.py: ``500``, ``429``,
``retry-after=S``, ``reset``, ``cut=N``, ``badjson``, ``context``...) plus four the simulator
handles itself:

    p=0.3           apply this entry to an attempt with that probability, rolled from the seed,
                    the request, the model and the attempt number: the same seed injects the
                    same faults into the same attempts whatever the concurrency
    delay=MS        added simulated latency (an attempt whose latency reaches its timeout
                    fails with a timeout, as a real one would)
    chunk-delay=MS  simulated time between the events of a stream
    rpm=N           a provider-side limit: beyond N requests in any 60 s, answer
                    ``429, retry-after=<seconds to the next free slot>``. Per model, or per
                    provider for ``provider:`` entries. Stands alone in its entry.

Every entry that matches an attempt is rolled on its own; the items of those that hit are
merged in order (a later status overrides an earlier one; delays add up). Example:
``first=500,p=0.3; model:claude-haiku=delay=200; provider:openai=rpm=300``.
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from router.sandbox import parse_fault
from router.specmodel import Spec

__all__ = ["Decision", "FaultBook", "FaultRule", "FaultSpecError", "parse_faults", "unit"]

Target = Literal["all", "first", "model", "provider"]
_TARGET_FORMS = "all, first, first:TASK, model:NAME, provider:NAME"


class FaultSpecError(ValueError):
    """The --faults text is invalid, or names a model, provider or task the spec lacks."""


@dataclass(frozen=True, slots=True)
class FaultRule:
    """One entry of a --faults spec, parsed (and, with a spec, resolved)."""

    entry: str  # as written
    target: Target
    name: str | None  # the model, provider or task after the colon
    p: float | None = None
    delay_s: float = 0.0
    chunk_delay_s: float = 0.0
    rpm: int | None = None
    sandbox: str = ""  # the items the sandbox executes ("" when none)
    fails: bool = False  # the sandbox items answer with an error (no model latency then)
    models: frozenset[str] | None = None  # model targets, resolved against the spec


@dataclass(frozen=True, slots=True)
class Decision:
    """What happens to one attempt: simulated waits, and what the sandbox is told to do."""

    delay_s: float = 0.0
    chunk_delay_s: float = 0.0
    sandbox: str = ""
    fails: bool = False
    injected: tuple[str, ...] = ()  # the entries that hit


def unit(*parts: object) -> float:
    """A number in [0, 1) determined by ``parts`` alone (stable across processes)."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _number(entry: str, key: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise FaultSpecError(f"fault entry {entry!r}: {key}={value!r} is not a number") from None
    if not number >= 0 or math.isinf(number):
        raise FaultSpecError(f"fault entry {entry!r}: {key}={value!r} must be >= 0")
    return number


def _parse_entry(entry: str) -> FaultRule:
    target_text, sep, items_text = entry.partition("=")
    target_text = target_text.strip()
    if not sep or not items_text.strip():
        raise FaultSpecError(
            f"fault entry {entry!r}: expected TARGET=FAULT, e.g. first=500,p=0.3 "
            f"(targets: {_TARGET_FORMS})"
        )
    kind, colon, name = target_text.partition(":")
    kind = kind.strip().lower()
    name = name.strip()
    if kind in ("all",) and not colon:
        target: Target = "all"
    elif kind == "first" and (not colon or name):
        target = "first"
    elif kind in ("model", "provider") and name:
        target = "model" if kind == "model" else "provider"
    else:
        raise FaultSpecError(
            f"fault entry {entry!r}: unknown target {target_text!r} (targets: {_TARGET_FORMS})"
        )
    fields: dict[str, float | int] = {}
    forwarded: list[str] = []
    for raw in items_text.split(","):
        item = raw.strip()
        if not item:
            continue
        key, has_value, value = (part.strip() for part in item.partition("="))
        key = key.lower()
        if key == "p" and has_value:
            p = _number(entry, key, value)
            if p > 1:
                raise FaultSpecError(f"fault entry {entry!r}: p={value} must be within [0, 1]")
            fields["p"] = p
        elif key in ("delay", "chunk-delay") and has_value:
            fields[key.replace("-", "_") + "_s"] = _number(entry, key, value) / 1000.0
        elif key == "rpm" and has_value:
            if not value.isdigit() or int(value) < 1:
                raise FaultSpecError(
                    f"fault entry {entry!r}: rpm={value!r} must be an integer >= 1"
                )
            fields["rpm"] = int(value)
        elif key == "retry-after-date":
            raise FaultSpecError(
                f"fault entry {entry!r}: retry-after-date is not supported in a simulation "
                "(the router's clock is simulated, the sandbox's is not); use retry-after=S"
            )
        else:
            forwarded.append(item)
    sandbox = ",".join(forwarded)
    fails = False
    if sandbox:
        try:
            parsed = parse_fault(sandbox)
        except ValueError as exc:
            raise FaultSpecError(f"fault entry {entry!r}: {exc}") from None
        fails = parsed.status is not None or parsed.reset or parsed.context or parsed.quota
    if "rpm" in fields and (sandbox or len(fields) > 1):
        raise FaultSpecError(
            f"fault entry {entry!r}: rpm=N stands alone in its entry; write the other items "
            "as an entry of their own (e.g. model:m=rpm=60; model:m=500,p=0.1)"
        )
    return FaultRule(
        entry=entry.strip(),
        target=target,
        name=name or None,
        p=float(fields["p"]) if "p" in fields else None,
        delay_s=float(fields.get("delay_s", 0.0)),
        chunk_delay_s=float(fields.get("chunk_delay_s", 0.0)),
        rpm=int(fields["rpm"]) if "rpm" in fields else None,
        sandbox=sandbox,
        fails=fails,
    )


def _models_listing(spec: Spec) -> str:
    return ", ".join(f"{name} ({m.provider}: {m.id})" for name, m in spec.models.items())


def _resolve(rule: FaultRule, spec: Spec) -> FaultRule:
    name = rule.name
    if rule.target == "model" and name is not None:
        if name in spec.models:
            return _with_models(rule, frozenset({name}))
        by_id = frozenset(n for n, m in spec.models.items() if m.id == name)
        if by_id:
            return _with_models(rule, by_id)
        raise FaultSpecError(
            f"fault entry {rule.entry!r}: the spec has no model {name!r}; "
            f"its models are: {_models_listing(spec)}"
        )
    if rule.target == "provider" and name is not None and name not in spec.providers:
        raise FaultSpecError(
            f"fault entry {rule.entry!r}: the spec has no provider {name!r}; "
            f"its providers are: {', '.join(spec.providers)}"
        )
    if rule.target == "first" and name is not None and name not in spec.tasks:
        raise FaultSpecError(
            f"fault entry {rule.entry!r}: the spec has no task {name!r}; "
            f"its tasks are: {', '.join(spec.tasks)}"
        )
    return rule


def _with_models(rule: FaultRule, models: frozenset[str]) -> FaultRule:
    return replace(rule, models=models)


def parse_faults(
    text: str | Sequence[str] | None, spec: Spec | None = None
) -> tuple[FaultRule, ...]:
    """Parse a --faults spec (or several, in order); with ``spec``, check every model,
    provider and task it names. Raises :class:`FaultSpecError` (a ValueError) with a message
    fit for the command line."""
    texts = [text] if isinstance(text, str) else list(text or ())
    rules = []
    for chunk in texts:
        for entry in chunk.replace("\n", ";").split(";"):
            if entry.strip():
                rules.append(_parse_entry(entry))
    if spec is not None:
        rules = [_resolve(rule, spec) for rule in rules]
    return tuple(rules)


@dataclass(slots=True)
class FaultBook:
    """Decides, for each attempt, which entries hit; keeps the provider-side ``rpm`` windows
    on simulated time. Single-threaded (the simulator's event loop)."""

    rules: tuple[FaultRule, ...]
    spec: Spec
    seed: int
    windows: dict[str, deque[float]] = field(default_factory=dict)

    def applies(self, rule: FaultRule, model: str, task: str, first: str | None) -> bool:
        if rule.target == "all":
            return True
        if rule.target == "first":
            return model == first and (rule.name is None or rule.name == task)
        if rule.target == "provider":
            return self.spec.models[model].provider == rule.name
        return rule.models is not None and model in rule.models

    def _limited(self, rule: FaultRule, index: int, model: str, now: float) -> float | None:
        """Seconds to the next free slot when ``rule``'s rpm window is full, else None (and
        the request is counted)."""
        assert rule.rpm is not None
        scope = rule.name if rule.target == "provider" else model
        window = self.windows.setdefault(f"{index}:{scope}", deque())
        while window and window[0] <= now - 60.0:
            window.popleft()
        if len(window) >= rule.rpm:
            return window[0] + 60.0 - now
        window.append(now)
        return None

    def decide(
        self,
        *,
        request: int,
        task: str,
        first: str | None,
        model: str,
        attempt: int,
        now: float,
    ) -> Decision:
        delay = chunk_delay = 0.0
        items: list[str] = []
        fails = False
        hits: list[str] = []
        for index, rule in enumerate(self.rules):
            if not self.applies(rule, model, task, first):
                continue
            if rule.rpm is not None:
                wait = self._limited(rule, index, model, now)
                if wait is not None:
                    items.append(f"429,retry-after={max(1, math.ceil(wait))}")
                    fails = True
                    hits.append(rule.entry)
                continue
            if rule.p is not None and unit(self.seed, request, model, attempt, index) >= rule.p:
                continue
            delay += rule.delay_s
            chunk_delay += rule.chunk_delay_s
            if rule.sandbox:
                items.append(rule.sandbox)
                fails = fails or rule.fails
            hits.append(rule.entry)
        return Decision(delay, chunk_delay, ",".join(items), fails, tuple(hits))


def describe_rules(rules: Iterable[FaultRule]) -> str:
    return "; ".join(rule.entry for rule in rules) or "none"
