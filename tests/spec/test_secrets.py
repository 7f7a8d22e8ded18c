"""Secrets never leave the validator: not in a diagnostic, not in the CLI's output, not in the
repr of a loaded spec.

Each case is a spec where a secret could leak: a key pasted where a variable name belongs, a
literal Authorization header, credentials in a base URL, or a variable set to a canary value.
No diagnostic may contain the secret, nor any 8-character slice of it (a truncated or partly
masked secret is still a leak).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import dedent

import pytest

from router.cli import run
from router.spec import ValidationReport, validate_bytes

SLICE = 8


@dataclass(frozen=True)
class Case:
    id: str
    spec: str
    secret: str
    code: str | None  # the error the secret causes; None when the spec is valid
    environ: dict[str, str] = field(default_factory=dict)

    @property
    def raw(self) -> bytes:
        return dedent(self.spec).lstrip("\n").encode()


CASES = [
    Case(
        "openai-key-as-api-key-env",
        """
        version: 1
        providers:
          openai: {type: openai, api_key_env: sk-proj-Qm7Xr2Lk9Vb4Tn8Wc3Zy6Hd1Jf5Gs0Pa}
        models:
          mini: {provider: openai, id: gpt-4o-mini}
        tasks:
          chat: {candidates: [mini]}
        """,
        secret="sk-proj-Qm7Xr2Lk9Vb4Tn8Wc3Zy6Hd1Jf5Gs0Pa",
        code="invalid-name",
    ),
    Case(
        "token-without-dashes-as-api-key-env",
        """
        version: 1
        providers:
          hf:
            type: openai_compatible
            base_url: https://api-inference.huggingface.co/v1
            api_key_env: hf_Vb7KqP2mX9rL4tN8wZ3cJ6yD1fH5gS0a
        models:
          llama: {provider: hf, id: meta-llama/Llama-3.1-8B-Instruct}
        tasks:
          chat: {candidates: [llama]}
        """,
        secret="hf_Vb7KqP2mX9rL4tN8wZ3cJ6yD1fH5gS0a",
        code="secret-in-config",
    ),
    Case(
        "token-as-header-env-name",
        """
        version: 1
        providers:
          gateway:
            type: openai_compatible
            base_url: https://llm-gateway.example.com/v1
            headers:
              X-Gateway-Token: {env: ghp_R4ndT0kQ9wE2rT7yU1iO5pA3sD8fG6hJ}
        models:
          gpt: {provider: gateway, id: gpt-4o}
        tasks:
          chat: {candidates: [gpt]}
        """,
        secret="ghp_R4ndT0kQ9wE2rT7yU1iO5pA3sD8fG6hJ",
        code="secret-in-config",
    ),
    Case(
        "literal-authorization-header",
        """
        version: 1
        providers:
          gateway:
            type: openai_compatible
            base_url: https://llm-gateway.example.com/v1
            headers:
              Authorization: "Bearer gwk_8Jd3Ls9Qp2Xv7Mz4Rt6Yb1Nc5Hf0Wk"
        models:
          gpt: {provider: gateway, id: gpt-4o}
        tasks:
          chat: {candidates: [gpt]}
        """,
        secret="gwk_8Jd3Ls9Qp2Xv7Mz4Rt6Yb1Nc5Hf0Wk",
        code="secret-in-config",
    ),
    Case(
        "credentials-in-base-url",
        """
        version: 1
        providers:
          gateway:
            type: openai_compatible
            base_url: https://svc-router:Zx8Qw3Er6Ty1Ui4Op7As@llm-gateway.example.com/v1
        models:
          gpt: {provider: gateway, id: gpt-4o}
        tasks:
          chat: {candidates: [gpt]}
        """,
        secret="Zx8Qw3Er6Ty1Ui4Op7As",
        code="secret-in-config",
    ),
    Case(
        "credentials-in-plain-http-base-url",
        """
        version: 1
        providers:
          gateway:
            type: openai_compatible
            base_url: http://admin:Mn5Bv8Cx2Zl7Kj4Hg9Fd@10.0.0.12:8080/v1
        models:
          gpt: {provider: gateway, id: gpt-4o}
        tasks:
          chat: {candidates: [gpt]}
        """,
        secret="Mn5Bv8Cx2Zl7Kj4Hg9Fd",
        code="secret-in-config",
    ),
    Case(
        "key-in-base-url-query-string",
        """
        version: 1
        providers:
          gemini:
            type: openai_compatible
            base_url: https://generativelanguage.googleapis.com/v1beta/openai?key=AIzaSyC-Rk4Tf8Hb2Nq6Wd0Lp3Xs7Jm1Vz5Ge9
        models:
          flash: {provider: gemini, id: gemini-2.0-flash}
        tasks:
          chat: {candidates: [flash]}
        """,
        secret="AIzaSyC-Rk4Tf8Hb2Nq6Wd0Lp3Xs7Jm1Vz5Ge9",
        code="secret-in-config",
    ),
    Case(
        "header-from-env-set-to-canary",
        """
        version: 1
        providers:
          gateway:
            type: openai_compatible
            base_url: https://llm-gateway.example.com/v1
            headers:
              Authorization: {env: GATEWAY_AUTHORIZATION}
              X-Team: platform
        models:
          gpt: {provider: gateway, id: gpt-4o}
        tasks:
          chat: {candidates: [gpt]}
        """,
        secret="Bearer canary-Lq4Wm8Xe2Rt6Yu0Io3Pa",
        code=None,
        environ={"GATEWAY_AUTHORIZATION": "Bearer canary-Lq4Wm8Xe2Rt6Yu0Io3Pa"},
    ),
    Case(
        "api-key-env-set-to-canary",
        """
        version: 1
        providers:
          openai: {type: openai, api_key_env: OPENAI_API_KEY}
        models:
          mini: {provider: openai, id: gpt-4o-mini}
        tasks:
          chat: {candidates: [mini]}
        """,
        secret="sk-canary-Hy6Gt2Fr9De4Sw1Qa7Zx3C",
        code=None,
        environ={"OPENAI_API_KEY": "sk-canary-Hy6Gt2Fr9De4Sw1Qa7Zx3C"},
    ),
    Case(
        "redis-url-env-set-to-canary",
        """
        version: 1
        providers:
          openai: {type: openai, api_key_env: OPENAI_API_KEY}
        models:
          mini: {provider: openai, id: gpt-4o-mini}
        tasks:
          chat: {candidates: [mini]}
        state: {backend: redis, url_env: ROUTER_REDIS_URL}
        """,
        secret="redis://:Pw3Kd8Ls1Vn6Bq9Xc@redis.internal:6379/0",
        code=None,
        environ={
            "OPENAI_API_KEY": "set",
            "ROUTER_REDIS_URL": "redis://:Pw3Kd8Ls1Vn6Bq9Xc@redis.internal:6379/0",
        },
    ),
]
INVALID = [c for c in CASES if c.code is not None]
VALID = [c for c in CASES if c.code is None]


def _leaks(secret: str, text: str) -> list[str]:
    """The secret's 8-character slices that ``text`` contains."""
    slices = {secret[i : i + SLICE] for i in range(len(secret) - SLICE + 1)}
    return sorted(s for s in slices if s in text)


