"""``listing``: the list operation's filter, limit/offset, total and has_more tell the truth.

Past 300 lines: the rules share one way to page and one guard against other writers; the
vendor styles (sort direction, projection) live in ``listing_styles``.

The kit creates campaigns in different states, then pages through filtered lists and
compares them with what it made (other campaigns may exist; only inclusion is required
of them, exactness of the ones the kit made).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from campaign_mock.conformance.context import KitContext, Scenario
from campaign_mock.conformance.groups.lifecycle import LifecycleChecks
from campaign_mock.conformance.groups.listing_styles import check_styles, named_member
from campaign_mock.conformance.results import GroupResult
from campaign_mock.contract import envelopes
from campaign_mock.contract.listing import Listing, listing_of, page_value
from campaign_mock.contract.operations import Operation
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
    if listing.style == "cursor" and listing.cursor and listing.limit:
        # the first page takes no token; later ones the token the page before gave
        return {listing.limit: limit, **({listing.cursor: after} if isinstance(after, str) else {})}
    if listing.limit and listing.offset:
        return {listing.limit: limit, listing.offset: offset}
    return {}


def _pages(
    context: KitContext, scenario: Scenario, query: dict[str, Any], limit: int
) -> Iterator[tuple[Any, list[Any]]]:
    lister, listing = context.view.one("list"), context.view.listing()
    if lister is None or listing is None:
        return
    offset = 0
    after_value: Any = 0  # the keyset's last id, or the cursor's next token
    for _ in range(MAX_PAGES):
        paging = _page_query(listing, offset, limit, after_value)
        context.coverage.list_parameters.update(query, paging)
        exchange = scenario.send(lister, query={**query, **paging})
        items = context.view.campaign_in(lister, exchange.json())
        if exchange.status >= 300 or not isinstance(items, list):
            return
        yield exchange.json(), items
        if listing.style == "cursor":
            after_value = _next_cursor(lister, exchange.json())
            if after_value is None:
                return
            continue
        if not paging or len(items) < limit:
            return
        offset += len(items)
        last = items[-1] if isinstance(items[-1], dict) else {}
        after_value = last.get(context.view.id_field(), after_value)


def _next_cursor(lister: Operation, body: Any) -> str | None:
    """The token of the next page, where the envelope gives it (``$next_cursor``); None: the last."""
    pointer = envelopes.pointer_to(lister.envelope, envelopes.NEXT_CURSOR)
    token = read_pointer(body, pointer) if pointer is not None else None
    return token if isinstance(token, str) and token else None


def run(context: KitContext) -> GroupResult:
    result = context.start(GROUP)
    view = context.view
    lister = view.one("list")
    if lister is None:
        result.not_applicable("listing.filter", "-", "the spec has no list operation")
        _events_paging(context, result)
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
    # more campaigns than a page holds, so paging is judged across pages on an empty server too
    more = Scenario(context)
    for _ in range(PAGE_SIZE + 1 - len(made)):
        campaign_id = checks.create(more)
        if campaign_id is not None:
            made[campaign_id] = view.lifecycle.initial
    listing = view.listing()
    status_name = listing.status if listing else None
    scenario = Scenario(context)
    if status_name is None:
        result.not_applicable("listing.filter", lister.operation_id, "no status filter parameter")
    else:
        for state in sorted(set(made.values())):
            asked = (status_name, _spelling(listing, state))
            _judge_filter(context, result, scenario, made, "listing.filter", asked, state)
        _status_spellings(context, result, scenario, checks, made)
    if listing is None or not _page_query(listing, 0, PAGE_SIZE):
        result.not_applicable("listing.paging", lister.operation_id, "no paging parameters")
        return result
    if status_name is not None:  # total, has_more and paging under every filter, not only the whole list
        for state in sorted(set(made.values())):
            mine = {cid: st for cid, st in made.items() if st == state}
            spelled = {status_name: _spelling(listing, state)}
            measure = partial(_paging_findings, context, lister, listing, mine, spelled)
            filtered, _ = confirmed(context, measure)
            record(result, filtered, f"the {state} list changed while the kit paged it")
    findings, first_total = confirmed(context, lambda: _paging_findings(context, lister, listing, made))
    record(result, findings, "the list changed while the kit paged it")
    _neighbours(context, result, first_total, made)
    result.summary = f"{len(made)} campaigns made, {first_total} listed"
    return result


def _spelling(listing: Listing | None, state: str) -> str:
    """How the status filter names ``state`` (``x-operation.status_values``, else the state)."""
    return listing.filter_value(state) if listing is not None else state


def _judge_filter(
    context: KitContext,
    result: GroupResult,
    scenario: Scenario,
    made: dict[str, str],
    rule: str,
    asked: tuple[str, str],
    state: str,
) -> None:
    """The list under one status filter value holds only ``state`` campaigns, and all of the
    kit's campaigns in that state."""
    lister = context.view.one("list")
    if lister is None:
        return
    id_field, status_field = context.view.id_field(), context.view.lifecycle.status_field
    name, value = asked
    seen: list[Any] = []
    for _, items in _pages(context, scenario, {name: value}, 50):
        seen.extend(items)
    label = f"{lister.operation_id} {name}={value}"
    wrong = [item.get(status_field) for item in seen if isinstance(item, dict) and item.get(status_field) != state]
    result.check(
        not wrong,
        rule,
        label,
        f"only {state!r} campaigns",
        f"also {sorted(set(map(str, wrong)))}",
        scenario.steps()[-3:],
    )
    listed = {str(item.get(id_field)) for item in seen if isinstance(item, dict)}
    missing = [cid for cid, st in made.items() if st == state and cid not in listed]
    result.check(
        not missing, rule, label, f"the kit's {state} campaign(s) listed", f"missing {missing}", scenario.steps()[-3:]
    )


