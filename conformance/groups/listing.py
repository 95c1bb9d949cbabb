"""``listing``: the list operation's filter, limit/offset, total and has_more tell the truth.

The kit creates campaigns in different states, then pages through filtered lists and
compares them with what it made (other campaigns may exist; only inclusion is required
of them, exactness of the ones the kit made).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from campaign_mock.conformance.context import KitContext, Scenario
from campaign_mock.conformance.groups.lifecycle import LifecycleChecks
from campaign_mock.conformance.results import GroupResult
from campaign_mock.contract.listing import Listing, page_value
from campaign_mock.contract.pointers import read_pointer

GROUP = "listing"
MAX_PAGES = 200
PAGE_SIZE = 7  # odd, so off-by-one paging shows


def _page_query(listing: Listing, offset: int, limit: int, after: Any = 0) -> dict[str, Any]:
    """The query for the page at ``offset`` (keyset: after the id ``after``) of ``limit`` items,
    in the operation's paging style."""
    if listing.style == "page" and listing.page:
        return {listing.page: page_value(offset, limit)}
    if listing.style == "keyset" and listing.after and listing.limit:
        return {listing.limit: limit, listing.after: after}
    if listing.limit and listing.offset:
        return {listing.limit: limit, listing.offset: offset}
    return {}


def _pages(
    context: KitContext, scenario: Scenario, query: dict[str, Any], limit: int
) -> Iterator[tuple[Any, list[Any]]]:
    lister, listing = context.view.one("list"), context.view.listing()
    if lister is None or listing is None:
        return
    offset, after = 0, 0
    for _ in range(MAX_PAGES):
        paging = _page_query(listing, offset, limit, after)
        exchange = scenario.send(lister, query={**query, **paging})
        items = context.view.campaign_in(lister, exchange.json())
        if exchange.status >= 300 or not isinstance(items, list):
            return
        yield exchange.json(), items
        if not paging or len(items) < limit:
            return
        offset += len(items)
        last = items[-1] if isinstance(items[-1], dict) else {}
        after = last.get(context.view.id_field(), after)


def run(context: KitContext) -> GroupResult:
    result = GroupResult(GROUP)
    view = context.view
    lister = view.one("list")
    if lister is None:
        result.skipped("listing.filter", "-", "the spec has no list operation")
        return result
    checks = LifecycleChecks(context, result)
    plans = checks.plans()
    made: dict[str, str] = {}
    for state in list(plans)[:3]:
        reached = checks.reach(plans[state], state)
        if reached is not None:
            made[reached[1]] = state
    if not made:
        result.skipped("listing.filter", lister.operation_id, "could not create campaigns to list")
        return result
    id_field, status_field = view.id_field(), view.lifecycle.status_field
    listing = view.listing()
    status_name = listing.status if listing else None
    scenario = Scenario(context)
    for state in sorted(set(made.values())):
        if status_name is None:
            result.skipped("listing.filter", lister.operation_id, "no status filter parameter")
            break
        seen: list[Any] = []
        for _, items in _pages(context, scenario, {status_name: state}, 50):
            seen.extend(items)
        wrong = [item.get(status_field) for item in seen if isinstance(item, dict) and item.get(status_field) != state]
        result.check(
            not wrong,
            "listing.filter",
            f"{lister.operation_id} {status_name}={state}",
            f"only {state!r} campaigns",
            f"also {sorted(set(map(str, wrong)))}",
            scenario.steps()[-3:],
        )
        listed = {str(item.get(id_field)) for item in seen if isinstance(item, dict)}
        missing = [cid for cid, st in made.items() if st == state and cid not in listed]
        result.check(
            not missing,
            "listing.filter",
            f"{lister.operation_id} {status_name}={state}",
            f"the kit's {state} campaign(s) listed",
            f"missing {missing}",
            scenario.steps()[-3:],
        )
    if listing is None or not _page_query(listing, 0, PAGE_SIZE):
        result.skipped("listing.paging", lister.operation_id, "no paging parameters")
        return result
    paging_label = " ".join(f"{name}={value}" for name, value in _page_query(listing, 0, PAGE_SIZE).items())
    everything: list[Any] = []
    totals: list[Any] = []
    total_pointer, has_more_pointer = view.total_pointer(), view.has_more_pointer()
    for body, items in _pages(context, scenario, {}, PAGE_SIZE):
        everything.extend(items)
        totals.append(read_pointer(body, total_pointer) if total_pointer is not None else None)
        result.check(
            len(items) <= PAGE_SIZE,
            "listing.paging",
            f"{lister.operation_id} {paging_label}",
            f"at most {PAGE_SIZE} items",
            f"{len(items)}",
            scenario.steps()[-1:],
        )
        has_more = read_pointer(body, has_more_pointer) if has_more_pointer is not None else None
        total = totals[-1]
        if isinstance(has_more, bool) and isinstance(total, int):
            result.check(
                has_more == (len(everything) < total),
                "listing.has-more",
                lister.operation_id,
                f"has_more {len(everything) < total} after {len(everything)} of {total}",
                f"{has_more}",
                scenario.steps()[-1:],
            )
    if totals and all(isinstance(total, int) for total in totals):
        result.check(
            totals[0] == len(everything),
            "listing.total",
            lister.operation_id,
            f"total {len(everything)} (the items across all pages)",
            f"{totals[0]}",
            scenario.steps()[-1:],
        )
    ids = [str(item.get(id_field)) for item in everything if isinstance(item, dict)]
    result.check(
        len(ids) == len(set(ids)),
        "listing.paging",
        lister.operation_id,
        "no campaign twice across pages",
        f"{len(ids) - len(set(ids))} repeated",
        scenario.steps()[-2:],
    )
    result.check(
        set(made) <= set(ids),
        "listing.paging",
        lister.operation_id,
        "every campaign the kit made appears on some page",
        f"missing {sorted(set(made) - set(ids))}",
        scenario.steps()[-2:],
    )
    result.summary = f"{len(made)} campaigns made, {len(everything)} listed"
    return result
