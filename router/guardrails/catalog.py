"""From the spec's settings to guardrails, and the set of them one request passes.

:class:`Catalog` builds (and compiles) every guardrail a spec uses once, when a Router is
built; :meth:`Catalog.for_request` gives the :class:`Guardrails` a request passes (those of
``router.specmodel.guardrails_for(task, rule)``), cached per list of names;
:meth:`Guardrails.check` is the per-request call: pure CPU, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

from router.guardrails.base import Decision, Finding, Guardrail, Refusal, RequestState
from router.guardrails.pii import Pii
from router.guardrails.secrets import Secrets
from router.guardrails.size import InputSize
from router.guardrails.terms import BlockedTerms
from router.specmodel import RuleSpec, Spec, TaskSpec, guardrails_for
from router.specmodel.guardrails import RUN_ORDER, GuardrailSpec, in_run_order
from router.types import Message

__all__ = ["ORDER", "THREAD_ABOVE_CHARS", "Catalog", "Guardrails", "build"]

#: The order a request's guardrails run in, by type (see ``RUN_ORDER`` in
#: :mod:`router.specmodel.guardrails`, which ``router explain`` reads too).
ORDER = RUN_ORDER


#: Above this many characters of text a check may hold an event loop too long (the worst input
#: measured costs about 0.5 µs of CPU per character: ~8 ms here; prose about 0.015 µs): the
#: async request path checks a larger request in a thread (:meth:`Guardrails.wants_thread`).
THREAD_ABOVE_CHARS = 16_384


def build(spec: GuardrailSpec) -> Guardrail:
    """The guardrail a spec entry describes (its patterns compiled now)."""
    if spec.type == "pii":
        return Pii(
            spec.name, kinds=spec.kinds, action=spec.action, roles=spec.roles, restore=spec.restore
        )
    if spec.type == "secrets":
        return Secrets(spec.name, kinds=spec.kinds, action=spec.action, roles=spec.roles)
    if spec.type == "blocked_terms":
        return BlockedTerms(spec.name, spec.terms, action=spec.action, roles=spec.roles)
    return InputSize(
        spec.name,
        max_message_chars=spec.max_message_chars,
        max_message_tokens=spec.max_message_tokens,
        max_total_chars=spec.max_total_chars,
        max_total_tokens=spec.max_total_tokens,
        roles=spec.roles,
    )


def _findings(state: RequestState) -> tuple[Finding, ...]:
    return tuple(Finding(g, kind, outcome, n) for (g, kind, outcome), n in state.tally.items())


class Guardrails:
    """The guardrails one request passes, in :data:`ORDER` (then as listed). Falsy when
    empty: a request with none need not call :meth:`check` at all."""

    __slots__ = ("_guardrails",)

    def __init__(self, guardrails: Iterable[Guardrail] = ()) -> None:
        self._guardrails = tuple(in_run_order(guardrails, lambda g: g.type))

    def __repr__(self) -> str:
        return f"Guardrails({', '.join(self.names)})"

    def __bool__(self) -> bool:
        return bool(self._guardrails)

    def __len__(self) -> int:
        return len(self._guardrails)

    def __iter__(self) -> Iterator[Guardrail]:
        return iter(self._guardrails)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(g.name for g in self._guardrails)

    def wants_thread(self, messages: Sequence[Message]) -> bool:
        """Whether checking ``messages`` is long enough work to take off an event loop (more
        than :data:`THREAD_ABOVE_CHARS` characters of text)."""
        if not self._guardrails:
            return False
        total = 0
        for m in messages:
            total += len(m.content) if isinstance(m.content, str) else len(m.text)
            total += sum(len(c.arguments) for c in m.tool_calls)
            if total > THREAD_ABOVE_CHARS:
                return True
        return False

    def check(self, messages: Sequence[Message]) -> Decision:
        """Run every guardrail over ``messages`` (already coerced: ``Message`` objects). The
        first refusal stops the rest; the messages to send are then the caller's own."""
        given = tuple(messages)
        if not self._guardrails:
            return Decision(given)
        state = RequestState.for_messages(given)
        current = given
        for guardrail in self._guardrails:
            result = guardrail.apply(current, state)
            if isinstance(result, Refusal):
                return Decision(given, _findings(state), refusal=result)
            current = result
        return Decision(
            current, _findings(state), restore=state.restore_map(), changed=current is not given
        )


_NONE = Guardrails()


class Catalog:
    """Every guardrail a spec uses, built once; :meth:`select` picks a request's."""

    __slots__ = ("_built", "_sets")

    def __init__(self, guardrails: Mapping[str, Guardrail]) -> None:
        self._built = dict(guardrails)
        self._sets: dict[tuple[str, ...], Guardrails] = {}

    def __repr__(self) -> str:
        return f"Catalog({', '.join(sorted(self._built))})"

    @classmethod
    def from_spec(cls, spec: Spec) -> Catalog:
        """The guardrails the spec's tasks and rules name (others are not built)."""
        used = {n for t in spec.tasks.values() for n in t.guardrails}
        used |= {n for r in spec.rules for n in r.guardrails}
        return cls({name: build(spec.guardrails[name]) for name in sorted(used)})

    def __contains__(self, name: object) -> bool:
        return name in self._built

    def for_request(self, task: TaskSpec, rule: RuleSpec | None = None) -> Guardrails:
        """The guardrails of a request served by ``task`` that ``rule`` matched (a plan's
        ``task`` and ``rule``)."""
        return self.select(guardrails_for(task, rule))

    def select(self, names: Sequence[str]) -> Guardrails:
        """The guardrails named (each once), for one request. Raises KeyError for a name the
        catalog does not hold (a validated spec names none)."""
        key = tuple(dict.fromkeys(names))
        if not key:
            return _NONE
        found = self._sets.get(key)
        if found is None:
            found = self._sets[key] = Guardrails(self._built[n] for n in key)
        return found
