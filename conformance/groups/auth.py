"""``auth``: every secured operation refuses missing, malformed and wrong credentials.

Each refusal must answer the documented status (401 unless the spec documents only 403)
with a documented error body, and a challenge header where the spec documents one.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from campaign_mock.conformance.context import KitContext, Scenario
from campaign_mock.conformance.groups.common import fresh_campaign, request_parts
from campaign_mock.conformance.groups.lifecycle import LifecycleChecks
from campaign_mock.conformance.results import GroupResult
from campaign_mock.conformance.target import credential_for
from campaign_mock.conformance.vendor_codes import judge_code
from campaign_mock.contract.operations import Contract, Operation, security_schemes
from campaign_mock.contract.security import Security
from campaign_mock.contract.timefmt import parse_moment

GROUP = "auth"
MALFORMED = {
    "bearer": {"Authorization": "Basic bm90OmFrZXk="},  # another scheme's credentials
    "basic": {"Authorization": "Basic !!not-base64!!"},  # credentials no server can decode
}
"""Credentials of the right header but the wrong form, per kind of scheme."""


def run(context: KitContext) -> GroupResult:
    result = context.start(GROUP)
    setup = Scenario(context)
    campaign_id = fresh_campaign(context, setup)
    wrong_key = f"wrong-{secrets.token_hex(8)}"
    checked = 0
    for operation in context.view.contract.operations:
        credential = credential_for(context.view.contract, operation)
        if credential is None:
            result.not_applicable("auth.refused", operation.operation_id, "the operation is not secured")
            continue
        expected = refusal_status(operation)
        malformed = MALFORMED.get(credential.kind)
        variants: list[tuple[str, dict[str, object]]] = [
            ("without credentials", {"key": None}),
            ("with a wrong key", {"key": wrong_key}),
            *near_misses(context.target.api_key),
        ]
        if malformed is not None:
            variants.append(("with malformed credentials", {"key": None, "auth_override": malformed}))
        elif credential.kind == "header":
            variants.append(("with an empty key header", {"key": None, "auth_override": {credential.name: ""}}))
        for label, auth in variants:
            scenario = Scenario(context)
            scenario.exchanges.extend(setup.exchanges)
            exchange = scenario.send(operation, **request_parts(context, operation, campaign_id), **auth)
            where = f"{operation.operation_id} {label}"
            checked += 1
            if not result.check(
                exchange.status == expected,
                "auth.refused",
                where,
                f"{expected}",
                exchange.brief(),
                scenario.steps(),
            ):
                continue
            if expected == 401:
                judge_code(result, context.view.contract.document, "unauthorized", exchange, where, scenario.steps())
            response = operation.responses.get(str(expected))
            for header in response.headers if response else ():
                result.check(
                    header in exchange.response_headers,
                    "auth.challenge",
                    where,
                    f"the documented {header} header",
                    ", ".join(exchange.response_headers) or "no headers",
                    scenario.steps(),
                )
            media_types = context.view.media_types(operation, expected)
            problems = (
                context.view.body_problems(operation, expected, exchange.content_type, exchange.json())
                if exchange.content_type in media_types
                else [f"Content-Type {exchange.content_type!r} is not documented ({', '.join(media_types)})"]
            )
            if media_types:
                result.check(
                    not problems,
                    "auth.error-body",
                    where,
                    "a documented error body",
                    "; ".join(problems),
                    scenario.steps(),
                )
    checked += _check_documented_places(context, result, setup, campaign_id)
    checked += _check_head(context, result, setup, campaign_id)
    checked += _check_undocumented_places(context, result, setup, campaign_id)
    isolation = _check_tenancy(context, result, setup, campaign_id)
    result.summary = f"{checked} refusals tried" + (f", {isolation} tenancy probes" if isolation else "")
    return result


def refusal_status(operation: Operation) -> int:
    """The status a request without valid credentials meets: 401, or 403 where only that is documented."""
    return 401 if "401" in operation.responses or "403" not in operation.responses else 403


def _check_documented_places(context: KitContext, result: GroupResult, setup: Scenario, campaign_id: str | None) -> int:
    """The valid key works in every place the contract names, each alone: every security
    alternative of the read and the create, and the body member ``x-token-field`` names on an
    operation that takes a JSON body. A server that honours only the first place fails a
    client that was told it may use another."""
    key, document = context.target.api_key, context.view.contract.document
    if not key:
        return 0
    security = Security.of(document)
    token_field = document.get("x-token-field")
    tried = 0
    for operation in (context.view.one("get"), context.view.one("create")):
        if operation is None:
            continue
        parts = request_parts(context, operation, campaign_id)
        places: list[tuple[str, dict[str, Any]]] = []
        for requirement in security.alternatives(operation.security) or []:
            headers: dict[str, str] = {}
            query: dict[str, Any] = {}
            for placement in requirement:
                placement.apply(key, headers, query)
            where = " + ".join(f"{p.kind} {p.name}" if p.kind in ("header", "query") else p.kind for p in requirement)
            places.append((where, {"auth_override": headers, "query": {**parts.get("query", {}), **query}}))
        if token_field and isinstance(parts.get("json_body"), dict):
            body = {**parts["json_body"], str(token_field): key}
            places.append((f'the body member "{token_field}"', {"json_body": body}))
        if len(places) < 2:
            continue  # one place: every other rule already sends the key there
        for where, carried in places:
            scenario = Scenario(context)
            scenario.exchanges.extend(setup.exchanges)
            exchange = scenario.send(operation, key=None, **{**parts, **carried})
            tried += 1
            result.check(
                exchange.status == operation.success_status(),
                "auth.accepted-where-documented",
                f"{operation.operation_id} with the key in {where} only",
                f"{operation.success_status()} (the contract names that place)",
                exchange.brief(),
                scenario.steps(),
            )
    return tried


def _check_head(context: KitContext, result: GroupResult, setup: Scenario, campaign_id: str | None) -> int:
    """HEAD is GET without the body (RFC 9110 9.3.2): on a secured read it is refused without
    credentials as the read is (or 405 where the server has no HEAD), never answered."""
    tried = 0
    for operation in context.view.contract.operations:
        if operation.method.upper() != "GET" or credential_for(context.view.contract, operation) is None:
            continue
        expected = refusal_status(operation)
        scenario = Scenario(context)
        scenario.exchanges.extend(setup.exchanges)
        exchange = scenario.send(operation, method="HEAD", key=None, **request_parts(context, operation, campaign_id))
        tried += 1
        result.check(
            exchange.status in (expected, 405),
            "auth.refused",
            f"HEAD {operation.operation_id} without credentials",
            f"{expected} (as the GET), or 405",
            f"{exchange.status}",
            scenario.steps(),
        )
    return tried


def near_misses(key: str | None) -> list[tuple[str, dict[str, object]]]:
    """Keys one edit away from the valid one: a server that compares prefixes, trims or folds
    case accepts one of them."""
    if not key:
        return []
    misses = [
        ("with the valid key and one character more", key + "x"),
        ("with the valid key less its last character", key[:-1]),
        ("with the valid key and a suffix after a dash", key + "-revoked"),
    ]
    if key.swapcase() != key:
        misses.append(("with the valid key in the other case", key.swapcase()))
    return [(label, {"key": value}) for label, value in misses if value]


QUERY_NAMES = ("api_key", "apikey", "key", "access_token", "token")
HEADER_NAMES = ("X-API-Key", "Api-Key", "X-Auth-Token")


def undocumented_places(contract: Contract, operation: Operation, key: str) -> list[tuple[str, dict[str, Any]]]:
    """The valid key put where clients commonly put keys but this operation's security does
    not name: each must be refused as if no key were sent (a key accepted anywhere leaks into
    logs and URLs the contract promised it never travels in)."""
    schemes = security_schemes(contract.document)
    headers: set[str] = set()
    query: set[str] = set()
    http_schemes: set[str] = set()
    for requirement in operation.security:
        for name in requirement:
            raw = schemes.get(name) or {}
            if raw.get("type") == "http":
                headers.add("authorization")
                http_schemes.add(str(raw.get("scheme", "")).lower())
            elif raw.get("in") == "header":
                headers.add(str(raw.get("name", "")).lower())
            elif raw.get("in") == "query":
                query.add(str(raw.get("name", "")))
    places: list[tuple[str, dict[str, Any]]] = [
        (f"with the valid key in the query as {name}", {"query": {name: key}})
        for name in QUERY_NAMES
        if name not in query
    ]
    places += [
        (f"with the valid key in the {name} header", {"auth_override": {name: key}})
        for name in HEADER_NAMES
        if name.lower() not in headers
    ]
    if "bearer" not in http_schemes:  # a basic-only contract must refuse the key as a bearer token too
        places.append(("with the valid key as a bearer token", {"auth_override": {"Authorization": f"Bearer {key}"}}))
    basic = base64.b64encode(f"{key}:".encode()).decode()
    places.append(
        ("with the valid key as HTTP Basic credentials", {"auth_override": {"Authorization": f"Basic {basic}"}})
    )
    return places


def _check_undocumented_places(
    context: KitContext, result: GroupResult, setup: Scenario, campaign_id: str | None
) -> int:
    """The read and the create, with the valid key only where the contract does not say it goes."""
    key = context.target.api_key
    tried = 0
    for operation in (context.view.one("get"), context.view.one("create")):
        if operation is None or key is None or credential_for(context.view.contract, operation) is None:
            continue
        expected = refusal_status(operation)
        for label, parts in undocumented_places(context.view.contract, operation, key):
            scenario = Scenario(context)
            scenario.exchanges.extend(setup.exchanges)
            request = request_parts(context, operation, campaign_id)
            exchange = scenario.send(operation, **request, key=None, **parts)
            tried += 1
            result.check(
                exchange.status == expected,
                "auth.only-where-documented",
                f"{operation.operation_id} {label}",
                f"{expected} (the contract sends the key elsewhere)",
                exchange.brief(),
                scenario.steps(),
            )
    return tried


def _check_foreign_workspace(context: KitContext, result: GroupResult, setup: Scenario) -> None:
    """A list naming a workspace that is not the key's own (one that does not exist) is 404, as
    ``x-tenancy`` promises: an empty page would say that workspace exists and holds nothing."""
    lister, tenancy = context.view.one("list"), context.view.tenancy
    if lister is None or tenancy is None or not tenancy.query or "404" not in lister.responses:
        return
    scenario = Scenario(context)
    scenario.exchanges.extend(setup.exchanges)
    foreign = f"kit-no-such-workspace-{secrets.token_hex(3)}"
    exchange = scenario.send(lister, query={tenancy.query: foreign})
    result.check(
        exchange.status == 404,
        "auth.tenant-isolated",
        f"{lister.operation_id} {tenancy.query}={foreign}",
        "404 (not the key's workspace)",
        exchange.brief(),
        scenario.steps(),
    )


def _check_tenancy(context: KitContext, result: GroupResult, setup: Scenario, campaign_id: str | None) -> int:
    """Another tenant's key sees nothing of this tenant: every operation on its campaign, and a
    list naming its workspace, answer 404, and nothing changes. Returns the probes sent."""
    view = context.view
    if view.tenancy is None:
        return 0
    _check_foreign_workspace(context, result, setup)
    other = context.options.other_api_key
    if not other:
        result.skipped("auth.tenant-isolated", "-", "give --other-api-key (a key of another tenant) to check tenancy")
        return 0
    if campaign_id is None:
        result.skipped("auth.tenant-isolated", "-", "could not create a campaign to hide")
        return 0
    probes = 0
    checks = LifecycleChecks(context, result)
    before, read = checks.read_status(setup, campaign_id)
    shown = view.campaign_in(read.operation, read.json()) if read is not None and read.operation else None
    secrets_of_campaign = [
        str(value)
        for name, value in (shown.items() if isinstance(shown, dict) else [])
        if isinstance(value, str)
        and len(value) > 3
        and name not in (view.id_field(), view.lifecycle.status_field)
        and parse_moment(value) is None
        and value != view.tenant
    ]
    for operation in view.contract.operations:
        if operation.kind == "create" or (operation.kind != "list" and not view.id_parameter(operation)):
            continue
        scenario = Scenario(context)
        scenario.exchanges.extend(setup.exchanges)
        parts = request_parts(context, operation, campaign_id)
        if operation.kind == "transition":
            content_type, body = checks.action_body(operation.actions[0])
            if body is not None:
                parts.update(json_body=body, content_type=content_type)
        exchange = scenario.send(operation, key=other, **parts)
        probes += 1
        leaked = any(value.encode() in exchange.response_body for value in secrets_of_campaign)
        result.check(
            exchange.status == 404 and not leaked,
            "auth.tenant-isolated",
            f"{operation.operation_id} with another tenant's key",
            "404, and nothing of the other tenant's campaign",
            exchange.brief(),
            scenario.steps(),
        )
    if read is not None:
        after, _ = checks.read_status(Scenario(context), campaign_id)
        result.check(
            after == before,
            "auth.tenant-isolated",
            "another tenant's writes",
            f"the campaign still {before!r}",
            f"{after!r}",
            setup.steps(),
        )
    return probes
