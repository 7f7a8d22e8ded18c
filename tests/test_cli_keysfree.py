"""The first hour, as README prints it, with nothing in the environment but a PATH: the install
name, `router --version`, the quick start (`validate`, `explain --sandbox`, `complete
--sandbox`), the CI line and workflow, the pre-commit snippet; and the offline commands
(`explain`, `graph`, `validate`), which need no key and no Redis and say what is unset."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from importlib.metadata import distribution
from io import StringIO
from pathlib import Path

import pytest
import yaml

from router.cli import run

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
NAME, VERSION = PYPROJECT["name"], PYPROJECT["version"]
BIN = Path(sys.executable).parent
ROUTES = ROOT / "configs" / "routes.yaml"
#: A CI job's environment: no API key, no REDIS_URL.
BARE = {"PATH": f"{BIN}{os.pathsep}/usr/bin{os.pathsep}/bin", "HOME": "/nonexistent"}


def shell(command: str) -> subprocess.CompletedProcess[str]:
    """``command`` as a user types it (globs and all), in the checkout, keys-free."""
    return subprocess.run(
        ["bash", "-c", command],
        check=False,
        cwd=ROOT,
        env=BARE,
        capture_output=True,
        text=True,
        timeout=120,
    )


def call(*argv: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    code = run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.DOTALL)


# --- the name -------------------------------------------------------------------------------


def test_the_distribution_is_ours_and_installs_the_router_command() -> None:
    assert NAME == "declarative-llm-router"
    dist = distribution(NAME)
    scripts = {ep.name: ep.value for ep in dist.entry_points if ep.group == "console_scripts"}
    assert scripts == {"router": "router.cli:main"}
    assert (dist.read_text("top_level.txt") or "router").split() == ["router"]


def test_version_names_the_distribution() -> None:
    result = shell("router --version")
    assert (result.returncode, result.stdout) == (0, f"{NAME} {VERSION}\n")


def test_every_install_line_of_the_readme_uses_the_name() -> None:
    warning = "(`pip install router` installs an unrelated"
    assert warning in README  # the one place the other project's name is written, on purpose
    text = README.replace(warning, "")
    installs = re.findall(r"pip install ['\"]?([A-Za-z0-9_.\-]+)(?:\[\w+\])?", text)
    ours = [n for n in installs if "router" in n]
    assert ours and set(ours) == {NAME}


# --- the quick start ------------------------------------------------------------------------


def test_the_quick_start_runs_as_printed_without_keys() -> None:
    block = _blocks("sh")[0]
    lines = [line.split("  #", 1)[0].strip() for line in block.splitlines()]
    assert lines[0] == f"pip install {NAME}"
    commands = [line for line in lines if line.startswith("router ")]
    assert [c.split()[1] for c in commands] == ["--version", "validate", "explain", "complete"]
    for command in commands:
        result = shell(command)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
        if " --sandbox " in command:
            assert "sandbox: every provider of configs/routes.yaml" in result.stderr
    answer = shell(commands[-1])
    assert answer.stdout.strip()
    assert answer.stderr.splitlines()[-1].startswith("[gpt-4o-mini (gpt-4o-mini via openai)")


# --- CI -------------------------------------------------------------------------------------


def test_the_ci_line_passes_on_the_repos_configs_without_keys() -> None:
    (line,) = re.findall(r"^- run: (pip install .+)$", README, flags=re.MULTILINE)
    install, command = line.split(" && ")
    assert install == f"pip install {NAME}"
    assert command == "router validate --strict --format github configs/*.yaml"
    result = shell(command)
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert lines and all(x.startswith("::notice ") and "title=env-unset" in x for x in lines)
    assert shell(command.replace("--strict", "--strict --require-env")).returncode == 1


def test_the_ci_workflow_runs_as_printed_without_keys() -> None:
    (workflow,) = [b for b in _blocks("yaml") if "runs-on:" in b]
    steps = yaml.safe_load(workflow)["jobs"]["routes"]["steps"]
    runs = [step["run"] for step in steps if "run" in step]
    assert runs[0] == f"pip install {NAME}"
    assert [r.split()[:2] for r in runs[1:]] == [["router", "validate"], ["router", "simulate"]]
    for command in runs[1:]:
        result = shell(command)
        assert result.returncode == 0, (command, result.stdout, result.stderr)


def test_the_pre_commit_snippets_name_the_shipped_hook_and_the_distribution() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    configs = [yaml.safe_load(b) for b in _blocks("yaml") if "repos:" in b]
    remote, local = (c["repos"][0] for c in configs)
    assert remote["hooks"][0]["id"] == hook["id"] == local["hooks"][0]["id"]
    assert local["hooks"][0]["entry"] == hook["entry"] == "router validate --skip-non-specs"
    assert local["hooks"][0]["additional_dependencies"] == [NAME]
    assert "files" not in hook and hook["types"] == ["yaml"]


# --- offline commands: no key, no Redis -----------------------------------------------------


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "REDIS_URL", "ROUTER_CONFIG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def redis_spec(tmp_path: Path) -> Path:
    path = tmp_path / "shared.yaml"
    path.write_text(
        ROUTES.read_text().replace(
            "state:\n  backend: memory ", "state:\n  url_env: REDIS_URL\n  backend: redis "
        )
    )
    return path


@pytest.mark.usefixtures("bare_env")
def test_graph_needs_no_keys_and_names_the_unset_variables() -> None:
    code, out, err = call("graph", "--config", str(ROUTES))
    assert code == 0
    assert "summarize [priority cost]" in out
    assert err.startswith("note: OPENAI_API_KEY, ANTHROPIC_API_KEY are not set: planned as if set")


@pytest.mark.usefixtures("bare_env")
def test_explain_graph_and_validate_need_no_redis(redis_spec: Path) -> None:
    code, out, err = call("explain", "--config", str(redis_spec), "--task", "chat", "--prompt", "x")
    assert code == 0
    assert "1.  gpt-4o-mini" in out
    assert "note: REDIS_URL is not set: state (holds, spend) read from memory" in err
    code, _, err = call("graph", "--config", str(redis_spec))
    assert code == 0 and "REDIS_URL is not set" in err
    code, out, _ = call("validate", "--strict", str(redis_spec))
    assert code == 0
    assert f"{redis_spec}:143:12: note: $.state.url_env: environment variable REDIS_URL" in out


@pytest.mark.usefixtures("bare_env")
def test_a_router_that_needs_redis_names_the_spec_and_the_variable(redis_spec: Path) -> None:
    code, _, err = call("complete", "--config", str(redis_spec), "--task", "chat", "hi")
    assert code == 1
    assert f"{redis_spec}: error: $.state.url_env: state.backend is redis but the environment " in (
        err
    )
    assert "variable REDIS_URL is not set" in err


@pytest.mark.usefixtures("bare_env")
def test_complete_sandbox_runs_a_redis_spec_in_memory_and_says_so(redis_spec: Path) -> None:
    code, out, err = call(
        "complete", "--sandbox", "--config", str(redis_spec), "--task", "chat", "Hello there."
    )
    assert code == 0, err
    assert out.strip()
    assert "(no key needed or sent; state in memory instead of redis (REDIS_URL not needed))" in err


@pytest.mark.usefixtures("bare_env")
def test_errors_name_the_spec(tmp_path: Path) -> None:
    spec = tmp_path / "routes.yaml"
    spec.write_text((ROOT / "configs" / "minimal.yaml").read_text().replace("default:", "chat:"))
    code, _, err = call("explain", "--config", str(spec), "--task", "nope", "--prompt", "x")
    assert code == 2
    assert f"\nrouter: {spec}: unknown task 'nope'; known tasks: chat" in err
    code, _, err = call("explain", "--sandbox", "--config", str(spec), "--task", "nope")
    assert code == 2 and f"router: {spec}: unknown task 'nope'" in err
    missing = tmp_path / "absent.yaml"
    code, _, err = call("graph", "--config", str(missing))
    assert code == 1
    assert f"{missing}: error: cannot read the spec: No such file or directory" in err


@pytest.mark.usefixtures("bare_env")
def test_simulate_and_demo_accept_sandbox_and_run_any_spec(tmp_path: Path) -> None:
    code, out, _ = call(
        "simulate", "--sandbox", "--config", str(ROUTES), "--requests", "20", "--rate", "burst"
    )
    assert code == 0 and "no request lost" in out
    code, out, err = call("demo", "--sandbox", "--config", str(ROUTES))
    assert code == 0, err
    assert "2. task 'summarize'" in out
    assert "rule: private-data · chain: llama-local" in out  # a rule of this spec, not the demo's
    minimal = ROOT / "configs" / "minimal.yaml"
    code, out, err = call("demo", "--config", str(minimal))
    assert code == 0, err
    assert "3. (no task has a second model to fall back to" in out
    assert "5. (the spec has no rule" in out
    assert shlex.split(out.splitlines()[-1])[:4] == ["router", "complete", "--sandbox", "--config"]
