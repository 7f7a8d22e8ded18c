"""A provider that answers with a redirect is not followed: following it would resend the key,
the spec's headers and the prompt to an address the spec never named (httpx2, under both SDKs,
follows redirects by default, and keeps every header but Authorization across hosts). The 30x
is a ProviderConfigError: never retried, and the chain moves on to the next model."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from router import AllModelsFailed, ProviderConfigError, Router
from router.sandbox import Sandbox

from .helpers import MODEL, MODEL_ID, PROVIDERS, MakeRouter

SPEC = (
    PROVIDERS
    + """
models:
  gpt: {provider: oai, id: sandbox-gpt}
  claude: {provider: ant, id: sandbox-claude}
tasks:
  gpt: {candidates: [gpt]}
  claude: {candidates: [claude]}
  gpt-then-claude: {candidates: [gpt], fallback: [claude]}
"""
)


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[Sandbox]:
    """Another server, where the redirects point."""
    with Sandbox() as sandbox:
        yield sandbox


def _calls(router: Router, task: str) -> list[BaseException]:
    """The error of each way of calling: sync, stream, async, async stream."""

    async def acomplete() -> None:
        await router.acomplete(task, prompt="Hi.")

    async def astream() -> None:
        async for _ in router.astream(task, prompt="Hi."):
            pass

    errors: list[BaseException] = []
    for call in (
        lambda: router.complete(task, prompt="Hi."),
        lambda: list(router.stream(task, prompt="Hi.")),
        lambda: asyncio.run(acomplete()),
        lambda: asyncio.run(astream()),
    ):
        with pytest.raises(AllModelsFailed) as caught:
            call()
        errors.append(caught.value)
    return errors


@pytest.mark.parametrize("status", [301, 307, 308])
def test_a_redirect_is_not_followed_and_is_a_config_error(
    make_router: MakeRouter, sb: Sandbox, elsewhere: Sandbox, kind: str, status: int
) -> None:
    elsewhere.reset()
    task, model_id = MODEL[kind], MODEL_ID[kind]  # each model has a task of its name
    path = "/v1/chat/completions" if kind == "openai" else "/v1/messages"
    sb.set_fault(f"redirect={elsewhere.url}{path}?token=t0k3n,{status}", model=model_id)
    router = make_router(SPEC)

    for error in _calls(router, task):
        assert isinstance(error, AllModelsFailed)
        [attempt] = error.exceptions
        assert isinstance(attempt, ProviderConfigError) and attempt.status == status
        assert f"a redirect to {elsewhere.url}; redirects are not followed" in str(attempt)
        assert "t0k3n" not in str(attempt) and "/v1/" not in str(attempt)
    assert len(sb.requests) == 4  # one attempt each: never retried
    assert elsewhere.stats["connections"] == 0  # nothing, key or prompt, went there


def test_the_chain_moves_on_past_a_redirecting_provider(
    make_router: MakeRouter, sb: Sandbox, elsewhere: Sandbox
) -> None:
    sb.set_fault(f"redirect={elsewhere.url}/v1/chat/completions", model="sandbox-gpt")
    router = make_router(SPEC)

    response = router.complete("gpt-then-claude", prompt="Hi.")

    assert response.model == "claude"
    assert [type(a.error).__name__ for a in response.attempts if a.error] == ["ProviderConfigError"]
