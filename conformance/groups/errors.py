"""``errors``: every error the kit provoked has a documented status, content type and body.

Judges the error answers the other groups received, plus its own provocations: an
unknown id, malformed JSON, a body that breaks the schema, an unsupported content type.
"""

from __future__ import annotations

import re
from collections import defaultdict
from urllib.parse import quote

from campaign_mock.conformance.context import KitContext, Scenario
from campaign_mock.conformance.groups.common import fresh_campaign, request_parts
from campaign_mock.conformance.results import GroupResult
from campaign_mock.conformance.target import Exchange
from campaign_mock.conformance.vendor_codes import judge_code
from campaign_mock.contract.operations import Operation

GROUP = "errors"


def _provoke(context: KitContext, result: GroupResult) -> None:
    view = context.view
    for operation in view.contract.operations:
        if view.id_parameter(operation) and "404" in operation.responses:
            scenario = Scenario(context)
            exchange = scenario.send(operation, **request_parts(context, operation, view.unknown_id(operation)))
            if result.check(
                exchange.status == 404,
                "errors.not-found",
                operation.operation_id,
                "404 for an id that does not exist",
                exchange.brief(),
                scenario.steps(),
            ):
                judge_code(
                    result, view.contract.document, "not-found", exchange, operation.operation_id, scenario.steps()
                )
    setup = Scenario(context)
    campaign_id = fresh_campaign(context, setup)
    for candidate in (view.one("create"), view.one("update")):
        if candidate is None or not candidate.body_schemas:
            continue
        operation = candidate
        media_type = next(iter(operation.body_schemas))
        parts = request_parts(context, operation, campaign_id)
        parts.pop("json_body", None)
        parts.pop("content_type", None)
        provocations = [
            ("malformed JSON", b'{"broken": ', media_type, {"400"}),
            ("a body that breaks the schema", b"[1, 2, 3]", media_type, {"400", "422"}),
            ("an unsupported Content-Type", b"plain words", "text/plain", {"415", "400"}),
        ]
        for label, raw, content_type, expected in provocations:
            documented = sorted(expected & set(operation.responses))
            if not documented:
                continue
            scenario = Scenario(context)
            scenario.exchanges.extend(setup.exchanges)
            exchange = scenario.send(operation, raw_body=raw, content_type=content_type, **parts)
            result.check(
                str(exchange.status) in documented,
                "errors.rejected",
                f"{operation.operation_id} with {label}",
                " or ".join(documented),
                exchange.brief(),
                scenario.steps(),
            )


def _media_type_parameters(context: KitContext, result: GroupResult) -> None:
    """``application/json; charset=utf-8`` is ``application/json`` (RFC 9110 8.3.1; JSON's only
    charset): a valid body sent with the parameter is taken as without it."""
    creator = context.view.one("create")
    built = context.view.create_body()
    if creator is None or built is None:
        return
    media_type, body = built
    if ";" in media_type or not (media_type == "application/json" or media_type.endswith("+json")):
        return
    scenario = Scenario(context)
    exchange = scenario.send(creator, json_body=body, content_type=f"{media_type}; charset=utf-8")
    result.check(
        exchange.status == creator.success_status(),
        "errors.media-type-parameters",
        f"{creator.operation_id} with Content-Type {media_type}; charset=utf-8",
        f"{creator.success_status()}, as without the parameter",
        exchange.brief(),
        scenario.steps(),
    )


STATUS_MEMBERS = ("status", "code", "error", "status_code", "statusCode", "http_status", "httpStatus")


def _status_member(result: GroupResult, label: str, status: int, seen: list[Exchange]) -> None:
    """An error body that states a status (``status``, ``code``, ``error`` as an HTTP status
    number) states the one it was answered with: a client that reads the body must not learn
    another story than the status line tells."""
    for exchange in seen:
        body = exchange.json()
        if not isinstance(body, dict):
            continue
        stated = [
            (name, value)
            for name, value in body.items()
            if name in STATUS_MEMBERS and isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599
        ]
        if stated:
            wrong = [(name, value) for name, value in stated if value != status]
            result.check(
                not wrong,
                "errors.status-member",
                label,
                f"the body's {', '.join(name for name, _ in stated)} equal to the status {status}",
                ", ".join(f"{name}: {value}" for name, value in wrong),
                (exchange.curl(),),
            )
            return


