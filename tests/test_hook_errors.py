"""The errors a hook can end a request with: where they sit in the tree, what they say, and
that they survive pickling (a process pool, a task queue) with their facts."""

from __future__ import annotations

import pickle

import pytest

from router import (
    ContentFiltered,
    HookFailed,
    HookTimeout,
    RequestError,
    RequestRefused,
    ResponseRejected,
    RouterError,
)


def test_where_they_sit_in_the_tree() -> None:
    assert issubclass(RequestRefused, RequestError)  # nothing was sent: the call is refused
    assert issubclass(ResponseRejected, ContentFiltered)  # the chain moves on as for a filter
    assert ResponseRejected("x").kind == "content_filter" and not ResponseRejected("x").retriable
    assert issubclass(HookTimeout, HookFailed) and issubclass(HookFailed, RouterError)
    assert not issubclass(HookFailed, RequestError)


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (RequestRefused("a key was pasted", code="secret"), "a key was pasted"),
        (
            RequestRefused("a key was pasted", code="secret", hook="no-keys"),
            "refused by hook 'no-keys', secret: a key was pasted",
        ),
        (
            ResponseRejected("off topic", hook="judge", provider="oai", model="gpt"),
            "rejected by hook 'judge': oai/gpt: off topic",
        ),
        (
            HookFailed("hook 'h' failed in before: it raised KeyError", hook="h", stage="before"),
            "hook 'h' failed in before: it raised KeyError",
        ),
    ],
)
def test_what_they_say_and_that_pickling_keeps_it(error: Exception, said: str) -> None:
    assert str(error) == said
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and str(again) == said
    for name in ("hook", "code", "stage", "provider", "model"):
        assert getattr(again, name, None) == getattr(error, name, None)
