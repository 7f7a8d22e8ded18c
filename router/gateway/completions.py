"""The two completion endpoints' flow, shared by both APIs (each a :class:`Dialect`): the body
read into a call, the task looked up, then ``Router.acomplete`` answered as JSON, or
``Router.astream`` answered as SSE.

A stream's response starts only with its first chunk: until then the router may still fail
over, and a request that fails before any output is answered with a proper error status.
After it, a failure (``StreamInterrupted``) is sent as the API's in-stream error event and
the stream ends without its terminal event, so no client takes a cut answer for a whole one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from router.errors import RequestError, RouterError
from router.gateway import anthropic_api, openai_api
from router.gateway.auth import Grant, Principal, Refused
from router.gateway.call import GatewayCall, merge_metadata, routing_hints
from router.gateway.errors import Failure, failure_of
from router.gateway.exchange import Exchange, decision_headers
from router.routing.classify import wants_classifier
from router.routing.extras import declared_names
from router.specmodel import TaskSpec
from router.types import Response

__all__ = ["ANTHROPIC", "OPENAI", "Dialect", "admit", "complete", "parse_body"]


@dataclass(frozen=True, slots=True)
class Dialect:
    read: Callable[[dict[str, Any], Callable[[], frozenset[str]]], GatewayCall]
    id_prefix: str
    body: Callable[[Response, str, int], bytes]
    writer: Callable[[str, int, str, bool], Any]


def _anthropic_body(r: Response, ident: str, created: int) -> bytes:
    return anthropic_api.message_body(r, ident)


def _anthropic_writer(ident: str, created: int, model: str, include_usage: bool) -> Any:
    return anthropic_api.StreamWriter(ident, model)


OPENAI = Dialect(
    openai_api.chat_call, "chatcmpl-", openai_api.completion_body, openai_api.StreamWriter
)
ANTHROPIC = Dialect(anthropic_api.messages_call, "msg_", _anthropic_body, _anthropic_writer)


def parse_body(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise RequestError(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise RequestError("the request body must be a JSON object")
    return value


async def complete(
    ex: Exchange, dialect: Dialect, raw: bytes, router: Any, principal: Principal
) -> None:
    """Answer one completion request on ``router`` (read once by the caller: a request stays
    on the graph it started on, whatever a reload swaps in meanwhile)."""
    try:
        call = dialect.read(parse_body(raw), lambda: declared_names(router.spec))
        tags, metadata = routing_hints(ex.scope["headers"])
    except RequestError as exc:
        await ex.fail(failure_of(exc))
        return
    admitted = await admit(
        ex, router, principal, call.task, len(raw), call.params.get("max_tokens")
    )
    if admitted is None:
        return
    task, grant = admitted
    call.tags = [*principal.tags, *tags]
    call.metadata = merge_metadata(call.metadata, metadata, principal.metadata)
    ident = dialect.id_prefix + ex.request_id
    created = int(ex.started)
    ex.watch()
    if call.stream:
        await _stream(ex, dialect, call, router, ident, created, grant)
        return
    try:
        response = await router.acomplete(call.task, call.messages, **call.router_params())
    except RouterError as exc:
        await ex.fail(failure_of(exc))
        return
    ex.answered(response)
    if grant is not None:  # spend recorded before the answer: the next call sees it
        await grant.settle(response)
    await ex.reply(
        200, dialect.body(response, ident, created), decision_headers(task.name, response)
    )


async def admit(
    ex: Exchange,
    router: Any,
    principal: Principal,
    name: str,
    body_bytes: int,
    max_tokens: int | None,
) -> tuple[TaskSpec, Grant | None] | None:
    """The task a request's ``model`` names, once the key may use it and its budgets and
    limits admit the request; None when refused (the answer already sent, nothing upstream).
    ``auto`` (where the spec has a classifier and no task of that name) is admitted as
    itself: the Router classifies the request, for keys that may use every task."""
    spec = router.spec
    task = spec.task(name)
    if spec.classifier is not None and wants_classifier(spec, name):
        if principal.tasks is not None:
            allowed = ", ".join(sorted(principal.tasks)) or "none"
            message = (
                f"this key may use only some tasks ({allowed}); the model {name!r} lets the "
                "classifier choose any task: name one of yours"
            )
            await ex.fail(Failure(403, message, "permission_error", "task_not_allowed", "model"))
            return None
        task = TaskSpec(name=name, candidates=())  # the classifier chooses the real one
    if task is None:
        known = ", ".join(sorted(router.spec.tasks))
        await ex.fail(
            Failure(
                404,
                f"the model {name!r} does not exist: the gateway's models are the routing "
                f"spec's tasks ({known})",
                code="model_not_found",
                param="model",
            )
        )
        return None
    if principal.tasks is not None and task.name not in principal.tasks:
        allowed = ", ".join(sorted(principal.tasks)) or "none"
        message = f"this key may not use the task {task.name!r} (its tasks: {allowed})"
        await ex.fail(Failure(403, message, "permission_error", "task_not_allowed", "model"))
        return None
    grant: Grant | None = None
    if principal.account is not None:
        try:
            grant = await principal.account.admit(body_bytes, max_tokens)
        except Refused as refused:  # over a budget or a limit: nothing goes upstream
            ex.outcome = "refused"
            await ex.fail(refused.failure())
            return None
    ex.task = task.name
    return task, grant


async def _stream(
    ex: Exchange,
    dialect: Dialect,
    call: GatewayCall,
    router: Any,
    ident: str,
    created: int,
    grant: Grant | None,
) -> None:
    stream = router.astream(call.task, call.messages, **call.router_params())
    chunks = stream.__aiter__()
    try:
        try:
            first = await chunks.__anext__()
        except StopAsyncIteration:
            first = None
        except RouterError as exc:  # nothing sent yet: a proper error status
            await ex.fail(failure_of(exc))
            return
        ex.model = first.model if first is not None else None
        writer = dialect.writer(ident, created, ex.model or "", call.include_usage)
        headers = [(b"x-router-task", (ex.task or "").encode("ascii", "backslashreplace"))]
        if first is not None:
            headers.append((b"x-router-model", first.model.encode("ascii", "backslashreplace")))
            headers.append(
                (b"x-router-provider", first.provider.encode("ascii", "backslashreplace"))
            )
        await ex.start_stream(headers)
        await ex.write(writer.start() + (writer.chunk(first) if first is not None else b""))
        try:
            async for chunk in chunks:
                await ex.write(writer.chunk(chunk))
        except RouterError as exc:  # after output: the API's in-stream error event
            failure = failure_of(exc)
            ex.outcome, ex.error = "error", failure.code
            await ex.finish(writer.error(ex.error_body(failure)))
            return
        response = stream.response
        if response is not None:
            ex.answered(response)
        if grant is not None:
            await grant.settle(response)
        await ex.finish(writer.end(response.usage if response is not None else None))
    finally:
        await stream.aclose()
