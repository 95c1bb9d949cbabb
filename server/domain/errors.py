"""Domain errors: a small hierarchy, turned into HTTP in one place (``server.app``).

Each error carries what a client needs to fix its request; the configured error format
decides how that is written on the wire.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ApiError(Exception):
    """An answer other than success, with a status, a short title and a helpful detail."""

    status = 400
    title = "Bad request"
    code = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra: dict[str, Any] = dict(extra or {})
        self.headers: dict[str, str] = dict(headers or {})
        self.close = False  # True: close the connection after answering (a request that cannot be trusted)


class InvalidRequest(ApiError):
    """The request cannot be read: malformed JSON, bad encoding, invalid parameters."""

    code = "invalid-parameter"


class MalformedBody(ApiError):
    title = "Malformed body"
    code = "malformed-body"


class InvalidBody(ApiError):
    """Well-formed, but the body breaks the schema or contradicts itself."""

    status = 422
    title = "Invalid body"
    code = "validation-failed"


class Unauthorized(ApiError):
    status = 401
    title = "Unauthorized"
    code = "unauthorized"


class Forbidden(ApiError):
    status = 403
    title = "Forbidden"
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    title = "Not found"
    code = "not-found"


class MethodNotAllowed(ApiError):
    status = 405
    title = "Method not allowed"
    code = "method-not-allowed"


class Conflict(ApiError):
    """The request clashes with what exists (e.g. an id already in use)."""

    status = 409
    title = "Conflict"
    code = "conflict"


class InjectedFault(ApiError):
    """An error answer planted by fault injection."""

    code = "injected-fault"


class StateConflict(ApiError):
    """Valid by itself, but conflicts with the campaign's current state."""

    status = 409
    title = "Conflicts with the current state"
    code = "state-conflict"

    def __init__(self, detail: str, *, current_status: str, allowed_actions: list[str], status: int = 409) -> None:
        super().__init__(detail, extra={"current_status": current_status, "allowed_actions": allowed_actions})
        self.status = status


class InvalidTransition(StateConflict):
    title = "Action not allowed in the current state"
    code = "invalid-transition"


class ActionRefused(StateConflict):
    """The contract refuses the action for what the request carries or the campaign holds
    (a schedule time in the past): ``x-lifecycle`` ``when: [{refuse: STATUS, ...}]``."""

    title = "Action refused"
    code = "action-refused"


class PreconditionFailed(ApiError):
    status = 412
    title = "Precondition failed"
    code = "precondition-failed"


class RequestTimeout(ApiError):
    """The client did not send its request (its body) in time; the connection is closed."""

    status = 408
    title = "Request timeout"
    code = "request-timeout"

    def __init__(self, detail: str, *, close: bool = True) -> None:
        super().__init__(detail, headers={"Connection": "close"})
        self.close = close


class PayloadTooLarge(ApiError):
    status = 413
    title = "Payload too large"
    code = "payload-too-large"


class UriTooLong(ApiError):
    status = 414
    title = "URI too long"
    code = "uri-too-long"


class HeadersTooLarge(ApiError):
    status = 431
    title = "Request header fields too large"
    code = "headers-too-large"


class UnsupportedMediaType(ApiError):
    status = 415
    title = "Unsupported media type"
    code = "unsupported-media-type"


class InsufficientStorage(ApiError):
    """A bound on what the mock holds is reached (campaigns, or events of one campaign)."""

    status = 507
    title = "Insufficient storage"
    code = "insufficient-storage"


class StoreUnavailable(ApiError):
    """The store behind the mock (SQLite, Redis) failed or cannot be reached; nothing of the
    request was kept, and the client may retry."""

    status = 503
    title = "Service unavailable"
    code = "store-unavailable"
    retry_after_seconds = 1

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Retry-After": str(self.retry_after_seconds)})


class StoreLost(StoreUnavailable):
    """The store answers but no longer holds the state it held (Redis restarted empty, was
    flushed, or evicted keys): serving what is left would show an empty or partial world and
    issue ids again, so the mock answers this until an admin reset starts afresh."""

    code = "store-state-lost"
    retry_after_seconds = 5


class StoreOutcomeUnknown(StoreUnavailable):
    """A write reached the store and no answer came back: it may or may not have been applied,
    and the client must read before it writes again."""

    code = "store-outcome-unknown"


class StoreOutOfSpace(InsufficientStorage):
    """The store refused a write because it is full (Redis over its maxmemory); nothing of the
    write was kept."""

    code = "store-full"


class InternalError(ApiError):
    status = 500
    title = "Internal server error"
    code = "internal-error"


class DiskFull(InsufficientStorage):
    """The disk under the store is full: 507 as for a reached bound, but it passes once space is
    freed (writes resume by themselves), so it says when to try again. Its code is the one a full
    Redis answers with too."""

    code = "store-full"
    retry_after_seconds = 5

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Retry-After": str(self.retry_after_seconds)})


class StoreDamaged(StoreUnavailable):
    """The store's file is damaged (corrupt pages, not a database any more): 503 like any store
    failure, but without Retry-After, since it does not pass by itself (someone must restore it)."""

    def __init__(self, detail: str) -> None:
        ApiError.__init__(self, detail)
