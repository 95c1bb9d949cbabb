"""``listing``, as vendors list: a sort direction that really turns the order around, and
answers cut to the members a client names (field projection).

Rules: ``listing.sort-dir`` (the kit's three campaigns listed ascending, then descending: the
second is the first turned around, and by the order's member where it has one),
``listing.sort-dir-refused`` (a word that is no direction is a 400/422 naming the words),
``listing.fields`` and ``listing.exclude-fields`` (a projected answer holds exactly what
``contract.projection`` cuts from the whole answer; a read keeps the ETag of the whole).
The list is read through the caller's ``Listed`` so paging stays in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from campaign_mock.conformance.context import KitContext, Scenario
from campaign_mock.conformance.groups.lifecycle import LifecycleChecks
from campaign_mock.conformance.results import GroupResult
from campaign_mock.contract.listing import Listing
from campaign_mock.contract.operations import Operation
from campaign_mock.contract.projection import Projection, project, projection_of

Listed = Callable[[Scenario, dict[str, Any]], list[Any]]
"""Every item a query lists, across its pages."""
NOT_A_DIRECTION = "sideways"


def check_styles(context: KitContext, result: GroupResult, listed: Listed) -> None:
    _sort_directions(context, result, listed)
    _projections(context, result)
    _member_filters(context, result, listed)


def _member_filters(context: KitContext, result: GroupResult, listed: Listed) -> None:
    """``listing.member-filter``: a ``filters`` parameter lists the kit's campaign by the value
    its member has, and nothing whose member differs."""
    lister, listing = context.view.one("list"), context.view.listing()
    if lister is None or listing is None or not listing.filters:
        if lister is not None:
            result.not_applicable("listing.member-filter", lister.operation_id, "the list declares no filters")
        return
    checks = LifecycleChecks(context, result)
    scenario = Scenario(context)
    campaign_id = checks.create(scenario)
    campaign = checks.read_campaign(scenario, campaign_id) if campaign_id is not None else None
    if campaign is None:
        result.skipped("listing.member-filter", lister.operation_id, "could not create and read a campaign")
        return
    id_field = context.view.id_field()
    for parameter, member in listing.filters:
        value = campaign.get(member)
        if value is None or isinstance(value, dict | list):
            result.skipped(
                "listing.member-filter", f"{lister.operation_id} {parameter}", f"{member} has no plain value"
            )
            continue
        word = str(value).lower() if isinstance(value, bool) else str(value)
        context.coverage.list_parameters.add(parameter)
        items = listed(scenario, {parameter: word})
        strays = [i.get(id_field) for i in items if isinstance(i, dict) and str(i.get(member)).lower() != word.lower()]
        found = any(isinstance(i, dict) and str(i.get(id_field)) == campaign_id for i in items)
        result.check(
            found and not strays,
            "listing.member-filter",
            f"{lister.operation_id} {parameter}={word}",
            f"the kit's campaign ({member} {word!r}) and only campaigns whose {member} is {word!r}",
            f"{'listed' if found else 'missing'}; {len(strays)} other(s): {strays[:5]}",
            scenario.steps()[-2:],
        )
        other = _another_value(lister, parameter, word)
        if other is not None:
            items = listed(scenario, {parameter: other})
            shown = any(isinstance(i, dict) and str(i.get(id_field)) == campaign_id for i in items)
            result.check(
                not shown,
                "listing.member-filter",
                f"{lister.operation_id} {parameter}={other}",
                f"not the kit's campaign, whose {member} is {word!r}",
                "listed",
                scenario.steps()[-2:],
            )


def _another_value(lister: Operation, parameter: str, word: str) -> str | None:
    """A value the filter's schema allows other than ``word`` (its enum's), else None."""
    schema: Mapping[str, Any] = next((p.schema for p in lister.parameters_in("query") if p.name == parameter), {})
    inner = schema.get("items")
    values = (inner if isinstance(inner, Mapping) else schema).get("enum") or []
    return next((str(value) for value in values if str(value) != word), None)


def named_member(context: KitContext, listing: Listing) -> str | None:
    """The member the kit writes a recognisable name into, where a create takes it."""
    name = listing.search_fields[0] if listing.search_fields else None
    return name if name is not None and context.view.create_takes(name) else None


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int | float) and not isinstance(value, bool) else (1, str(value).lower())


def _sorted_by(lister: Operation, listing: Listing) -> tuple[str | None, dict[str, Any]]:
    """The member the direction turns (the first documented sort value, else the declared
    order; None: creation order) and the query that picks it."""
    if listing.sort:
        parameter = next((p for p in lister.parameters_in("query") if p.name == listing.sort), None)
        values = [str(v).removeprefix("-") for v in (parameter.schema.get("enum") or []) if v] if parameter else []
        if values:
            return values[0], {listing.sort: values[0]}
    return (listing.order[0] if listing.order else None), {}


def _sort_directions(context: KitContext, result: GroupResult, listed: Listed) -> None:
    lister, listing = context.view.one("list"), context.view.listing()
    if lister is None or listing is None:
        return
    if listing.sort_dir is None:
        result.not_applicable(
            "listing.sort-dir", lister.operation_id, "the list takes no direction (x-operation.sort_dir_param)"
        )
        return
    checks = LifecycleChecks(context, result)
    scenario = Scenario(context)
    name = named_member(context, listing)
    made = [checks.create(scenario, fields={name: f"kit-dir-{n}"} if name else None) for n in "bac"]
    mine = [campaign_id for campaign_id in made if campaign_id is not None]
    if len(mine) < len(made):
        result.skipped("listing.sort-dir", lister.operation_id, "could not create campaigns to order")
        return
    member, base = _sorted_by(lister, listing)
    id_field = context.view.id_field()
    orders: dict[str, list[dict[str, Any]]] = {}
    for word in listing.direction_words():
        context.coverage.list_parameters.add(listing.sort_dir)
        items = listed(scenario, {**base, listing.sort_dir: word})
        orders[word] = [i for i in items if isinstance(i, dict) and str(i.get(id_field)) in mine]
    (up_word, up), (down_word, down) = orders.items()
    label = f"{lister.operation_id} {' '.join(f'{k}={v}' for k, v in base.items())} {listing.sort_dir}=..."
    shown = {word: [str(i.get(id_field)) for i in items] for word, items in orders.items()}
    keys = {
        word: [_sort_key(i[member]) for i in items if member and i.get(member) is not None]
        for word, items in orders.items()
    }
    whole = all(len(keys[word]) == len(mine) for word in orders) if member else True
    by = member or "creation order"
    result.check(
        len(up) == len(down) == len(mine)
        and keys[up_word] == sorted(keys[up_word])
        and keys[down_word] == sorted(keys[down_word], reverse=True)
        and (not whole or shown[down_word] == shown[up_word][::-1]),
        "listing.sort-dir",
        label,
        f"the kit's {len(mine)} campaigns by {by}: {up_word} ascending, {down_word} the same turned around",
        f"{up_word}: {shown[up_word]}, {down_word}: {shown[down_word]}",
        scenario.steps()[-2:],
    )
    _refused_direction(context, result, lister, listing, base)


def _refused_direction(
    context: KitContext, result: GroupResult, lister: Operation, listing: Listing, base: dict[str, Any]
) -> None:
    """A word that is no direction is refused (400 or 422), and the answer names the words."""
    scenario = Scenario(context)
    exchange = scenario.send(lister, query={**base, str(listing.sort_dir): NOT_A_DIRECTION})
    text = exchange.response_body.decode("utf-8", "replace")
    words = listing.direction_words()
    result.check(
        exchange.status in (400, 422) and all(word in text for word in words),
        "listing.sort-dir-refused",
        f"{lister.operation_id} {listing.sort_dir}={NOT_A_DIRECTION}",
        f"400 or 422 naming {' and '.join(words)}",
        exchange.brief(),
        scenario.steps()[-1:],
    )


def _prefix(context: KitContext, operation: Operation) -> str:
    """The dot path of the operation's subject (campaign or items) in its answer."""
    pointer = context.view.campaign_pointer(operation) or ""
    return "".join(f"{segment}." for segment in pointer.split("/") if segment)