def _status_spellings(
    context: KitContext, result: GroupResult, scenario: Scenario, checks: LifecycleChecks, made: dict[str, str]
) -> None:
    """Every spelling of ``x-operation.status_values`` lists the campaigns in the state it maps
    to, and only those (the kit brings a campaign into that state first)."""
    lister, listing = context.view.one("list"), context.view.listing()
    if lister is None or listing is None or listing.status is None:
        return
    spellings = [(word, stored) for word, stored in listing.status_values.items() if word != stored]
    if not spellings:
        result.not_applicable("listing.status-values", lister.operation_id, "no status_values spell a state otherwise")
        return
    plans = checks.plans()
    for word, stored in spellings:
        if stored not in made.values() and stored in plans:
            reached = checks.reach(plans[stored], stored)
            if reached is not None:
                made[reached[1]] = stored
        if stored not in made.values():
            result.skipped("listing.status-values", lister.operation_id, f"could not bring a campaign into {stored}")
            continue
        _judge_filter(context, result, scenario, made, "listing.status-values", (listing.status, word), stored)


Finding = tuple[bool, str, str, str, str, tuple[str, ...]]
"""(ok, rule, operation, expected, received, steps): a check measured, not yet recorded."""
ATTEMPTS = 4


def confirmed(
    context: KitContext, measure: Callable[[], tuple[list[Finding], Any]]
) -> tuple[list[Finding] | None, Any]:
    """Findings another writer cannot fake. A measurement counts only when the campaigns the kit
    did not make were the same before and after it (read from the list itself); then one with
    no failure is taken at once, one with failures only when the next steady one fails alike (a
    server's bug repeats, a passing writer's trace does not). None when no measurement could be
    trusted in ``ATTEMPTS`` (the list kept moving)."""
    previous: list[Finding] | None = None
    value: Any = None
    for _ in range(ATTEMPTS):
        before = _foreign(context)
        findings, value = measure()
        if _foreign(context) != before:
            previous = None
            continue
        if all(finding[0] for finding in findings):
            return findings, value
        if previous is not None and _failures(previous) == _failures(findings):
            return findings, value
        previous = findings
    return None, value


