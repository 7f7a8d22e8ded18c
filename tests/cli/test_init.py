"""`router init`: a commented starter spec for the providers at hand, that validates, is
explained after writing, answers through the real Router, and never overwrites a file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from router.cli import run
from router.cli.init import PROVIDERS
from router.engine.router import Router
from router.sandbox import Sandbox
from router.spec import validate_file

KEY_VARIABLES = [p.env for p in PROVIDERS.values() if p.env]


@pytest.fixture(autouse=True)
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in KEY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("ROUTER_CONFIG", raising=False)


def _init(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(["init", *args], out, err)
    return code, out.getvalue(), err.getvalue()


def test_without_keys_it_writes_a_local_spec_validates_and_explains_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = _init()
    assert code == 0, err
    path = tmp_path / "configs" / "routes.yaml"  # where the other commands look by default
    text = path.read_text()
    assert text.startswith("# Written by `router init` for local (no key variable is set")
    assert "router validate configs/routes.yaml" in text
    assert "wrote configs/routes.yaml: 1 provider (" in out
    assert "chain (tried in order):\n  1.  llama-local" in out  # the explain of task chat
    report = validate_file(path, strict=True, environ={})
    assert report.ok and report.diagnostics == ()
    out2, err2 = io.StringIO(), io.StringIO()
    assert run(["validate", str(path)], out2, err2) == 0
    assert out2.getvalue().endswith("valid: 1 provider, 1 model, 2 tasks, 0 rules\n")


def test_it_writes_the_providers_whose_keys_are_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-init")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-init")
    path = tmp_path / "routes.yaml"
    code, out, _ = _init(str(path))
    assert code == 0
    report = validate_file(path, strict=True)
    assert report.ok and report.diagnostics == ()
    assert report.spec is not None
    assert sorted(report.spec.providers) == ["anthropic", "openai"]
    assert "(OPENAI_API_KEY and ANTHROPIC_API_KEY are set)" in out
    assert "sk-test-init" not in path.read_text() + out


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_each_provider_named_gives_a_spec_that_validates(provider: str, tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    code, out, err = _init(str(path), "--provider", provider)
    assert code == 0, err
    env = dict.fromkeys(KEY_VARIABLES, "k")
    report = validate_file(path, strict=True, environ=env)
    assert report.ok and report.diagnostics == (), [d.render() for d in report.diagnostics]
    # Without its key the file is still written and valid; the unset variable is a warning.
    if PROVIDERS[provider].env:
        env_name = PROVIDERS[provider].env
        assert f"{env_name} (the API key of provider '{provider}'" in out  # (from its preset)
        assert "is not set" in out


def test_several_providers_named(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    code, _, _ = _init(str(path), "--provider", "openai", "--provider", "anthropic")
    assert code == 0
    spec = validate_file(path, environ=dict.fromkeys(KEY_VARIABLES, "k")).spec
    assert spec is not None
    assert spec.tasks["chat"].candidates == ("gpt-4o-mini", "claude-haiku")
    assert spec.tasks["hard"].candidates == ("gpt-4o", "claude-sonnet")


def test_it_never_overwrites_without_force(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text("mine\n")
    code, _, err = _init(str(path))
    assert code == 2 and "exists; pass --force" in err
    assert path.read_text() == "mine\n"
    assert _init(str(path), "--force")[0] == 0
    assert path.read_text().startswith("# Written by `router init`")


def test_an_unknown_provider_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = _init(str(tmp_path / "r.yaml"), "--provider", "nope")
    assert code == 2 and "invalid choice: 'nope'" in err
    assert not (tmp_path / "r.yaml").exists()


def test_the_local_starter_answers_through_the_router(tmp_path: Path, sb: Sandbox) -> None:
    path = tmp_path / "routes.yaml"
    assert _init(str(path))[0] == 0
    local = "base_url: http://127.0.0.1:11434/v1"
    # The sandbox, like a hosted server, wants a key (Ollama takes any).
    sandbox = f"base_url: {sb.openai_base_url}\n    api_key_env: SANDBOX_KEY"
    path.write_text(path.read_text().replace(local, sandbox))
    with Router.from_yaml(path, environ={"SANDBOX_KEY": "sk-sandbox"}) as router:
        response = router.complete(task="chat", prompt="Hello")
    assert response.model == "llama-local" and response.content


@pytest.mark.parametrize("provider", ["local", "openai", "anthropic", "groq", "mistral"])
def test_a_fresh_starter_runs_keys_free_with_sandbox(provider: str, tmp_path: Path) -> None:
    """`router init`, then `router complete --sandbox` and `router explain --sandbox` on it,
    with no key in the environment."""
    path = tmp_path / "routes.yaml"
    assert _init(str(path), "--provider", provider)[0] == 0
    out, err = io.StringIO(), io.StringIO()
    argv = ["complete", "--sandbox", "--config", str(path), "--task", "chat", "Hello there."]
    assert run(argv, out, err) == 0, err.getvalue()
    assert out.getvalue().startswith("Hello!")
    out = io.StringIO()
    argv = ["explain", "--sandbox", "--config", str(path), "--task", "hard", "--prompt", "x"]
    if provider == "local":
        argv[argv.index("hard")] = "chat"  # a local server has no strong model: no `hard` task
    assert run(argv, out, io.StringIO()) == 0
    assert "chain (tried in order):\n  1." in out.getvalue()
