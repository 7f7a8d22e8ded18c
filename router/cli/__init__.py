"""The ``router`` command line.

The CLI is :func:`run` (argv, stdout, stderr → exit code), so tests call it with StringIO and
tools can embed it; :func:`main` only wires it to the process and exits. Exit codes:
0 success, 1 the input is invalid (or a request failed), 2 usage or I/O error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

from router.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, plural, version_line
from router.spec import Diagnostic, ValidationReport, is_spec, validate_file

Command = Callable[[argparse.Namespace, IO[str], IO[str]], int]


class _UsageError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """argparse that reports through exceptions instead of exiting, and prints where run()
    was told to."""

    out: IO[str] = sys.stdout

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise _UsageError(status, message or "")

    def error(self, message: str) -> NoReturn:
        raise _UsageError(EXIT_USAGE, f"{self.prog}: error: {message}\n{self.format_usage()}")

    def _print_message(self, message: str, file: Any = None) -> None:
        if message:
            self.out.write(message)


class _Version(argparse.Action):
    """--version, looked up only when asked for (reading the installed metadata takes time)."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        parser._print_message(version_line() + "\n")
        parser.exit()


def _ignorable(code: str) -> str:
    from router.diagnostics import NOTE_CODES, WARNING_CODES

    if code not in WARNING_CODES | NOTE_CODES:
        codes = ", ".join(sorted(WARNING_CODES | NOTE_CODES))
        raise argparse.ArgumentTypeError(
            f"{code!r} is not a warning or note code (errors cannot be ignored: the Router "
            f"refuses them too); the codes are: {codes}"
        )
    return code


def _add_validate(sub: Any) -> None:
    p = sub.add_parser(
        "validate",
        help="check routing spec files (for CI and pre-commit)",
        description=(
            "Check routing spec files: YAML syntax, the JSON Schema, and semantic checks "
            "(unknown references, fallback cycles, shadowed rules, unsafe base URLs...). "
            "Every problem is reported with file:line:column and its JSON path. Needs no "
            "API keys and no Redis: a key or Redis URL variable that is unset here is a "
            "note (--require-env makes it an error). "
            "Exit status: 0 all valid, 1 a file is invalid, 2 usage or I/O error."
        ),
        epilog=(
            "A warning can also be dropped where it is found: end the line it points at with "
            "a comment '# router: ignore[CODE]' (several: ignore[CODE1,CODE2]). "
            "Errors cannot be ignored."
        ),
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="routes.yaml files to check")
    p.add_argument(
        "--strict",
        action="store_true",
        help="treat warnings (unreachable models, plain-http URLs...) as errors; notes stay notes",
    )
    p.add_argument(
        "--require-env",
        action="store_true",
        dest="require_env",
        help=(
            "treat unset key, header and Redis URL variables as errors (by default they are "
            "notes, so a CI job without secrets passes): for the machine that runs the router"
        ),
    )
    p.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="CODE",
        type=_ignorable,
        help=(
            "drop the warnings or notes with this code, e.g. --ignore priority-without-data "
            "(repeatable; errors cannot be ignored)"
        ),
    )
    p.add_argument(
        "--skip-non-specs",
        action="store_true",
        dest="skip_non_specs",
        help=(
            "skip (and do not fail) a FILE that is not a routes spec, for hooks that pass "
            "every YAML file: a spec is a YAML mapping with a top-level providers, models or "
            "tasks key (a file that does not parse counts when such a key starts a line)"
        ),
    )
    p.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help="text (default), json, or github (workflow annotations ::error file=...)",
    )
    p.set_defaults(command=cmd_validate)


def _github_escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def _github_line(d: Diagnostic) -> str:
    props = [f"file={_github_escape(d.file or '', prop=True)}"]
    if d.line is not None:
        props.append(f"line={d.line}")
        if d.column is not None:
            props.append(f"col={d.column}")
    props.append(f"title={_github_escape(d.code, prop=True)}")
    where = f"{d.path}: " if d.path else ""
    hint = f" ({d.hint})" if d.hint else ""
    level = "notice" if d.severity == "note" else d.severity
    return f"::{level} {','.join(props)}::{_github_escape(where + d.message + hint)}"