def _foreign(context: KitContext) -> set[str]:
    """The ids the list shows that the kit did not make: what only another writer can change."""
    items, _ = _listed(context, Scenario(context), {})
    return _ids(context, items) - _made_by_the_kit(context)


def _made_by_the_kit(context: KitContext) -> set[str]:
    made: set[str] = set()
    for exchange in list(context.target.exchanges):
        operation = exchange.operation
        if operation is None or operation.kind != "create" or exchange.status >= 300:
            continue
        campaign = context.view.campaign_in(operation, exchange.json())
        if isinstance(campaign, dict) and campaign.get(context.view.id_field()) is not None:
            made.add(str(campaign[context.view.id_field()]))
    return made


def _failures(findings: list[Finding]) -> set[tuple[str, str]]:
    """The rules a measurement broke, without figures or ids (each try makes its own campaign)."""
    return {(rule, operation) for ok, rule, operation, *_ in findings if not ok}


def record(result: GroupResult, findings: list[Finding] | None, unstable: str) -> None:
    """Record confirmed findings; unconfirmed ones are "not checked", with why."""
    if findings is None:
        result.skipped(
            "listing.total",
            "-",
            f"{unstable} (other traffic on the target), in {ATTEMPTS} tries; give the kit a sandbox (--sandbox)",
        )
        return
    for ok, rule, operation, expected, received, steps in findings:
        result.check(ok, rule, operation, expected, received, steps)


def _paging_findings(
    context: KitContext,
    lister: Operation,
    listing: Listing,
    made: dict[str, str],
    query: dict[str, Any] | None = None,
) -> tuple[list[Finding], Any]:
    """Every page of the whole list, judged: page sizes, has_more against each answer's own
    total, the total against the items counted, no repeats, the kit's campaigns all listed."""
    view = context.view
    scenario = Scenario(context)
    name = lister.operation_id + "".join(f" {key}={value}" for key, value in (query or {}).items())
    findings: list[Finding] = []
    paging_label = " ".join(f"{name}={value}" for name, value in _page_query(listing, 0, PAGE_SIZE).items())
    everything: list[Any] = []
    totals: list[Any] = []
    total_pointer, has_more_pointer = view.total_pointer(), view.has_more_pointer()
    for body, items in _pages(context, scenario, dict(query or {}), PAGE_SIZE):
        offset = len(everything)
        if listing.style == "cursor" and offset and not items:
            findings.append(
                (
                    False,
                    "listing.paging",
                    f"{lister.operation_id} {paging_label}",
                    "the last page's next token null (no empty page after it)",
                    f"an empty page after {offset} item(s)",
                    scenario.steps()[-2:],
                )
            )
        everything.extend(items)
        totals.append(read_pointer(body, total_pointer) if total_pointer is not None else None)
        findings.append(
            (
                len(items) <= PAGE_SIZE,
                "listing.paging",
                f"{lister.operation_id} {paging_label}",
                f"at most {PAGE_SIZE} items",
                f"{len(items)}",
                scenario.steps()[-1:],
            )
        )
        has_more = read_pointer(body, has_more_pointer) if has_more_pointer is not None else None
        total = totals[-1]
        if isinstance(has_more, bool) and isinstance(total, int):
            truth = offset + len(items) < total
            findings.append(
                (
                    has_more == truth,
                    "listing.has-more",
                    name,
                    f"has_more {truth} after {offset + len(items)} of {total}",
                    f"{has_more}",
                    scenario.steps()[-1:],
                )
            )
    if totals and all(isinstance(total, int) for total in totals):
        findings.append(
            (
                totals[0] == len(everything),
                "listing.total",
                name,
                f"total {len(everything)} (the items across all pages)",
                f"{totals[0]}",
                scenario.steps()[-1:],
            )
        )
    ids = [str(item.get(view.id_field())) for item in everything if isinstance(item, dict)]
    findings.append(
        (
            len(ids) == len(set(ids)),
            "listing.paging",
            name,
            "no campaign twice across pages",
            f"{len(ids) - len(set(ids))} repeated",
            scenario.steps()[-2:],
        )
    )
    findings.append(
        (
            set(made) <= set(ids),
            "listing.paging",
            name,
            "every campaign the kit made appears on some page",
            f"missing {sorted(set(made) - set(ids))}",
            scenario.steps()[-2:],
        )
    )
    return findings, totals[0] if totals else None