def _header(exchange: Any, name: str) -> str | None:
    headers: Mapping[str, str] = exchange.response_headers
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


def _projections(context: KitContext, result: GroupResult) -> None:
    view = context.view
    operations = [op for op in (view.one("get"), view.one("list")) if op is not None]
    cutting = [(op, projection_of(op.extension)) for op in operations]
    if not any(projection for _, projection in cutting):
        result.not_applicable("listing.fields", "-", "no read names a fields_param or exclude_fields_param")
        return
    checks = LifecycleChecks(context, result)
    scenario = Scenario(context)
    campaign_id = checks.create(scenario)
    if campaign_id is None:
        result.skipped("listing.fields", "-", "could not create a campaign to read")
        return
    for operation, projection in cutting:
        if projection is not None:
            _projected(context, result, scenario, operation, projection, checks.path_values(operation, campaign_id))


def _projected(
    context: KitContext,
    result: GroupResult,
    scenario: Scenario,
    operation: Operation,
    projection: Projection,
    path_values: dict[str, str],
) -> None:
    """The whole answer, then cut: what comes back is exactly the contract's cut of the whole
    (a list is read at the kit's campaign's filter and first page; others' writes may move it,
    so a list is judged twice before it is blamed)."""
    view = context.view
    prefix = _prefix(context, operation)
    status_field = view.lifecycle.status_field
    whole = scenario.send(operation, path_values=path_values)
    body = whole.json()
    subject = view.campaign_in(operation, body)
    campaign = subject[0] if isinstance(subject, list) and subject else subject
    members = [m for m in (campaign or {}) if m not in (view.id_field(), status_field)]
    asks: list[tuple[str, str, str | None, str | None]] = []
    if projection.fields:
        asked = f"{prefix}{view.id_field()},{prefix}{status_field}"
        asks.append(("listing.fields", projection.fields, asked, None))
    if projection.exclude and members:
        asks.append(("listing.exclude-fields", projection.exclude, None, f"{prefix}{members[0]}"))
    for rule, parameter, fields, exclude in asks:
        value = fields if fields is not None else exclude
        context.coverage.list_parameters.add(parameter)
        for attempt in range(2):
            cut = scenario.send(operation, path_values=path_values, query={parameter: value})
            expected = project(body, fields, exclude)
            if cut.json() == expected or attempt:
                break
            whole = scenario.send(operation, path_values=path_values)  # another writer may have moved it
            body = whole.json()
        label = f"{operation.operation_id} {parameter}={value}"
        result.check(
            cut.status < 300 and cut.json() == expected,
            rule,
            label,
            f"exactly the whole answer cut by {parameter}: {str(expected)[:200]}",
            f"{cut.status} {str(cut.json())[:200]}",
            scenario.steps()[-2:],
        )
        tag = _header(whole, "ETag")
        if tag is not None and operation.kind != "list":
            result.check(
                _header(cut, "ETag") == tag,
                rule,
                label,
                f"the ETag of the whole campaign ({tag})",
                f"{_header(cut, 'ETag')}",
                scenario.steps()[-2:],
            )
