"""Every option and argument of every `router` command says what it is for in --help."""

from __future__ import annotations

import argparse
import io

import pytest

from router.cli import build_parser


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser(io.StringIO())
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_command_has_help_and_a_description() -> None:
    parser = build_parser(io.StringIO())
    for action in parser._actions:  # the top level's own options (--help, --version...)
        if isinstance(action, argparse._SubParsersAction):
            continue
        assert action.help, f"router {'/'.join(action.option_strings)}: no help"
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {a.dest: a.help for a in sub._choices_actions}
    for name, command in _commands().items():
        assert helps.get(name), f"router {name} has no help line"
        assert command.description, f"router {name} has no description"


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_option_has_help(name: str) -> None:
    command = _commands()[name]
    for action in command._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        label = "/".join(action.option_strings) or action.dest
        assert action.help and action.help != argparse.SUPPRESS, f"router {name} {label}: no help"
        assert len(action.help) >= 8, f"router {name} {label}: help too short: {action.help!r}"
