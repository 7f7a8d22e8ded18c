"""Team keys against `router serve` in a subprocess (SQLite store, one process): the admin API
and `router keys`, every refusal in its own status and message with nothing sent upstream,
limits, budgets (streams too), rotation, and the static keys still working beside them."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
import pytest

from router.cli import run
from router.sandbox import Sandbox

from .helpers import GATEWAY_KEY, Gateway, wait_for

ADMIN = "admin-key-0123456789abcdef"
ASK = [{"role": "user", "content": "The sky is blue today."}]


@pytest.fixture(scope="module")
def keys_db(routes: Path) -> Path:
    return routes.parent / "team-keys.db"


@pytest.fixture(scope="module")
def gw(routes: Path, keys_db: Path) -> Iterator[Gateway]:
    env = {"ROUTER_ADMIN_KEY": ADMIN, "ROUTER_KEYS_DB": str(keys_db)}
    gateway = Gateway(routes, routes.parent / "teamkeys.log", env=env)
    yield gateway
    assert gateway.stop() == 0


def admin(gw: Gateway, method: str, path: str, body: Any = None, key: str = ADMIN) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx2.request(method, gw.url + path, json=body, headers=headers)


def create(gw: Gateway, **settings: Any) -> dict[str, Any]:
    answer = admin(gw, "POST", "/admin/keys", settings)
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


def client(gw: Gateway, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url + "/v1", api_key=key, max_retries=0)


def ask(gw: Gateway, key: str, **params: Any) -> Any:
    with client(gw, key) as c:
        return c.chat.completions.create(model="chat", messages=ASK, **params)


def test_the_admin_api_needs_the_admin_key(gw: Gateway) -> None:
    for key in ("", "wrong-admin-key-000000", GATEWAY_KEY):
        answer = admin(gw, "GET", "/admin/keys", key=key)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "invalid_admin_key"
    bad = admin(gw, "POST", "/admin/keys", {"name": "x", "rpm": -1})
    assert bad.status_code == 400 and "rpm: expected a whole number > 0" in bad.text
    typo = admin(gw, "POST", "/admin/keys", {"name": "x", "tasks": ["chta"]})
    assert typo.status_code == 400 and "chta not in the spec" in typo.text
    assert admin(gw, "GET", "/admin/keys/0000000000").status_code == 404


def test_a_key_is_shown_once_stored_hashed_and_limited_to_its_tasks(
    gw: Gateway, sb: Sandbox, keys_db: Path
) -> None:
    made = create(gw, name="team-a", tasks=["chat"], tags=["eu"], metadata={"team": "a"})
    key = made["key"]
    assert key.startswith(f"rk_{made['id']}_") and made["status"] == "active"
    assert "digest" not in made
    listed = admin(gw, "GET", "/admin/keys").json()["data"]
    mine = next(k for k in listed if k["id"] == made["id"])
    assert "key" not in mine and "digest" not in mine and mine["prefix"] == f"rk_{made['id']}_"
    assert key not in keys_db.read_bytes().decode("latin-1")  # only its digest is stored
    assert ask(gw, key).choices[0].message.content
    assert len(sb.requests) == 1
    with client(gw, key) as c, pytest.raises(openai.PermissionDeniedError) as denied:
        c.chat.completions.create(model="claude", messages=ASK)
    assert denied.value.body["code"] == "task_not_allowed"
    assert "may not use the task 'claude' (its tasks: chat)" in denied.value.body["message"]
    assert len(sb.requests) == 1  # nothing sent upstream
    # The static keys still work beside the team keys; the access log names the team key.
    assert ask(gw, GATEWAY_KEY).choices[0].message.content
    assert f"team-a ({made['id']})" in gw.log.read_text() and key not in gw.log.read_text()


def test_each_refusal_has_its_own_status_and_message(gw: Gateway, sb: Sandbox) -> None:
    made = create(gw, name="refused")
    key, ident = made["key"], made["id"]
    expired = create(gw, name="old", expires_at=time.time() - 1)["key"]
    cases: list[tuple[str, str, str]] = [
        (key[:-1] + ("A" if key[-1] != "A" else "B"), "invalid_api_key", "invalid API key"),
        ("rk_0123456789_" + "x" * 43, "invalid_api_key", "invalid API key"),
        (expired, "expired_api_key", "expired at"),
    ]
    assert admin(gw, "POST", f"/admin/keys/{ident}/revoke").json()["status"] == "revoked"
    cases.append((key, "revoked_api_key", f"this API key ({ident}) was revoked at"))
    for presented, code, message in cases:
        with client(gw, presented) as c, pytest.raises(openai.AuthenticationError) as refused:
            c.chat.completions.create(model="chat", messages=ASK)
        assert refused.value.status_code == 401
        assert refused.value.body["code"] == code and message in refused.value.body["message"]
    # In Anthropic's shape on its endpoint.
    with (
        anthropic.Anthropic(base_url=gw.url, api_key=key, max_retries=0) as claude,
        pytest.raises(anthropic.AuthenticationError) as refused_a,
    ):
        claude.messages.create(model="chat", max_tokens=64, messages=ASK)  # type: ignore[arg-type]
    body = refused_a.value.body
    assert isinstance(body, dict) and body["error"]["type"] == "authentication_error"
    assert "was revoked" in body["error"]["message"]
    assert sb.requests == []


def test_rpm_and_tpm_are_429_with_retry_after(gw: Gateway, sb: Sandbox) -> None:
    key = create(gw, name="paced", rpm=2)["key"]
    ask(gw, key)
    ask(gw, key)
    with client(gw, key) as c, pytest.raises(openai.RateLimitError) as limited:
        c.chat.completions.create(model="chat", messages=ASK)
    assert limited.value.body["code"] == "rate_limit_exceeded"
    assert "'paced' is over its rate limit (2 requests/min)" in limited.value.body["message"]
    assert 1 <= int(limited.value.response.headers["retry-after"]) <= 30
    tokens = create(gw, name="wordy", tpm=100)["key"]
    ask(gw, tokens, max_tokens=50)  # estimated ~60 tokens: admitted
    with client(gw, tokens) as c, pytest.raises(openai.RateLimitError) as over:
        c.chat.completions.create(model="chat", messages=ASK, max_tokens=50)
    assert "(100 tokens/min)" in over.value.body["message"]
    assert len(sb.requests) == 3


def test_a_spent_budget_is_429_and_streams_are_counted(gw: Gateway, sb: Sandbox) -> None:
    key = create(gw, name="frugal", daily_usd=1e-9)["key"]
    with client(gw, key) as c:
        text = "".join(
            ch.choices[0].delta.content or ""
            for ch in c.chat.completions.create(model="chat", messages=ASK, stream=True)
            if ch.choices
        )
    assert text
    with client(gw, key) as c, pytest.raises(openai.RateLimitError) as spent:
        c.chat.completions.create(model="chat", messages=ASK)
    assert spent.value.body["type"] == "insufficient_quota"
    assert spent.value.body["code"] == "budget_exceeded"
    assert "'frugal' has spent its daily budget of $1e-09" in spent.value.body["message"]
    assert int(spent.value.response.headers["retry-after"]) >= 1
    assert len(sb.requests) == 1
    listed = admin(gw, "GET", "/admin/keys").json()["data"]
    frugal = next(k for k in listed if k["name"] == "frugal")
    assert frugal["spent"]["daily"] > 0 and frugal["spent"]["monthly"] > 0


def test_rotation_gives_a_new_secret_and_the_old_one_stops(gw: Gateway, sb: Sandbox) -> None:
    made = create(gw, name="rotated")
    rotated = admin(gw, "POST", f"/admin/keys/{made['id']}/rotate").json()
    assert rotated["id"] == made["id"] and rotated["key"] != made["key"]
    assert ask(gw, rotated["key"]).choices[0].message.content
    with client(gw, made["key"]) as c, pytest.raises(openai.AuthenticationError):
        c.chat.completions.create(model="chat", messages=ASK)


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(["keys", *argv], out, err)
    return code, out.getvalue(), err.getvalue()


def test_router_keys_shares_the_store_with_the_running_gateway(
    gw: Gateway, sb: Sandbox, routes: Path, keys_db: Path
) -> None:
    where = ["--config", str(routes), "--keys-db", str(keys_db)]
    code, out, err = _cli("create", *where, "--name", "cli-team", "--task", "chat", "--rpm", "1000")
    assert code == 0, err
    key = out.splitlines()[1]
    ident = key.split("_")[1]
    assert "shown once" in out
    assert ask(gw, key).choices[0].message.content
    code, out, _ = _cli("list", *where)
    assert code == 0 and f"{ident}  cli-team" in out and "rpm 1000" in out and key not in out
    assert _cli("revoke", *where, ident)[0] == 0

    def refused() -> bool:
        with client(gw, key) as c:
            try:
                c.chat.completions.create(model="chat", messages=ASK)
            except openai.AuthenticationError as exc:
                return "was revoked" in exc.body["message"]
        return False

    wait_for(refused, "the revocation to reach the gateway", wait_s=5.0)
    code, out, _ = _cli("list", *where, "--json")
    assert next(k for k in json.loads(out)["data"] if k["id"] == ident)["status"] == "revoked"
    code, _, err = _cli("create", *where, "--name", "bad", "--task", "nope")
    assert code == 1 and "nope not in the spec" in err
    code, _, err = _cli("rotate", *where, "0000000000")
    assert code == 1 and "no key with id '0000000000'" in err


def test_embeddings_follow_the_keys_tasks_limits_and_budget(gw: Gateway, sb: Sandbox) -> None:
    only_chat = create(gw, name="chat-only", tasks=["chat"])["key"]
    with client(gw, only_chat) as c, pytest.raises(openai.PermissionDeniedError) as denied:
        c.embeddings.create(model="vectors", input="x")
    assert denied.value.body["code"] == "task_not_allowed"
    paced = create(gw, name="paced-vectors", rpm=1)["key"]
    with client(gw, paced) as c:
        assert c.embeddings.create(model="vectors", input="x").data
        with pytest.raises(openai.RateLimitError) as limited:
            c.embeddings.create(model="vectors", input="x")
    assert limited.value.body["code"] == "rate_limit_exceeded"
    frugal = create(gw, name="frugal-vectors", daily_usd=1e-9)["key"]
    with client(gw, frugal) as c:
        assert c.embeddings.create(model="vectors", input="spend a little").data
        with pytest.raises(openai.RateLimitError) as spent:
            c.embeddings.create(model="vectors", input="x")
    assert spent.value.body["code"] == "budget_exceeded"
    listed = admin(gw, "GET", "/admin/keys").json()["data"]
    assert next(k for k in listed if k["name"] == "frugal-vectors")["spent"]["daily"] > 0
    # Each admitted call went up the chain (emb-down, then emb); the refused ones sent nothing.
    assert len(sb.requests) == 4
