"""The error format is selectable, and the served spec documents the one in use."""

from __future__ import annotations

import pytest
import yaml
from jsonschema import Draft202012Validator

from campaign_mock.server.web.error_formats import EnvelopeFormat, TemplateFormat
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
