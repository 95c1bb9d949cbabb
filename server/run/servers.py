"""What differs between HTTP servers the app can run under (waitress today).

The app stays server-agnostic; where it needs a server's cooperation (dropping a
connection without an answer) it calls what this module provides.
"""

from __future__ import annotations

from typing import NoReturn

from waitress.channel import ClientDisconnected


def waitress_drop() -> NoReturn:
    """Make waitress close the connection unanswered: it takes this for a client gone."""
    raise ClientDisconnected
