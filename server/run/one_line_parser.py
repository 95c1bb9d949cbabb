"""An argparse parser whose every usage error is one line, said by the command it concerns.

Why: argparse answers a mistake with the whole usage (30 lines for ``serve``) and, for an
unknown option after a subcommand, with the *top-level* usage and ``unrecognized arguments``,
as if the option were the top level's. Here every parser of the command line (subparsers
inherit the class) ends a mistake in one line, ``PROG: error: WHAT; HINT``, exit status 2:
an unknown option is named with the nearest option of the same subcommand, a missing value
names its option, an unknown command the nearest command.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

USAGE_ERROR = 2
_MISSING_VALUE = re.compile(r"argument (?P<names>\S+): expected (?:one|at least one) argument")
_INVALID_CHOICE = re.compile(r"argument (?P<names>\S+): invalid choice: '(?P<given>.*)' \(choose from .*\)")
_NAMED = re.compile(r"argument (?P<names>\S+): ")
_REQUIRED = "the following arguments are required: "
_REQUIRED_COMMAND = _REQUIRED + "COMMAND"


class OneLineParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` with one-line usage errors (see the module's docstring)."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """As argparse's, but what this parser does not know is an error here, in its own
        name: a subcommand's unknown option is the subcommand's mistake, not the top level's."""
        self._given = list(sys.argv[1:] if args is None else args)
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(self._unknown(extras[0]))
        return parsed, extras

    def error(self, message: str) -> NoReturn:
        misspelt = self._first_unknown_option() if message.startswith(_REQUIRED) else None
        said = self._unknown(misspelt) if misspelt else self._reworded(message)  # --bsae-url, not "--base-url required"
        self.exit(USAGE_ERROR, f"{self.prog}: error: {said}\n")

    def _first_unknown_option(self) -> str | None:
        """The first ``--option`` given that this parser does not take, even abbreviated."""
        known = self._long_options()
        given_args: list[str] = getattr(self, "_given", [])
        for given in given_args:
            if given == "--":
                return None
            name = str(given).split("=", 1)[0]
            if name.startswith("--") and not any(option.startswith(name) for option in known):
                return name
        return None

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            sys.stderr.write(message)
        raise SystemExit(status)

    def _help_hint(self) -> str:
        return f"`{self.prog} --help` lists its options"

    def _long_options(self) -> list[str]:
        return sorted(option for option in self._option_string_actions if option.startswith("--"))

    def _commands(self) -> list[str]:
        return [
            name
            for action in self._actions
            if isinstance(action, argparse._SubParsersAction)
            for name in action.choices
        ]

    def _unknown(self, given: str) -> str:
        """One unknown argument, with the nearest one this parser takes."""
        if given.startswith("-"):
            option = given.split("=", 1)[0]
            near = difflib.get_close_matches(option, self._long_options(), n=1, cutoff=0.5)
            if near:
                return f"unknown option {option}; did you mean {near[0]}? ({self._help_hint()})"
            return f"unknown option {option}; {self._help_hint()}"
        return f"unexpected argument {given!r}; {self._help_hint()}"

    def _reworded(self, message: str) -> str:
        """argparse's message, said so that it names the fix."""
        missing = _MISSING_VALUE.fullmatch(message)
        if missing:
            option = missing["names"].split("/")[-1]  # -o/--output: the long name
            return f"{option} needs a value; `{self.prog} --help` says which"
        if message == _REQUIRED_COMMAND:
            return f"give a command: {', '.join(self._commands())} (`{self.prog} --help` says what each does)"
        choice = _INVALID_CHOICE.fullmatch(message)
        if choice:
            name = choice["names"].split("/")[-1]
            action = self._action_named(name)
            allowed = [value for value in (action.choices or []) if isinstance(value, str)] if action else []
            near = difflib.get_close_matches(choice["given"], allowed, n=1, cutoff=0.5)
            guess = f"; did you mean {near[0]}?" if near else ""
            what = "unknown command" if isinstance(action, argparse._SubParsersAction) else f"{name}: unknown value"
            return f"{what} {choice['given']!r}{guess} (one of: {', '.join(allowed)})"
        named = _NAMED.match(message)  # "argument -o/--output: ..." -> "--output: ..."
        if named:
            message = f"{named['names'].split('/')[-1]}: {message[named.end() :]}"
        return message if "--help" in message else f"{message}; see `{self.prog} --help`"

    def _action_named(self, name: str) -> Any:
        for action in self._actions:
            if name in action.option_strings or name in (action.dest, action.metavar):
                return action
        return None