def _summary(report: ValidationReport) -> str:
    errors, warnings, notes = len(report.errors), len(report.warnings), len(report.notes)
    if errors:
        return (
            f"{report.file}: invalid: {plural(errors, 'error')}, {plural(warnings, 'warning')}"
            + (f", {plural(notes, 'note')}" if notes else "")
        )
    extra = ", ".join(plural(n, word) for n, word in ((warnings, "warning"), (notes, "note")) if n)
    spec = report.spec
    counts = (
        f": {plural(len(spec.providers), 'provider')}, {plural(len(spec.models), 'model')}, "
        f"{plural(len(spec.tasks), 'task')}, {plural(len(spec.rules), 'rule')}"
        if spec
        else ""
    )
    used = sorted(
        {n for t in spec.tasks.values() for n in t.guardrails}
        | {n for r in spec.rules for n in r.guardrails}
        if spec
        else ()
    )
    if used:
        counts += f", {plural(len(used), 'guardrail')} ({', '.join(used)})"
    return f"{report.file}: valid{counts}" + (f" ({extra})" if extra else "")


def cmd_validate(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    reports: list[ValidationReport] = []
    io_failed = False
    skipped: list[str] = []
    for file in args.files:
        try:
            if args.skip_non_specs and not is_spec(Path(file).read_bytes()):
                skipped.append(file)
                continue
            reports.append(
                validate_file(
                    file,
                    strict=args.strict,
                    require_env=args.require_env,
                    ignore=args.ignore,
                )
            )
        except OSError as exc:
            io_failed = True
            reason = exc.strerror or str(exc)
            if args.format == "github":
                stdout.write(
                    f"::error file={_github_escape(file, prop=True)}::cannot read: {reason}\n"
                )
            elif args.format == "text":
                stderr.write(f"{file}: cannot read: {reason}\n")
            reports.append(
                ValidationReport(
                    file, (Diagnostic(f"cannot read: {reason}", code="io-error", file=file),), None
                )
            )
    if args.format == "json":
        payload = {
            "valid": all(r.ok for r in reports),
            "skipped": skipped,
            "files": [
                {
                    "file": r.file,
                    "valid": r.ok,
                    "errors": len(r.errors),
                    "warnings": len(r.warnings),
                    "notes": len(r.notes),
                    "diagnostics": [d.as_dict() for d in r.diagnostics],
                }
                for r in reports
            ],
        }
        stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        for report in reports:
            if any(d.code == "io-error" for d in report.diagnostics):
                continue
            for d in report.diagnostics:
                stdout.write((_github_line(d) if args.format == "github" else d.render()) + "\n")
            if args.format == "text":
                stdout.write(_summary(report) + "\n")
        if args.format == "text":
            for file in skipped:
                stdout.write(
                    f"{file}: skipped: not a routes spec (no top-level providers, models or "
                    "tasks)\n"
                )
    if io_failed:
        return EXIT_USAGE
    return EXIT_OK if all(r.ok for r in reports) else EXIT_FAILED


def cmd_schema(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from router.spec import schema

    stdout.write(json.dumps(schema(), indent=2) + "\n")
    return EXIT_OK


def build_parser(stdout: IO[str]) -> _Parser:
    parser = _Parser(
        prog="router",
        description="A declarative, config-driven LLM router.",
        epilog="Run 'router COMMAND --help' for a command's options.",
    )
    parser.out = stdout
    parser.add_argument(
        "--version",
        action=_Version,
        help="print the installed distribution (declarative-llm-router) and its version",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    _add_validate(sub)
    p = sub.add_parser(
        "schema",
        help="print the JSON Schema of routes.yaml",
        description="Print the JSON Schema (2020-12) of routes.yaml, for editors and tools.",
    )
    p.set_defaults(command=cmd_schema)
    from router.cli.commands import add_commands

    add_commands(sub)
    from router.cli.classify import add_classify

    add_classify(sub)
    from router.cli.importers import add_import
    from router.cli.init import add_init

    add_init(sub)
    add_import(sub)
    for action in sub.choices.values():
        action.out = stdout
    return parser


def run(argv: Sequence[str], stdout: IO[str], stderr: IO[str]) -> int:
    """Run the CLI with ``argv`` (without the program name); return the exit status."""
    parser = build_parser(stdout)
    try:
        args = parser.parse_args(list(argv))
    except _UsageError as exc:
        if exc.status:
            stderr.write(str(exc))
        return exc.status
    command: Command | None = getattr(args, "command", None)
    if command is None:
        parser.print_help()
        return EXIT_USAGE
    return command(args, stdout, stderr)


def main() -> NoReturn:
    sys.exit(run(sys.argv[1:], sys.stdout, sys.stderr))
