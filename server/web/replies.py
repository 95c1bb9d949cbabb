"""What a handler answers (``Reply``), how an operation's success is shaped (``Shaper``) and cut
to the members a client asks for (``projected``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from campaign_mock.contract import envelopes
from campaign_mock.contract.operations import Operation
from campaign_mock.contract.projection import project, projection_of
from campaign_mock.server.domain.campaigns import CampaignService, entity_tag
from campaign_mock.server.stores.base import Record
from campaign_mock.server.web.validation import ValidRequest


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str | None = None  # the JSON media type the contract documents (None: application/json)


def json_media_type(content_types: tuple[str, ...]) -> str | None:
    """The documented JSON media type of an answer: ``application/json`` where listed, else the
    first ``+json`` one (JSON:API's ``application/vnd.api+json``); None: plain JSON."""
    if "application/json" in content_types:
        return None
    return next((media for media in content_types if media.split(";")[0].strip().endswith("+json")), None)


Handler = Callable[[CampaignService, ValidRequest], Reply]
"""What an operation does with a validated request, in the world (service) of that request."""
IdReader = Callable[[CampaignService, ValidRequest], str]


class Shaper:
    """Writes one operation's success: its status, its envelope, or no body when none is documented."""

    def __init__(self, operation: Operation) -> None:
        self.status = operation.success_status()
        response = operation.responses.get(str(self.status))
        self._has_body = bool(response and response.content_types)
        self._envelope = operation.envelope
        self._media_type = json_media_type(response.content_types) if response else None

    def reply(self, values: Mapping[str, Any], headers: dict[str, str] | None = None) -> Reply:
        body = envelopes.fill(self._envelope, values) if self._has_body else None
        return Reply(self.status, body, headers or {}, self._media_type)

    def campaign(self, record: Record, headers: dict[str, str] | None = None) -> Reply:
        return self.reply({envelopes.CAMPAIGN: record.campaign}, {"ETag": entity_tag(record), **(headers or {})})


def body_params(request: ValidRequest) -> Mapping[str, Any]:
    return request.body if isinstance(request.body, Mapping) else {}


def projected(operation: Operation, handler: Handler) -> Handler:
    """The handler, its successes cut by ``x-operation.fields_param`` / ``exclude_fields_param``
    (``contract.projection``); headers (the ETag of the campaign read) stay as they are."""
    projection = projection_of(operation.extension)
    if projection is None:
        return handler
    in_body = operation.extension.get("params_in") == "body"

    def cut(service: CampaignService, request: ValidRequest) -> Reply:
        reply = handler(service, request)
        fields, exclude = projection.values(body_params(request) if in_body else request.query)
        if reply.body is None or (fields is None and exclude is None):
            return reply
        return replace(reply, body=project(reply.body, fields, exclude))

    return cut
