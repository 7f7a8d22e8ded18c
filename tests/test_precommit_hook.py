"""The shipped pre-commit hook (.pre-commit-hooks.yaml), run by pre-commit itself in a scratch
git repository with no API keys in the environment.

The hook is taken as shipped (entry, types, files, pass_filenames) into a ``repo: local``
config with ``language: system``, so pre-commit runs the ``router`` of this venv instead of
building an environment from PyPI; everything else is pre-commit's own doing: which files it
passes, and how it reads the exit status."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytest.importorskip("pre_commit", reason="pre-commit is not installed (a dev dependency)")

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

SPEC = (ROOT / "configs" / "minimal.yaml").read_text()
BROKEN = SPEC.replace("candidates: [gpt-4o-mini]", "candidates: [gpt-4o-mini, gpt5]")
WORKFLOW = "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps: [{run: make}]\n"
COMPOSE = "services:\n  app: {image: 'python:3.12'}\n"
NOT_YAML_SPEC = "- just\n- a list\n"


def _git(repo: Path, *args: str, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    config = {"repos": [{"repo": "local", "hooks": [{**hook, "language": "system"}]}]}
    repo = tmp_path / "project"
    repo.mkdir()
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    # No key, no Redis URL: only what git and pre-commit need.
    env = {
        "PATH": f"{BIN}{os.pathsep}/usr/local/bin{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(tmp_path),
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "LANG": "C.UTF-8",
    }
    _git(repo, "init", "-q", env=env)
    _git(repo, "config", "user.email", "t@example.com", env=env)
    _git(repo, "config", "user.name", "t", env=env)
    return repo, env


def _run(repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    _git(repo, "add", "-A", env=env)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", "--verbose"],
        check=False,
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _write(repo: Path, name: str, text: str) -> None:
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_hook_checks_specs_by_content_and_skips_other_yaml(
    repo: tuple[Path, dict[str, str]],
) -> None:
    root, env = repo
    _write(root, "deploy/llm.yaml", SPEC)  # a spec under any name
    _write(root, ".github/workflows/ci.yml", WORKFLOW)
    _write(root, "docker-compose.yml", COMPOSE)
    _write(root, "data/list.yaml", NOT_YAML_SPEC)

    passed = _run(root, env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "validate router specs" in passed.stdout and "Passed" in passed.stdout
    assert "deploy/llm.yaml: valid: 1 provider" in passed.stdout  # OPENAI_API_KEY unset: a note
    assert "note: $.providers.openai.api_key_env" in passed.stdout
    assert "docker-compose.yml: skipped: not a routes spec" in passed.stdout
    assert ".github/workflows/ci.yml: skipped" in passed.stdout

    _write(root, "models.yaml", BROKEN)
    failed = _run(root, env)
    assert failed.returncode == 1
    assert "Failed" in failed.stdout
    assert "models.yaml:9:39: error: $.tasks.default.candidates[1]:" in failed.stdout
    assert "unknown model 'gpt5'" in failed.stdout
    assert "deploy/llm.yaml: valid" in failed.stdout


def test_a_repository_without_specs_passes(repo: tuple[Path, dict[str, str]]) -> None:
    root, env = repo
    _write(root, ".github/workflows/ci.yml", WORKFLOW)
    result = _run(root, env)
    assert result.returncode == 0, result.stdout + result.stderr