def _judge(context: KitContext, result: GroupResult, exchanges: list[Exchange]) -> int:
    view = context.view
    groups: dict[tuple[str, int], list[Exchange]] = defaultdict(list)
    by_id: dict[str, Operation] = {}
    for exchange in exchanges:
        if (
            exchange.operation is None
            or exchange.status < 400
            or exchange.status in (429,)
            or exchange.method == "HEAD"
        ):
            continue  # (a HEAD answer has no body to judge)
        groups[(exchange.operation.operation_id, exchange.status)].append(exchange)
        by_id[exchange.operation.operation_id] = exchange.operation
    for (operation_id, status), seen in sorted(groups.items()):
        operation = by_id[operation_id]
        label = f"{operation_id} {status}"
        if not result.check(
            view.documented(operation, status),
            "errors.documented-status",
            label,
            f"one of {', '.join(sorted(operation.responses))}",
            seen[0].brief(),
            (seen[0].curl(),),
        ):
            continue
        media_types = view.media_types(operation, status)
        if not media_types:
            continue
        wrong_type = next((e for e in seen if e.content_type not in media_types), None)
        result.check(
            wrong_type is None,
            "errors.content-type",
            label,
            f"Content-Type {' or '.join(media_types)}",
            wrong_type.brief() if wrong_type else "",
            (wrong_type.curl(),) if wrong_type else (),
        )
        _status_member(result, label, status, seen)
        problems: list[str] = []
        culprit = None
        for exchange in seen:
            if exchange.content_type in media_types:
                problems = view.body_problems(operation, status, exchange.content_type, exchange.json())
                if problems:
                    culprit = exchange
                    break
        result.check(
            not problems,
            "errors.schema",
            label,
            "an error body matching the documented schema",
            "; ".join(problems) + (f" in {culprit.brief()}" if culprit else ""),
            (culprit.curl(),) if culprit else (),
        )
    return sum(len(seen) for seen in groups.values())


UNKNOWN_SEGMENT = "kit-no-such-action"


def _unknown_neighbours(context: KitContext, result: GroupResult) -> None:
    """What is not in the contract is refused as such: a transition's path with its action
    segment replaced by one no operation names, on a campaign that exists, is 404 (or 405),
    never a lifecycle answer (a 409 would say the action exists and is merely not allowed)."""
    view = context.view
    setup = Scenario(context)
    campaign_id = fresh_campaign(context, setup)
    seen: set[str] = set()
    for operation in view.contract.operations:
        segments = operation.path.rstrip("/").split("/")
        name = view.id_parameter(operation)
        if operation.kind != "transition" or not name or len(segments) < 2 or "{" in segments[-1]:
            continue
        if segments[-2] != "{" + name + "}":
            continue
        path = "/".join([*segments[:-1], UNKNOWN_SEGMENT]).replace("{" + name + "}", str(campaign_id))
        if path in seen or campaign_id is None:
            continue
        seen.add(path)
        scenario = Scenario(context)
        scenario.exchanges.extend(setup.exchanges)
        exchange = scenario.send(None, url=context.target.base_url + path, method=operation.method)
        result.check(
            exchange.status in (404, 405),
            "errors.unknown-route",
            f"{operation.method} {path}",
            "404 (no such route), or 405",
            exchange.brief(),
            scenario.steps(),
        )


PROBED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
OVERRIDE_HEADERS = ("X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override")
"""HEAD and OPTIONS are left out: HTTP lets a server answer them for any resource it has."""


def _documented_paths(context: KitContext) -> dict[str, set[str]]:
    """Each documented path (its id placeholder, if any, kept) -> the methods the contract gives it."""
    paths: dict[str, set[str]] = defaultdict(set)
    for operation in context.view.contract.operations:
        paths[operation.path.rstrip("/") or "/"].add(operation.method.upper())
    return paths


