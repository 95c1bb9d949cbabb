"""A seeded campaign comes with the history that brought it where it stands.

Why: ``POST /__admin/campaigns`` accepted a ``paused`` campaign with no events, a campaign no
client could have made; a client under test that reads the history (or a kit that judges it)
then meets a record the mock's own lifecycle forbids. ``RecordChecks`` judges the events given;
this judges the events *missing*: only a campaign standing where a create lands may have none.
The refusal names a shortest history that would do, so the fix is a copy away.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from campaign_mock.contract.lifecycle import Lifecycle
from campaign_mock.server.domain.errors import InvalidBody


def require_a_history(lifecycle: Lifecycle, state: str, events: Sequence[Any], where: str) -> None:
    """InvalidBody (422) when a campaign seeded in ``state`` has no events yet stands where no
    create lands; ``where`` is the campaign's JSON pointer in the request."""
    if events or state in lifecycle.creatable():
        return
    pointer = f"{where}/events"
    path = shortest_moves(lifecycle, state)
    moves = ", ".join(f"{action} ({source} -> {target})" for action, source, target in path)
    example = f", e.g. events for {moves}, each with the members of the contract's event schema" if path else ""
    detail = (
        f"a campaign seeded in {state!r} needs the events that brought it there, ending in {state!r}"
        f"{example}; only a campaign in a state a create lands in ({', '.join(lifecycle.creatable())}) "
        "may have none"
    )
    raise InvalidBody(f"{pointer}: {detail}", extra={"errors": [{"in": "body", "pointer": pointer, "detail": detail}]})


def shortest_moves(lifecycle: Lifecycle, state: str) -> list[tuple[str, str, str]]:
    """(action, from, to) of a shortest chain of moves (actions, and the clock's named moves)
    from a create's landing state to ``state``; empty when none reaches it."""
    start = lifecycle.creatable()
    before: dict[str, tuple[str, str] | None] = dict.fromkeys(start)
    waiting = deque(start)
    while waiting:
        here = waiting.popleft()
        if here == state:
            break
        moves = [
            (action, target)
            for action in lifecycle.allowed_actions(here)
            for target in sorted(lifecycle.transitions[action].targets())
        ]
        moves += [(timer.name, timer.target) for timer in lifecycle.timers_from(here)]  # the clock's moves too
        for action, target in moves:
            if target not in before:
                before[target] = (action, here)
                waiting.append(target)
    if state not in before:
        return []
    chain: list[tuple[str, str, str]] = []
    target = state
    while (step := before[target]) is not None:
        action, source = step
        chain.append((action, source, target))
        target = source
    return chain[::-1]
