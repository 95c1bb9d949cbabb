"""A number an option accepts between two bounds, declared once for its check and its help.

Why one type: a bounded option whose ``--help`` said ``N`` while its error said
``256..1048576`` made a user guess the range by trial. A ``Bounded`` is both the parser of
the value and the text of its range, so ``--help``, the error and the reference pages say the
same thing, for ``serve``'s settings and ``check``'s options alike.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from campaign_mock.contract.integers import whole_number


@dataclass(frozen=True)
class Bounded:
    """An integer (``whole``) or a number of seconds from ``low`` to ``high``, both included.

    ``note`` is said after the range in errors (``(30 days)``)."""

    low: float
    high: float
    whole: bool = True
    note: str = ""

    @property
    def range(self) -> str:
        """``256..1048576``, as ``--help`` shows it."""
        return f"{_number(self.low)}..{_number(self.high)}"

    def __call__(self, value: Any) -> Any:
        """The number ``value`` gives (a number, or text from a flag or variable); ValueError
        naming the range otherwise."""
        number = self._read(value)
        if number is None or not self.low <= number <= self.high:
            what = "an integer" if self.whole else "seconds"
            note = f" {self.note}" if self.note else ""
            raise ValueError(f"expected {what} from {_number(self.low)} to {_number(self.high)}{note}, got {value!r}")
        return int(number) if self.whole else float(number)

    def argument(self, text: str) -> Any:
        """The same check as an argparse ``type``: its message becomes the one-line error."""
        try:
            return self(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc

    def _read(self, value: Any) -> float | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, str):
            text = value.strip()
            whole = whole_number(text)
            if whole is not None:
                return whole
            if self.whole:
                return None
            try:
                return float(text)
            except ValueError:
                return None
        if isinstance(value, int):
            return value
        if isinstance(value, float) and not self.whole:
            return value
        return None


def _number(value: float) -> str:
    """``3600`` not ``3600.0``; ``0.1`` as it is."""
    return str(int(value)) if float(value).is_integer() else str(value)
