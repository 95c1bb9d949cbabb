"""The error format is selectable, and the served spec documents the one in use."""

from __future__ import annotations

import pytest
import yaml
from jsonschema import Draft202012Validator

from campaign_mock.contract.specs import bundled_path
from campaign_mock.server.web.error_formats import EnvelopeFormat, TemplateFormat, resolve_error_format
from tests.conftest import AUTH, ClientFactory


def test_the_envelope_format_renders_every_error(make_client: ClientFactory) -> None:
    client = make_client(error_format=EnvelopeFormat())
    result = client.simulate_get("/campaigns/missing", headers=AUTH)
    assert result.status_code == 404
    assert result.headers["content-type"] == "application/json"
    assert result.json == {
        "error": {"code": "not-found", "status": 404, "message": "No campaign with id 'missing'.", "details": None}
    }
    routed = client.simulate_request("TRACE", "/campaigns", headers=AUTH)
    assert routed.json["error"]["status"] == 405


def test_a_template_format_fills_placeholders_and_keeps_the_status_an_integer(make_client: ClientFactory) -> None:
    template = TemplateFormat(
        "mine", "application/vnd.mine+json", {"ok": False, "err": {"http": "{status}", "msg": "{title}: {detail}"}}
    )
    client = make_client(error_format=template)
    result = client.simulate_get("/campaigns")
    assert result.status_code == 401
    assert result.headers["content-type"] == "application/vnd.mine+json"
    assert result.json == {
        "ok": False,
        "err": {"http": 401, "msg": 'Unauthorized: Missing credentials: send "Authorization: Bearer KEY".'},
    }
    Draft202012Validator(template.schema()).validate(result.json)


def test_a_template_with_an_unknown_placeholder_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown placeholder\(s\) \{reason\}"):
        TemplateFormat("bad", "application/json", {"why": "{reason}"})


def test_the_served_spec_is_the_contract_when_the_native_format_is_used(make_client: ClientFactory) -> None:
    client = make_client()
    served = yaml.safe_load(client.simulate_get("/openapi.yaml").text)
    conflict = served["components"]["responses"]["Conflict"]["content"]
    assert list(conflict) == ["application/problem+json"]
    assert client.simulate_get("/openapi.json").json == served


def test_the_served_spec_documents_a_reconfigured_error_format(make_client: ClientFactory) -> None:
    served = make_client(error_format=EnvelopeFormat()).simulate_get("/openapi.json").json
    assert served["x-error-format"] == "envelope"
    for name in ("BadRequest", "Unauthorized", "NotFound", "Conflict", "UnsupportedMediaType", "UnprocessableContent"):
        content = served["components"]["responses"][name]["content"]
        assert list(content) == ["application/json"], name
        assert content["application/json"]["schema"] == EnvelopeFormat().schema()


def test_a_template_renders_the_vendors_code_for_a_kind_and_the_kind_itself_otherwise(
    make_client: ClientFactory,
) -> None:
    template = TemplateFormat(
        "mine", "application/json", {"code": "{code}", "why": "{code}: {detail}"}, codes={"not-found": 40401}
    )
    client = make_client(error_format=template)
    missing = client.simulate_get("/campaigns/missing", headers=AUTH)
    anonymous = client.simulate_get("/campaigns")
    assert missing.json == {"code": 40401, "why": "40401: No campaign with id 'missing'."}
    assert anonymous.json["code"] == "unauthorized"
    Draft202012Validator(template.schema()).validate(missing.json)


@pytest.mark.parametrize("name", ["ocamba", "woodpecker", "tenant", "altcraft"])
def test_a_vendor_format_by_name_is_the_one_its_profile_defines(name: str) -> None:
    profile = yaml.safe_load(bundled_path(name).read_text())
    by_name = resolve_error_format(name, {}, {})
    own = resolve_error_format(None, {}, profile)
    assert (by_name.name, by_name.media_type) == (own.name, own.media_type) == (name, "application/json")
    for status in (None, 400, 401, 404, 409, 500, 503):
        assert by_name.schema(status) == own.schema(status)


def test_an_unknown_format_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown error format 'brevoo'; known: altcraft, .*envelope, .*problem"):
        resolve_error_format("brevoo", {}, {})
