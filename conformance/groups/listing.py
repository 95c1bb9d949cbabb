"""``listing``: the list operation's filter, limit/offset, total and has_more tell the truth.

The kit creates campaigns in different states, then pages through filtered lists and
compares them with what it made (other campaigns may exist; only inclusion is required
of them, exactness of the ones the kit made).
"""

from __future__ import annotations

import secrets
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
        context.coverage.list_parameters.update(query, paging)
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
    result = context.start(GROUP)
    view = context.view
    lister = view.one("list")
    if lister is None:
        result.not_applicable("listing.filter", "-", "the spec has no list operation")
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
            result.not_applicable("listing.filter", lister.operation_id, "no status filter parameter")
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
        result.not_applicable("listing.paging", lister.operation_id, "no paging parameters")
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
    _neighbours(context, result, totals[0] if totals else None, made)
    result.summary = f"{len(made)} campaigns made, {len(everything)} listed"
    return result


def _neighbours(context: KitContext, result: GroupResult, total: Any, made: dict[str, str]) -> None:
    """The rules past plain paging: its bounds, several filter values, sort, search, deletes."""
    _pages_at_the_bounds(context, result, total)
    _multi_valued_filter(context, result, made)
    _sorts(context, result)
    _search(context, result)
    _deleted_gone(context, result)


def _pages_at_the_bounds(context: KitContext, result: GroupResult, total: Any) -> None:
    """The pages where paging bugs live: one exactly full page holding every campaign (as far
    as the largest documented ``limit`` allows) and the empty page past the end. Each answer's
    ``has_more`` is judged against its own ``total`` and the items it holds, so traffic of
    others (a fleet on the same server) cannot make the verdict untrue."""
    lister, listing, view = context.view.one("list"), context.view.listing(), context.view
    total_pointer, has_more_pointer = view.total_pointer(), view.has_more_pointer()
    if lister is None or listing is None or not (listing.limit and listing.offset) or not isinstance(total, int):
        return
    if total_pointer is None or has_more_pointer is None or total < 1:
        result.not_applicable(
            "listing.bounds", lister.operation_id, "no total and has_more to judge, or nothing listed"
        )
        return
    schema = next((p.schema for p in lister.parameters_in("query") if p.name == listing.limit), {})
    maximum = schema.get("maximum")
    largest: int = maximum if isinstance(maximum, int) else total
    scenario = Scenario(context)
    for offset, limit, what in ((0, min(total, largest), "an exactly full page"), (total, 1, "the page past the end")):
        exchange = scenario.send(lister, query={listing.limit: limit, listing.offset: offset})
        body, items = exchange.json(), view.campaign_in(lister, exchange.json())
        now_total, has_more = read_pointer(body, total_pointer), read_pointer(body, has_more_pointer)
        if exchange.status >= 300 or not isinstance(items, list) or not isinstance(now_total, int):
            result.failed(
                "listing.bounds", lister.operation_id, f"a page for {what}", exchange.brief(), scenario.steps()
            )
            continue
        truth = offset + len(items) < now_total
        result.check(
            has_more is truth and len(items) <= limit,
            "listing.bounds",
            f"{lister.operation_id} {listing.limit}={limit}&{listing.offset}={offset} ({what})",
            f"has_more {truth} with {len(items)} item(s) at offset {offset} of {now_total}",
            f"has_more {has_more!r}, {len(items)} item(s)",
            scenario.steps()[-1:],
        )


def _listed(context: KitContext, scenario: Scenario, query: dict[str, Any]) -> tuple[list[Any], Any]:
    """Every campaign a query lists, over all its pages, and the total the first page gives."""
    items: list[Any] = []
    total = None
    pointer = context.view.total_pointer()
    for body, page in _pages(context, scenario, query, 50):
        if total is None and pointer is not None:
            total = read_pointer(body, pointer)
        items.extend(page)
    return items, total


def _ids(context: KitContext, items: list[Any]) -> set[str]:
    return {str(item.get(context.view.id_field())) for item in items if isinstance(item, dict)}


def _multi_valued_filter(context: KitContext, result: GroupResult, made: dict[str, str]) -> None:
    """``status=a&status=b``: both states, nothing else, where the filter takes several values."""
    lister, listing = context.view.one("list"), context.view.listing()
    if lister is None or listing is None or listing.status is None:
        return
    parameter = next((p for p in lister.parameters_in("query") if p.name == listing.status), None)
    if parameter is None or parameter.schema.get("type") != "array":
        result.not_applicable("listing.multi-filter", lister.operation_id, "the status filter takes one value")
        return
    states = sorted(set(made.values()))[:2]
    if len(states) < 2:
        result.skipped("listing.multi-filter", lister.operation_id, "the kit made campaigns in one state only")
        return
    value: Any = states if parameter.explode else ",".join(states)
    scenario = Scenario(context)
    items, _ = _listed(context, scenario, {listing.status: value})
    status_field = context.view.lifecycle.status_field
    label = f"{lister.operation_id} {listing.status}={'&'.join(states)}"
    wrong = sorted({str(i.get(status_field)) for i in items if isinstance(i, dict)} - set(states))
    missing = sorted(cid for cid, state in made.items() if state in states and cid not in _ids(context, items))
    result.check(
        not wrong, "listing.multi-filter", label, f"only {' or '.join(states)}", f"also {wrong}", scenario.steps()[-2:]
    )
    result.check(
        not missing,
        "listing.multi-filter",
        label,
        "the kit's campaigns of both states",
        f"missing {missing}",
        scenario.steps()[-2:],
    )


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int | float) and not isinstance(value, bool) else (1, str(value).lower())