def _validate(case: Case, *, strict: bool = False) -> ValidationReport:
    return validate_bytes(case.raw, f"{case.id}.yaml", strict=strict, environ=case.environ)


def _ids(case: Case) -> str:
    return case.id


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_no_diagnostic_shows_the_secret(case: Case, strict: bool) -> None:
    report = _validate(case, strict=strict)

    for d in report.diagnostics:
        for text in (d.message, d.hint or "", d.render(), json.dumps(d.as_dict())):
            assert _leaks(case.secret, text) == [], text


@pytest.mark.parametrize("case", INVALID, ids=_ids)
def test_the_secret_is_reported_where_it_is_written(case: Case) -> None:
    # The leak check above means something only if the secret is the subject of an error.
    report = _validate(case)

    assert report.spec is None
    assert case.code in {d.code for d in report.errors}
    assert any("value not shown" in d.message for d in report.errors)


@pytest.mark.parametrize("case", VALID, ids=_ids)
def test_a_loaded_spec_never_holds_the_secret(case: Case) -> None:
    report = _validate(case, strict=True)

    assert report.diagnostics == ()
    assert report.spec is not None
    assert _leaks(case.secret, repr(report.spec)) == []
    assert _leaks(case.secret, str(report.spec)) == []


@pytest.mark.parametrize("output_format", ["json", "text", "github"])
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_the_cli_never_prints_the_secret(
    case: Case, output_format: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in case.environ.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "routes.yaml"
    path.write_bytes(case.raw)
    stdout, stderr = io.StringIO(), io.StringIO()

    status = run(["validate", "--format", output_format, str(path)], stdout, stderr)

    assert status == (0 if case.code is None else 1)
    if output_format == "json":
        payload = json.loads(stdout.getvalue())
        assert payload["valid"] is (case.code is None)
    assert _leaks(case.secret, stdout.getvalue() + stderr.getvalue()) == []