def _neighbours(context: KitContext, result: GroupResult, total: Any, made: dict[str, str]) -> None:
    """The rules past plain paging: its bounds, several filter values, sort, search, deletes."""
    _pages_at_the_bounds(context, result, total)
    _multi_valued_filter(context, result, made)
    _sorts(context, result)
    _default_order(context, result)
    check_styles(context, result, lambda scenario, query: _listed(context, scenario, query)[0])
    _events_paging(context, result)
    _search(context, result)
    _deleted_gone(context, result)


def _pages_at_the_bounds(context: KitContext, result: GroupResult, total: Any) -> None:
    """The pages where paging bugs live: one exactly full page holding every campaign (as far
    as the largest documented ``limit`` allows), the empty page past the end, and the largest
    and smallest ``limit`` the contract documents, which must be taken. Each answer's
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
    bounds = [(0, min(total, largest), "an exactly full page"), (total, 1, "the page past the end")]
    if isinstance(maximum, int) and maximum != min(total, largest):
        bounds.append((0, maximum, f"the largest documented {listing.limit}"))
    minimum = schema.get("minimum")
    if isinstance(minimum, int) and minimum >= 1:
        bounds.append((0, minimum, f"the smallest documented {listing.limit}"))
    for offset, limit, what in bounds:
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
    spelled = [listing.filter_value(state) for state in states]
    value: Any = spelled if parameter.explode else ",".join(spelled)
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


EVENTS_PAGE = 2


def _events_paging(context: KitContext, result: GroupResult) -> None:
    """The history pages like any list: a campaign moved four times, read two events a page,
    shows every event once, in the order of the whole history."""
    view = context.view
    events = view.one("events")
    if events is None:
        return
    names = {parameter.name for parameter in events.parameters_in("query")}
    paging = listing_of(events.extension, names, view.lifecycle.status_field)
    if not (paging.limit and paging.offset):
        result.not_applicable("listing.events-paging", events.operation_id, "the history takes no limit/offset")
        return
    checks = LifecycleChecks(context, context.results[GROUP])
    scenario = Scenario(context)
    campaign_id = checks.create(scenario)
    if campaign_id is None:
        return
    state: Any = view.lifecycle.initial
    for _ in range(4):
        lifecycle = view.lifecycle
        action = next(
            (
                a
                for a in lifecycle.allowed_actions(str(state))
                if view.transition(a) is not None and not lifecycle.is_terminal(lifecycle.transitions[a].target)
            ),
            None,
        )
        moved = checks.act(scenario, action, campaign_id) if action is not None else None
        if moved is None or moved.status >= 300:
            break
        state, _ = checks.read_status(scenario, campaign_id)
    whole = checks.read_events(scenario, campaign_id)
    if whole is None or len(whole) < EVENTS_PAGE + 1:
        result.skipped("listing.events-paging", events.operation_id, "could not make a history longer than a page")
        return
    paged: list[Any] = []
    for offset in range(0, len(whole) + EVENTS_PAGE, EVENTS_PAGE):
        page = scenario.send(
            events,
            path_values=checks.path_values(events, campaign_id),
            query={paging.limit: EVENTS_PAGE, paging.offset: offset},
        )
        items = view.campaign_in(events, page.json())
        if page.status >= 300 or not isinstance(items, list):
            break
        paged.extend(items)
    result.check(
        paged == whole,
        "listing.events-paging",
        f"{events.operation_id} {paging.limit}={EVENTS_PAGE}&{paging.offset}=0,{EVENTS_PAGE},...",
        f"the {len(whole)} events of the whole history, each once, in order",
        f"{len(paged)} events: {[e.get('action') if isinstance(e, dict) else e for e in paged]}"[:300],
        scenario.steps()[-3:],
    )


def _default_order(context: KitContext, result: GroupResult) -> None:
    """Without a sort, the list keeps the order the contract declares (``x-operation.order``):
    three campaigns made one after another, the first then written to (so an order by the last
    write shows), are listed in that member's order."""
    lister, listing = context.view.one("list"), context.view.listing()
    if lister is None or listing is None or listing.order is None:
        if lister is not None:
            result.not_applicable(
                "listing.order", lister.operation_id, "the list declares no order (x-operation.order)"
            )
        return
    field, descending = listing.order
    checks = LifecycleChecks(context, context.results[GROUP])
    scenario = Scenario(context)
    made = [checks.create(scenario) for _ in range(3)]
    mine = [campaign_id for campaign_id in made if campaign_id is not None]
    if len(mine) < 3:
        result.skipped("listing.order", lister.operation_id, "could not create campaigns to order")
        return
    if context.view.lifecycle.may_update(context.view.lifecycle.initial):
        checks.update(scenario, mine[0])
    items, _ = _listed(context, scenario, {})
    id_field = context.view.id_field()
    listed = [item for item in items if isinstance(item, dict) and str(item.get(id_field)) in mine]
    keys = [_sort_key(item.get(field)) for item in listed if item.get(field) is not None]
    label = f"{lister.operation_id} (no sort)"
    result.check(
        len(listed) == 3 and keys == sorted(keys, reverse=descending),
        "listing.order",
        label,
        f"the kit's campaigns by {field} {'descending' if descending else 'ascending'} (x-operation.order)",
        ", ".join(f"{item.get(id_field)}: {item.get(field)}" for item in listed),
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
    member = named_member(context, listing)
    made = {
        checks.create(scenario, fields={member: name} if member else None)
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
    """A deleted campaign is gone from the list, its filter and the totals, not only from reads
    (measured again before it blames: another writer moves totals too)."""
    lister, deleter, listing = context.view.one("list"), context.view.one("delete"), context.view.listing()
    if lister is None or deleter is None or listing is None:
        return
    findings, _ = confirmed(context, lambda: (_deletion_findings(context, lister, deleter, listing), None))
    record(result, findings, "the totals moved while the kit deleted a campaign")


def _deletion_findings(context: KitContext, lister: Operation, deleter: Operation, listing: Listing) -> list[Finding]:
    checks = LifecycleChecks(context, context.results[GROUP])
    scenario = Scenario(context)
    campaign_id = checks.create(scenario)
    if campaign_id is None:
        return []
    state = context.view.lifecycle.initial
    by_state = {listing.status: state} if listing.status else {}
    _, total_before = _listed(context, scenario, {})
    _, filtered_before = _listed(context, scenario, by_state) if by_state else (None, None)
    gone = scenario.send(deleter, path_values=checks.path_values(deleter, campaign_id))
    if gone.status != deleter.success_status():
        return []  # lifecycle.delete judges the delete itself
    everything, total_after = _listed(context, scenario, {})
    filtered, filtered_after = _listed(context, scenario, by_state) if by_state else ([], None)
    label = f"{lister.operation_id} after {deleter.operation_id}"
    findings: list[Finding] = [
        (
            campaign_id not in _ids(context, everything) | _ids(context, filtered),
            "listing.deleted-gone",
            label,
            f"the deleted campaign {campaign_id} in no list",
            "still listed",
            scenario.steps()[-4:],
        )
    ]
    for before, after, what in (
        (total_before, total_after, "total"),
        (filtered_before, filtered_after, f"total of {state}"),
    ):
        if isinstance(before, int) and isinstance(after, int):
            findings.append(
                (
                    after == before - 1,
                    "listing.deleted-gone",
                    label,
                    f"the {what} one less after the delete",
                    f"changed by {after - before:+d}",
                    scenario.steps()[-4:],
                )
            )
    return findings