def _undocumented_methods(context: KitContext, result: GroupResult) -> None:
    """The neighbours of every documented path: a method the contract does not give it, and a
    sub-path under it, and a POST carrying a method-override header (``X-HTTP-Method-Override:
    DELETE``) where the path takes no POST, are refused (404, or 405 with an ``Allow`` header,
    as HTTP requires) on a campaign that exists, and change nothing: the campaign reads the
    same afterwards."""
    view = context.view
    getter = view.one("get")
    setup = Scenario(context)
    campaign_id = fresh_campaign(context, setup)
    if campaign_id is None or getter is None:
        result.skipped("errors.unknown-method", "-", "could not create and read a campaign to aim at")
        return
    get_parts = request_parts(context, getter, campaign_id)
    before = setup.send(getter, **get_parts)
    probes: list[tuple[str, str, str, dict[str, str]]] = []  # (method, concrete path, label, extra headers)
    for template, methods in sorted(_documented_paths(context).items()):
        placeholders = re.findall(r"{([^}]+)}", template)
        name = next((p for p in placeholders), None)
        if len(placeholders) > 1 or (name is not None and template.count("{") != 1):
            continue
        concrete = template.replace("{" + name + "}", quote(campaign_id, safe="")) if name else template
        below = concrete.rstrip("/") + "/" + UNKNOWN_SEGMENT
        candidates: list[tuple[str, str, str, dict[str, str]]] = [
            (method, concrete, template, {}) for method in PROBED_METHODS if method not in methods
        ]
        candidates.append(("GET", below, template.rstrip("/") + "/" + UNKNOWN_SEGMENT, {}))
        if name and "POST" not in methods:  # method tunnelling: an override header is no method
            candidates += [
                ("POST", concrete, f"{template} with {header}: {verb}", {header: verb})
                for header in OVERRIDE_HEADERS
                for verb in ("DELETE", "PATCH")
            ]
        # a probe another template matches (/campaign/kit-... against /campaign/{id}) is no neighbour
        probes.extend(probe for probe in candidates if view.operation_for(probe[0], probe[1]) is None)
    for method, path, label, headers in probes:
        scenario = Scenario(context)
        scenario.exchanges.extend(setup.exchanges)
        exchange = scenario.send(
            None,
            url=context.target.base_url + path,
            method=method,
            auth_override=headers or None,
            json_body={} if headers else None,
        )
        allow = exchange.response_headers.get("Allow")
        rule = "errors.unknown-route" if label.endswith(UNKNOWN_SEGMENT) else "errors.unknown-method"
        if exchange.status == 405 and rule == "errors.unknown-method":
            # the 405 each operation of that path documents ("a method the path does not have")
            template = label.split(" ")[0]
            for operation in view.contract.operations:
                if (operation.path.rstrip("/") or "/") == template and "405" in operation.responses:
                    context.coverage.answered(operation.operation_id, 405, exchange.response_headers)
        result.check(
            exchange.status == 404 or (exchange.status == 405 and allow is not None),
            rule,
            f"{method} {label}",
            "404 (no such route), or 405 with an Allow header",
            exchange.brief() + ("" if exchange.status != 405 or allow else " (405 without Allow)"),
            scenario.steps(),
        )
    after = setup.send(getter, **get_parts)
    result.check(
        before.status == after.status and before.json() == after.json(),
        "errors.unknown-method",
        f"{getter.operation_id} after {len(probes)} undocumented requests",
        f"the campaign unchanged: {before.brief()}",
        after.brief(),
        setup.steps()[-1:],
    )


def run(context: KitContext) -> GroupResult:
    result = context.start(GROUP)
    _provoke(context, result)
    _media_type_parameters(context, result)
    _unknown_neighbours(context, result)
    _undocumented_methods(context, result)
    judged = _judge(context, result, list(context.target.exchanges))
    result.summary = f"{judged} error answers judged"
    return result
