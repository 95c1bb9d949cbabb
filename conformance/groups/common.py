"""Helpers several groups share: a real campaign to aim at, a valid body per operation."""

from __future__ import annotations

from typing import Any

from campaign_mock.conformance.context import KitContext, Scenario
from campaign_mock.contract.operations import Operation


def fresh_campaign(context: KitContext, scenario: Scenario) -> str | None:
    """Create a campaign with the spec's example; its id, or None if that did not work."""
    creator = context.view.one("create")
    built = context.view.create_body()
    if creator is None or built is None:
        return None
    media_type, body = built
    exchange = scenario.send(creator, json_body=body, content_type=media_type)
    campaign = context.view.campaign_in(creator, exchange.json())
    if exchange.status >= 300 or not isinstance(campaign, dict):
        return None
    value = campaign.get(context.view.id_field())
    return None if value is None else str(value)


def request_parts(context: KitContext, operation: Operation, campaign_id: str | None) -> dict[str, Any]:
    """Keyword arguments for ``send`` that make a well-formed request to ``operation``."""
    parts: dict[str, Any] = {}
    name = context.view.id_parameter(operation)
    if name:
        parts["path_values"] = {name: campaign_id or "unknown-campaign"}
    if operation.body_required or operation.kind in ("create", "update"):
        purpose = operation.kind if operation.kind in ("create", "update") else "action"
        chosen = context.view.create_body() if operation.kind == "create" else None
        chosen = chosen or context.view.request_body(operation, purpose)
        if chosen is not None:
            parts["content_type"], parts["json_body"] = chosen
    return parts
