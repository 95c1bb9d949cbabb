"""A variant of the canonical contract that uses every lifecycle mechanism a vendor needs
beyond the canonical API: a copy (as its own operation and as a value of an action member),
refusals (a time in the past, off a quarter hour, missing), an action that stamps the time
and a delayed timer that finishes its move, deletes allowed only in some states, and a create
that answers only the new id. Shared by the server's tests and the kit's."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import CANONICAL_SPEC

CAMPAIGN_PATH = "/campaigns/{campaign_id}"
ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "404": {"$ref": "#/components/responses/NotFound"},
    "409": {"$ref": "#/components/responses/Conflict"},
    "412": {"$ref": "#/components/responses/PreconditionFailed"},
    "422": {"$ref": "#/components/responses/UnprocessableContent"},
}
PARAMETERS = [{"$ref": "#/components/parameters/CampaignId"}, {"$ref": "#/components/parameters/IfMatch"}]


def _operation(
    operation_id: str, extension: dict[str, Any], body: str | None, success: dict[str, Any]
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": operation_id,
        "tags": ["lifecycle"],
        "x-operation": extension,
        "responses": {**success, **copy.deepcopy(ERRORS)},
    }
    if body is not None:
        operation["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}},
        }
    return operation


def variant_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(CANONICAL_SPEC.read_text())
    lifecycle = document["x-lifecycle"]
    lifecycle["transitions"]["schedule"] = {
        "from": ["draft"],
        "to": "scheduled",
        "when": [
            {"param": "start_at", "missing": True, "refuse": 400, "message": "start_at is required to schedule."},
            {"param": "start_at", "before": "now", "refuse": 400, "message": "start_at must be in the future."},
            {"param": "start_at", "not_multiple_of": "PT15M", "refuse": 400},
            {"param": "start_at", "sets": "start_at", "to": "scheduled"},
        ],
    }
    lifecycle["transitions"]["send"] = {"from": ["draft"], "to": "sending", "stamps": ["sent_at"]}
    lifecycle["timers"].append(
        {"name": "delivered", "from": ["sending"], "at": "sent_at", "delay": "PT10M", "to": "completed"}
    )
    lifecycle["transitions"]["unschedule"] = {"from": ["scheduled"], "to": "draft", "reset": {"start_at": None}}
    lifecycle["now_word"] = "now"
    lifecycle["copies"] = {
        "duplicate": {
            "from": ["draft", "paused", "completed"],
            "reset": {"start_at": None, "end_at": None, "name": "Copy of {name}"},
        }
    }
    lifecycle["deletes"] = {"in": ["draft", "canceled", "completed"], "status": 403}
    schemas = document["components"]["schemas"]
    schemas["Status"]["enum"].append("sending")
    schemas["Campaign"]["properties"]["sent_at"] = {"$ref": "#/components/schemas/TimestampOrNull", "readOnly": True}
    schemas["Schedule"] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"start_at": {"anyOf": [{"const": "now"}, {"type": "string", "format": "date-time"}]}},
    }
    schemas["CopyName"] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"name": {"type": "string", "maxLength": 200}},
    }
    schemas["StatusChange"] = {
        "type": "object",
        "required": ["status"],
        "additionalProperties": False,
        "properties": {"status": {"type": "string", "enum": ["duplicate", "pause"]}},
    }
    schemas["NewId"] = {
        "type": "object",
        "required": ["id"],
        "properties": {"id": {"$ref": "#/components/schemas/CampaignId"}},
    }
    paths = document["paths"]
    transition_ok = {"200": {"$ref": "#/components/responses/TransitionOk"}}
    paths[f"{CAMPAIGN_PATH}/schedule"] = {
        "parameters": PARAMETERS,
        "post": _operation("scheduleCampaign", {"kind": "transition", "action": "schedule"}, "Schedule", transition_ok),
    }
    paths[f"{CAMPAIGN_PATH}/unschedule"] = {
        "parameters": PARAMETERS,
        "post": _operation("unscheduleCampaign", {"kind": "transition", "action": "unschedule"}, None, transition_ok),
    }
    paths[f"{CAMPAIGN_PATH}/send"] = {
        "parameters": PARAMETERS,
        "post": _operation("sendCampaign", {"kind": "transition", "action": "send"}, None, transition_ok),
    }
    paths[f"{CAMPAIGN_PATH}/duplicate"] = {
        "parameters": PARAMETERS,
        "post": _operation(
            "duplicateCampaign",
            {"kind": "copy", "action": "duplicate"},
            "CopyName",
            {"201": copy.deepcopy(paths["/campaigns"]["post"]["responses"]["201"])},
        ),
    }
    paths[f"{CAMPAIGN_PATH}/status"] = {
        "parameters": PARAMETERS,
        "put": _operation(
            "changeCampaignStatus",
            {"kind": "transition", "action_field": "status", "actions": ["duplicate", "pause"]},
            "StatusChange",
            {"204": {"description": "Done; nothing is answered."}},
        ),
    }
    paths[f"{CAMPAIGN_PATH}/status"]["put"]["requestBody"]["required"] = True
    creator = paths["/campaigns"]["post"]
    creator["x-operation"]["envelope"] = {"id": "$campaign.id"}
    created = creator["responses"]["201"]
    created.pop("$ref", None)
    created.update(
        {
            "description": "Created; only the new id is answered.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewId"}}},
        }
    )
    _link_new_moves(document, ["scheduleCampaign", "sendCampaign", "unscheduleCampaign", "changeCampaignStatus"])
    delete = paths[CAMPAIGN_PATH]["delete"]
    delete["responses"]["403"] = {"$ref": "#/components/responses/Conflict"}
    return document


def _link_new_moves(document: dict[str, Any], operation_ids: list[str]) -> None:
    """Links from every answer that carries a campaign to the new moves, so stateful testing
    can chain them (``lint``'s ``links-incomplete``)."""
    components = document["components"]
    for operation_id in operation_ids:
        components["links"][operation_id] = {
            "operationId": operation_id,
            "parameters": {"campaign_id": "$response.body#/id"},
        }
    carriers = [components["responses"]["CampaignOk"], components["responses"]["TransitionOk"]]
    carriers.append(document["paths"]["/campaigns"]["post"]["responses"]["201"])
    carriers.append(document["paths"][f"{CAMPAIGN_PATH}/duplicate"]["post"]["responses"]["201"])
    for response in carriers:
        links = response.setdefault("links", {})
        for operation_id in operation_ids:
            links[operation_id] = {"$ref": f"#/components/links/{operation_id}"}


def write_variant(tmp_path: Path) -> Path:
    spec = tmp_path / "lifecycle-variant.yaml"
    spec.write_text(yaml.safe_dump(variant_document(), sort_keys=False))
    return spec
