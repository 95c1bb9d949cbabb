"""``auth``: every secured operation refuses missing, malformed and wrong credentials.

Each refusal must answer the documented status (401 unless the spec documents only 403)
with a documented error body, and a challenge header where the spec documents one.
"""

from __future__ import annotations

import secrets

from conformance.context import KitContext, Scenario
from conformance.groups.common import fresh_campaign, request_parts
from conformance.results import GroupResult
from conformance.target import credential_for

GROUP = "auth"


def run(context: KitContext) -> GroupResult:
    result = GroupResult(GROUP)
    setup = Scenario(context)
    campaign_id = fresh_campaign(context, setup)
    wrong_key = f"wrong-{secrets.token_hex(8)}"
    checked = 0
    for operation in context.view.contract.operations:
        credential = credential_for(context.view.contract, operation)
        if credential is None:
            result.skipped("auth.refused", operation.operation_id, "the operation is not secured")
            continue
        expected = 401 if "401" in operation.responses or "403" not in operation.responses else 403
        malformed = {"Authorization": "Basic bm90OmFrZXk="} if credential.kind == "bearer" else None
        variants: list[tuple[str, dict[str, object]]] = [
            ("without credentials", {"key": None}),
            ("with a wrong key", {"key": wrong_key}),
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
    result.summary = f"{checked} refusals tried"
    return result
