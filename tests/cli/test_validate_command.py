"""`router validate` and `router schema`, driven through run(argv, stdout, stderr)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest

from router.cli import run

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))

BROKEN = """\
version: 1
providers:
  openai: {type: openai, api_key_env: OPENAI_API_KEY}
models:
  mini: {provider: openai, id: gpt-4o-mini}
tasks:
  summarize:
    candidates: [mini, gpt5]
    fallbak: [mini]
    priority: fast
"""


def call(*argv: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    code = run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "routes.yaml"
    path.write_text(BROKEN)
    return path


def test_valid_configs_exit_zero() -> None:
    code, out, _ = call("validate", *map(str, CONFIGS))
    assert code == 0
    for config in CONFIGS:
        assert f"{config}: valid" in out


def test_three_mistakes_report_three_errors_and_exit_one(broken: Path) -> None:
    code, out, _ = call("validate", str(broken))
    assert code == 1
    errors = [line for line in out.splitlines() if ": error: " in line]
    assert len(errors) == 3
    assert f"{broken}:8:24: error: $.tasks.summarize.candidates[1]:" in errors[0]
    assert "unknown model 'gpt5'" in errors[0]
    assert f"{broken}:9:5: error: $.tasks.summarize.fallbak: unknown key 'fallbak'" in errors[1]
    assert "did you mean 'fallback'?" in errors[1]
    assert "$.tasks.summarize.priority" in errors[2] and "'fast'" in errors[2]
    assert out.rstrip().endswith("invalid: 3 errors, 0 warnings, 1 note")


def test_missing_file_is_an_io_error_exit_two(tmp_path: Path) -> None:
    code, _, err = call("validate", str(tmp_path / "nope.yaml"))
    assert code == 2
    assert "nope.yaml: cannot read: No such file or directory" in err


def test_io_error_wins_over_invalid(broken: Path, tmp_path: Path) -> None:
    code, _, _ = call("validate", str(broken), str(tmp_path / "missing.yaml"))
    assert code == 2


def test_usage_error_exit_two() -> None:
    code, _, err = call("validate")
    assert code == 2
    assert "the following arguments are required: FILE" in err
    code, _, err = call("validate", "--format", "xml", "x.yaml")
    assert code == 2
    assert "invalid choice: 'xml'" in err


def test_help_exits_zero_and_documents_exit_codes() -> None:
    code, out, _ = call("validate", "--help")
    assert code == 0
    assert "--strict" in out and "--format" in out and "Exit status: 0 all valid" in out
    code, out, _ = call("--help")
    assert code == 0
    assert "validate" in out and "schema" in out


def test_no_command_prints_help_and_exit_two() -> None:
    code, out, _ = call()
    assert code == 2
    assert "usage: router" in out


def test_json_format(broken: Path) -> None:
    code, out, _ = call("validate", "--format", "json", str(broken), str(CONFIGS[0]))
    assert code == 1
    payload = json.loads(out)
    assert payload["valid"] is False
    first, second = payload["files"]
    assert first["valid"] is False and first["errors"] == 3
    diag = next(d for d in first["diagnostics"] if d["severity"] == "error")
    assert diag["path"] == "$.tasks.summarize.candidates[1]"
    assert (diag["line"], diag["column"], diag["code"]) == (8, 24, "unknown-model")
    assert second["valid"] is True


def test_github_format_prints_workflow_annotations(broken: Path) -> None:
    code, out, _ = call("validate", "--format", "github", str(broken))
    assert code == 1
    lines = out.splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    assert errors[0].startswith(f"::error file={broken},line=8,col=24,title=unknown-model::")
    assert len(errors) == 3
    assert all(line.startswith(("::error ", "::notice ")) for line in lines)


def test_github_format_escapes_properties(tmp_path: Path) -> None:
    odd = tmp_path / "a,b:c.yaml"
    odd.write_text("version: 2\n")
    _, out, _ = call("validate", "--format", "github", str(odd))
    assert "file=" + str(tmp_path) + "/a%2Cb%3Ac.yaml," in out


UNREACHABLE = "  spare: {provider: openai, id: gpt-4o}\n"


@pytest.fixture
def with_warning(tmp_path: Path) -> Path:
    """minimal.yaml with a model no task reaches (a warning), its key variable unset (a note)."""
    path = tmp_path / "routes.yaml"
    text = (ROOT / "configs" / "minimal.yaml").read_text()
    path.write_text(text.replace("models:\n", "models:\n" + UNREACHABLE, 1))
    return path


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@pytest.mark.usefixtures("no_key")
def test_strict_turns_warnings_into_errors_but_not_notes(with_warning: Path) -> None:
    code, out, _ = call("validate", str(with_warning))
    assert code == 0
    assert "warning: $.models.spare: " in out and "[unreachable-model]" in out
    assert "note: $.providers.openai.api_key_env: environment variable OPENAI_API_KEY" in out
    assert out.rstrip().endswith("(1 warning, 1 note)")
    code, out, _ = call("validate", "--strict", str(with_warning))
    assert code == 1
    assert "error: $.models.spare: " in out
    assert "note: $.providers.openai.api_key_env:" in out
    assert out.rstrip().endswith("invalid: 1 error, 0 warnings, 1 note")


@pytest.mark.usefixtures("no_key")
def test_require_env_makes_unset_variables_errors(with_warning: Path) -> None:
    code, out, _ = call("validate", "--require-env", str(with_warning))
    assert code == 1
    assert "error: $.providers.openai.api_key_env: environment variable OPENAI_API_KEY" in out


@pytest.mark.usefixtures("no_key")
def test_ignore_drops_a_warning_code(with_warning: Path) -> None:
    code, out, _ = call(
        "validate",
        "--strict",
        "--ignore",
        "unreachable-model",
        "--ignore",
        "env-unset",
        str(with_warning),
    )
    assert code == 0
    assert out == f"{with_warning}: valid: 1 provider, 2 models, 1 task, 0 rules\n"


def test_ignore_refuses_an_error_code_or_a_typo(with_warning: Path) -> None:
    for code_name in ("unknown-model", "unreachable-modle"):
        code, _, err = call("validate", "--ignore", code_name, str(with_warning))
        assert code == 2
        assert f"{code_name!r} is not a warning or note code" in err
        assert "unreachable-model" in err  # the codes that can be ignored are listed


@pytest.mark.usefixtures("no_key")
def test_a_comment_drops_the_warning_on_its_line(with_warning: Path) -> None:
    text = with_warning.read_text().replace(
        UNREACHABLE.rstrip("\n"), UNREACHABLE.rstrip("\n") + "  # router: ignore[unreachable-model]"
    )
    with_warning.write_text(text)
    code, out, _ = call("validate", "--strict", str(with_warning))
    assert code == 0
    assert "unreachable-model" not in out


@pytest.mark.usefixtures("no_key")
def test_github_format_gives_notes_as_notices(with_warning: Path) -> None:
    code, out, _ = call("validate", "--format", "github", str(with_warning))
    assert code == 0
    lines = out.splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == ["::notice", "::warning"]
    assert "title=env-unset::" in lines[0] and "OPENAI_API_KEY" in lines[0]


@pytest.mark.usefixtures("no_key")
def test_json_format_counts_notes(with_warning: Path) -> None:
    _, out, _ = call("validate", "--format", "json", str(with_warning))
    (report,) = json.loads(out)["files"]
    assert (report["errors"], report["warnings"], report["notes"]) == (0, 1, 1)


def test_skip_non_specs_skips_other_yaml_and_still_checks_specs(
    tmp_path: Path, broken: Path
) -> None:
    workflow = tmp_path / "ci.yml"
    workflow.write_text("on: push\njobs:\n  test: {runs-on: ubuntu-latest}\n")
    odd = tmp_path / "odd.yaml"
    odd.write_text("- a list\n- not a spec\n")
    torn = tmp_path / "torn.yaml"  # does not parse, but a top-level key says it is a spec
    torn.write_text("version: 1\nproviders:\n  a: {type: openai\n")
    code, out, _ = call(
        "validate", "--skip-non-specs", str(workflow), str(odd), str(torn), str(CONFIGS[1])
    )
    assert code == 1
    assert f"{workflow}: skipped: not a routes spec" in out
    assert f"{odd}: skipped: not a routes spec" in out
    assert f"{torn}: invalid: 1 error" in out
    assert f"{CONFIGS[1]}: valid" in out
    code, out, _ = call("validate", "--skip-non-specs", str(workflow))
    assert (code, out) == (
        0,
        f"{workflow}: skipped: not a routes spec (no top-level providers, models or tasks)\n",
    )
    code, _, _ = call("validate", str(workflow))  # named without the flag: it must be a spec
    assert code == 1
    _, out, _ = call("validate", "--skip-non-specs", "--format", "json", str(workflow), str(broken))
    assert json.loads(out)["skipped"] == [str(workflow)]


def test_schema_command_prints_the_schema() -> None:
    code, out, _ = call("schema")
    assert code == 0
    schema = json.loads(out)
    assert schema["$id"].endswith("routes.schema.json")
    assert json.loads((ROOT / "schemas" / "routes.schema.json").read_text()) == schema