def _sorts(context: KitContext, result: GroupResult) -> None:
    """Every documented sort orders the list by its field, ascending, or descending with '-'."""
    lister, listing = context.view.one("list"), context.view.listing()
    if lister is None or listing is None or listing.sort is None:
        return
    parameter = next((p for p in lister.parameters_in("query") if p.name == listing.sort), None)
    values = [str(v) for v in (parameter.schema.get("enum") or []) if v] if parameter is not None else []
    if not values:
        result.skipped("listing.sort", lister.operation_id, f"{listing.sort} names no values (an enum) to try")
        return
    checks = LifecycleChecks(context, context.results[GROUP])
    scenario = Scenario(context)
    made = {
        checks.create(scenario, fields={listing.search_fields[0]: name} if listing.search_fields else None)
        for name in ("kit-sort-b", "kit-sort-a", "kit-sort-c")
    }
    id_field = context.view.id_field()
    for value in values:
        field = value.removeprefix("-")
        descending = value.startswith("-")
        items, _ = _listed(context, scenario, {listing.sort: value})
        # Only the kit's own campaigns are compared: their names are plain lower-case ASCII, so
        # any collation orders them alike (a server may sort other names by its own rules).
        mine = [item for item in items if isinstance(item, dict) and str(item.get(id_field)) in made]
        keys = [_sort_key(item[field]) for item in mine if item.get(field) is not None]
        ordered = sorted(keys, reverse=descending)
        first_wrong = next((i for i, (a, b) in enumerate(zip(keys, ordered, strict=True)) if a != b), -1)
        context.coverage.list_parameters.add(listing.sort)
        result.check(
            keys == ordered,
            "listing.sort",
            f"{lister.operation_id} {listing.sort}={value}",
            f"{field} {'descending' if descending else 'ascending'}",
            f"out of order from item {first_wrong} on",
            scenario.steps()[-1:],
        )


def _search(context: KitContext, result: GroupResult) -> None:
    """The search finds the campaign whose name holds the term, and only such campaigns."""
    lister, listing = context.view.one("list"), context.view.listing()
    if lister is None or listing is None or listing.search is None or not listing.search_fields:
        return
    term = f"kitsearch{secrets.token_hex(4)}"
    scenario = Scenario(context)
    checks = LifecycleChecks(context, context.results[GROUP])
    campaign_id = checks.create(scenario, fields={listing.search_fields[0]: f"Campaign {term.upper()} one"})
    if campaign_id is None:
        result.skipped("listing.search", lister.operation_id, "could not create a campaign to find")
        return
    items, _ = _listed(context, scenario, {listing.search: term})
    context.coverage.list_parameters.add(listing.search)
    label = f"{lister.operation_id} {listing.search}={term}"
    strays = [
        str(item.get(context.view.id_field()))
        for item in items
        if isinstance(item, dict) and not any(term in str(item.get(f) or "").lower() for f in listing.search_fields)
    ]
    result.check(
        campaign_id in _ids(context, items),
        "listing.search",
        label,
        "the campaign holding the term",
        "not listed",
        scenario.steps()[-2:],
    )
    result.check(
        not strays,
        "listing.search",
        label,
        "only campaigns holding the term",
        f"also {strays[:5]}",
        scenario.steps()[-1:],
    )


def _deleted_gone(context: KitContext, result: GroupResult) -> None:
    """A deleted campaign is gone from the list, its filter and the totals, not only from reads."""
    lister, deleter, listing = context.view.one("list"), context.view.one("delete"), context.view.listing()
    if lister is None or deleter is None or listing is None:
        return
    checks = LifecycleChecks(context, context.results[GROUP])
    scenario = Scenario(context)
    campaign_id = checks.create(scenario)
    if campaign_id is None:
        return
    state = context.view.lifecycle.initial
    by_state = {listing.status: state} if listing.status else {}
    _, total_before = _listed(context, scenario, {})
    _, filtered_before = _listed(context, scenario, by_state) if by_state else (None, None)
    gone = scenario.send(deleter, path_values=checks.path_values(deleter, campaign_id))
    if gone.status != deleter.success_status():
        return  # lifecycle.delete judges the delete itself
    everything, total_after = _listed(context, scenario, {})
    filtered, filtered_after = _listed(context, scenario, by_state) if by_state else ([], None)
    label = f"{lister.operation_id} after {deleter.operation_id}"
    result.check(
        campaign_id not in _ids(context, everything) | _ids(context, filtered),
        "listing.deleted-gone",
        label,
        f"the deleted campaign {campaign_id} in no list",
        "still listed",
        scenario.steps()[-4:],
    )
    for before, after, what in (
        (total_before, total_after, "total"),
        (filtered_before, filtered_after, f"total of {state}"),
    ):
        if isinstance(before, int) and isinstance(after, int):
            result.check(
                after == before - 1,
                "listing.deleted-gone",
                label,
                f"the {what} one less ({before - 1})",
                f"{after}",
                scenario.steps()[-4:],
            )
