"""``router import``: another router's configuration converted into a routes spec.

Each importer only produces data (a spec and notes about it, :mod:`.litellm`); this module
writes it as commented YAML (:mod:`.emit`), checks the text with :func:`router.spec.validate_bytes`
and says what could not be converted, on stderr and in the file. Nothing is ever dropped
silently, and no key written in the source file reaches the output, stderr or an error.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from router.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, plural

if TYPE_CHECKING:
    from router.cli.importers.litellm_models import NoteKind

_FORMATS = ("litellm",)
#: How each kind of note is labelled on stderr, in the order printed.
_LABELS: tuple[tuple[str, NoteKind], ...] = (
    ("warning", "key"),
    ("note", "changed"),
    ("not converted", "not converted"),
)


def add_import(sub: Any) -> None:
    p = sub.add_parser(
        "import",
        help="convert a LiteLLM proxy config.yaml into a routes spec",
        description=(
            "Convert another router's configuration into a routes spec: `router import litellm "
            "config.yaml -o routes.yaml`. Model groups become tasks, deployments models, "
            "fallbacks of every kind the tasks' fallback chains, rpm/tpm rate limits, "
            "num_retries, allowed_fails and cooldown_time the retry and circuit-breaker "
            "settings, Redis and the cache the state and cache settings. Keys written in the "
            "file are never copied: each provider reads its key from a variable, which is "
            "named. Every setting without an equivalent is listed on stderr and as a comment "
            "at the top of the output. The output is validated. Exit status: 0 converted, 1 "
            "nothing could be converted or the result is invalid, 2 usage or I/O error."
        ),
    )
    p.add_argument("source", choices=_FORMATS, help="the format of CONFIG: litellm (proxy config)")
    p.add_argument("config", metavar="CONFIG", help="the file to convert (LiteLLM's config.yaml)")
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the spec to FILE (default: stdout); an existing FILE needs --force",
    )
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.set_defaults(command=cmd_import)


def render(conversion: Any, source: str, output: str | None) -> str:
    """The converted spec as a commented YAML file."""
    from router.cli.importers.emit import comment, dump

    notes = conversion.notes
    first = next(iter(conversion.spec.get("tasks") or {"TASK": None}))
    target = Path(output).name if output else "routes.yaml"
    head = [
        f"Converted from the LiteLLM config {Path(source).name} by `router import litellm`.",
        f"Check it:       router validate {target}",
        f"See a decision: router explain --config {target} --task {first}",
        "Each LiteLLM model group is a task of the same name: call "
        f"router.complete(task={first!r}, ...).",
    ]
    sections: tuple[tuple[str, NoteKind], ...] = (
        ("Keys (never copied):", "key"),
        ("Changed on the way:", "changed"),
        ("Not converted (no equivalent here):", "not converted"),
    )
    for title, kind in sections:
        items = notes.of(kind)
        if items:
            head += ["", title, *(f"  - {w}: {t}" for w, t in items)]
    return comment(head) + "\n" + dump(conversion.spec)


def cmd_import(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from router.cli.importers.litellm import convert
    from router.spec import validate_bytes
    from router.spec.yamlload import YamlError, load_yaml

    out = Path(args.output) if args.output else None
    if out is not None and out.exists() and not args.force:
        stderr.write(f"router import: {out} exists; pass --force to overwrite it\n")
        return EXIT_USAGE
    try:
        raw = Path(args.config).read_bytes()
    except OSError as exc:
        stderr.write(f"router import: {args.config}: cannot read: {exc.strerror or exc}\n")
        return EXIT_USAGE
    try:
        data = load_yaml(raw, args.config).data
    except YamlError as exc:
        for d in exc.diagnostics:
            stderr.write(d.render() + "\n")
        return EXIT_FAILED
    conversion = convert(data)
    notes = conversion.notes
    for label, kind in _LABELS:
        for where, text in notes.of(kind):
            stderr.write(f"{args.config}: {label}: {where}: {text}\n")
    errors = notes.of("error")
    if errors or not conversion.spec.get("tasks"):
        for where, text in errors:
            stderr.write(f"{args.config}: error: {where}: {text}\n")
        stderr.write(f"router import: {args.config}: no model could be converted\n")
        return EXIT_FAILED
    text = render(conversion, args.config, args.output)
    report = validate_bytes(text.encode("utf-8"), str(out or "<converted>"))
    if not report.ok:
        for d in report.errors:
            stderr.write(d.render() + "\n")
        stderr.write("router import: the converted spec is invalid (not written)\n")
        return EXIT_FAILED
    if out is None:
        stdout.write(text)
    else:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            stderr.write(f"router import: {out}: cannot write: {exc.strerror or exc}\n")
            return EXIT_USAGE
    spec = conversion.spec
    skipped = len(notes.of("not converted"))
    stderr.write(
        f"router import: {out or 'stdout'}: {plural(len(spec['providers']), 'provider')}, "
        f"{plural(len(spec['models']), 'model')}, {plural(len(spec['tasks']), 'task')}"
        + (
            f"; {plural(skipped, 'setting')} not converted (listed above and in the file)"
            if skipped
            else ""
        )
        + "\n"
    )
    return EXIT_OK
