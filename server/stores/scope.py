"""What a shared store already told this request: read once at its start, trusted until its end.

A request to a world on Redis reads the world's clock, whether a fault plan is in force and
whether a timer is due in one round trip (``BEGIN``), instead of one round trip per question
each time it is asked (a getCampaign asked the clock three times). Within one request the clock
then stands still where it was read, as it would between two statements of one transaction;
the next request reads it again, so a move by any process is seen by the next request.

The scope lives in a context variable set by the request's middleware (one per thread under
WSGI); outside a request there is none and every read goes to the store.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass

from campaign_mock.server.domain.clock import ClockReading


@dataclass
class Primed:
    """One world's answers at the start of the request (None: not known, ask the store)."""

    clock: ClockReading | None = None
    faults_empty: bool | None = None
    timer_due: bool | None = None


Scope = dict[str, Primed]
_current: ContextVar[Scope | None] = ContextVar("campaign_mock_request_scope", default=None)


def open_scope() -> Token[Scope | None]:
    """A fresh scope for the request starting in this context (any left over is replaced)."""
    return _current.set({})


def close_scope(token: Token[Scope | None]) -> None:
    try:
        _current.reset(token)
    except ValueError:  # made in another context: the next request replaces it anyway
        _current.set(None)


def primed(key: str) -> Primed | None:
    """What the request knows of the world ``key``, if it is in a request and asked at its start."""
    scope = _current.get()
    return None if scope is None else scope.get(key)


def prime(key: str, answers: Primed) -> None:
    scope = _current.get()
    if scope is not None:
        scope[key] = answers
