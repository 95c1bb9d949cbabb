"""The canonical contract is valid, complete and chains its whole lifecycle through links."""

from __future__ import annotations

import pytest
import yaml
from openapi_spec_validator import validate

from campaign_mock.contract.operations import Contract, resolve
from tests.conftest import CANONICAL_SPEC

STABLE_OPERATIONS = {
    "listCampaigns": ("GET", "/campaigns"),
    "createCampaign": ("POST", "/campaigns"),
    "getCampaign": ("GET", "/campaigns/{campaign_id}"),
    "updateCampaign": ("PATCH", "/campaigns/{campaign_id}"),
    "deleteCampaign": ("DELETE", "/campaigns/{campaign_id}"),
    "activateCampaign": ("POST", "/campaigns/{campaign_id}/activate"),
    "pauseCampaign": ("POST", "/campaigns/{campaign_id}/pause"),
    "resumeCampaign": ("POST", "/campaigns/{campaign_id}/resume"),
    "cancelCampaign": ("POST", "/campaigns/{campaign_id}/cancel"),
    "completeCampaign": ("POST", "/campaigns/{campaign_id}/complete"),
    "listCampaignEvents": ("GET", "/campaigns/{campaign_id}/events"),
}


def test_the_canonical_spec_is_valid_openapi_3_1() -> None:
    document = yaml.safe_load(CANONICAL_SPEC.read_text())
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_operation_ids_and_paths_are_the_promised_ones(contract: Contract) -> None:
    found = {operation.operation_id: (operation.method, operation.path) for operation in contract.operations}
    assert found == STABLE_OPERATIONS


def test_every_transition_operation_documents_the_conflict_status(contract: Contract) -> None:
    conflict = str(contract.lifecycle.conflict_status)
    for operation in contract.by_kind("transition"):
        assert conflict in operation.responses, operation.operation_id
        assert operation.responses[conflict].content_types == ("application/problem+json",)


def test_every_secured_operation_documents_401_with_a_challenge(contract: Contract) -> None:
    for operation in contract.operations:
        assert operation.security, operation.operation_id
        assert "WWW-Authenticate" in operation.responses["401"].headers, operation.operation_id


def test_every_action_of_the_lifecycle_has_an_operation(contract: Contract) -> None:
    assert {op.action for op in contract.by_kind("transition")} == set(contract.lifecycle.transitions)


def _links(contract: Contract, operation_id: str, status: str) -> set[str]:
    operation = next(op for op in contract.operations if op.operation_id == operation_id)
    response, _ = resolve(contract.document, {"$ref": f"#{operation.responses[status].pointer}"}, "")
    links = [resolve(contract.document, link, "")[0] for link in (response.get("links") or {}).values()]
    return {link["operationId"] for link in links}


def test_links_chain_create_to_every_action_and_every_action_onwards(contract: Contract) -> None:
    transition_ids = {op.operation_id for op in contract.by_kind("transition")}
    assert transition_ids | {"getCampaign", "listCampaignEvents"} <= _links(contract, "createCampaign", "201")
    for operation_id in transition_ids:
        assert transition_ids | {"getCampaign", "listCampaignEvents"} <= _links(contract, operation_id, "200")


@pytest.mark.parametrize("state", ["draft", "scheduled", "active", "paused", "canceled", "completed"])
def test_every_state_is_documented_in_the_status_schema(contract: Contract, state: str) -> None:
    assert state in contract.document["components"]["schemas"]["Status"]["enum"]
    assert state in contract.lifecycle.states
