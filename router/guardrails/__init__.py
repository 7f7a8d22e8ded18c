"""Built-in guardrails: checks a request's messages pass before anything is sent. Pure CPU, no
dependency, nothing compiled on import (patterns are compiled when a guardrail is built).

```
Catalog.from_spec(spec)                       once, when a Router is built
  .select(guardrails_for(task, rule))         the request's Guardrails (cached per names;
                                              guardrails_for from router.specmodel)
    .check(messages) -> Decision              per request (in a thread on an event loop when
                                              .wants_thread(messages): over 16 KiB of text)
        .refusal / .raise_if_refused()        GuardrailRefused: guardrail, kind, where
        .messages                             what to send (placeholders in place of values)
        .findings / .counts()                 occurrences per guardrail and kind (no values)
        .restore                              RestoreMap: .response(r), .text(s),
                                              .stream() -> StreamRestorer (.chunk, .feed)
```

The guardrails (their type in the spec, then their class): ``pii`` (:class:`Pii`: e-mail,
phone, payment cards with Luhn, IBAN with mod 97, national ids), ``secrets``
(:class:`Secrets`: provider keys, private keys, JWTs), ``input_size`` (:class:`InputSize`),
``blocked_terms`` (:class:`BlockedTerms`). README "Guardrails" is the catalogue: what each
finds, its settings, its time bound and what it does not catch.
"""

from __future__ import annotations

from router.guardrails.base import Decision, Finding, Guardrail, Refusal, RequestState
from router.guardrails.catalog import ORDER, THREAD_ABOVE_CHARS, Catalog, Guardrails, build
from router.guardrails.pii import Pii
from router.guardrails.restore import PLACEHOLDER, RestoreMap, StreamRestorer
from router.guardrails.secrets import Secrets
from router.guardrails.size import InputSize
from router.guardrails.terms import BlockedTerms

__all__ = [
    "ORDER",
    "PLACEHOLDER",
    "THREAD_ABOVE_CHARS",
    "BlockedTerms",
    "Catalog",
    "Decision",
    "Finding",
    "Guardrail",
    "Guardrails",
    "InputSize",
    "Pii",
    "Refusal",
    "RequestState",
    "RestoreMap",
    "Secrets",
    "StreamRestorer",
    "build",
]
