"""What every answer says about itself, judged on all the answers the kit received.

An answer's headers are promises about its bytes: a ``charset`` says how to decode the text
(JSON is UTF-8, RFC 8259 8.1, and a client that believes ``iso-8859-1`` turns ``Zoë`` into
``ZoÃ«``); a 204 or 304 has no body (RFC 9110 15.3.5, 15.4.5), nor does an answer the
contract documents without content; and the bytes of one answer end where its framing says,
or the next answer on the connection cannot be read. These rules run after every group, over
every exchange of the run, and name the answer at fault.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from campaign_mock.conformance.results import GroupResult
from campaign_mock.conformance.target import Exchange, Framing
from campaign_mock.conformance.view import ContractView

UTF8_NAMES = frozenset({"utf-8", "utf8"})
BODILESS_STATUSES = frozenset({204, 304})


def _parameters(content_type: str) -> dict[str, str]:
    parts = content_type.split(";")[1:]
    pairs = (part.partition("=") for part in parts)
    return {name.strip().lower(): value.strip().strip('"').lower() for name, _, value in pairs if name.strip()}


def charset_problem(exchange: Exchange) -> str | None:
    """Why a JSON answer's bytes and its declared charset disagree, or None."""
    media_type = exchange.content_type
    if not (media_type == "application/json" or media_type.endswith("+json")) or not exchange.response_body:
        return None
    charset = _parameters(str(exchange.response_headers.get("Content-Type", ""))).get("charset")
    if charset is not None and charset not in UTF8_NAMES:
        return f"JSON declared as charset={charset} (JSON is UTF-8)"
    try:
        exchange.response_body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"the body is not UTF-8 (byte {exc.start})"
    return None


def body_problem(exchange: Exchange, view: ContractView) -> str | None:
    """Why an answer that must have no body has one, or None."""
    length = exchange.response_headers.get("Content-Length")
    if exchange.status in BODILESS_STATUSES:
        if exchange.response_body or (length is not None and length.strip() != "0"):
            return f"a {exchange.status} with a body (Content-Length {length}, {len(exchange.response_body)} bytes)"
        if "Transfer-Encoding" in exchange.response_headers:
            return f"a {exchange.status} with Transfer-Encoding"
        return None
    operation = exchange.operation
    if operation is None or exchange.method == "HEAD" or not 200 <= exchange.status < 300:
        return None
    documented_empty = view.documented(operation, exchange.status) and not view.media_types(operation, exchange.status)
    if documented_empty and exchange.response_body:
        return f"a body ({len(exchange.response_body)} bytes) where {exchange.status} is documented without one"
    return None


def integer_problem(exchange: Exchange, view: ContractView) -> str | None:
    """A member the documented schema types ``integer`` written with a fraction or exponent
    (``12.0``): JSON Schema lets it pass, a strict client (Go's ``int``, Jackson refusing floats
    for ints) does not."""
    operation = exchange.operation
    media_type = exchange.content_type
    if operation is None or not (media_type == "application/json" or media_type.endswith("+json")):
        return None
    if not exchange.response_body:
        return None
    fractions: list[str] = []

    def exact_number(text: str) -> Decimal:
        fractions.append(text)
        return Decimal(text)

    try:
        exact = json.loads(exchange.response_body, parse_float=exact_number)
    except ValueError:
        return None
    validator = view.response_validator(operation, exchange.status, media_type) if fractions else None
    if validator is None:
        return None  # no number written with a fraction: nothing to judge (most answers)
    for error in validator.iter_errors(exact):
        integral = "integer" in str(error.validator_value)
        if error.validator == "type" and isinstance(error.instance, Decimal) and integral:
            return f"{'/'.join(map(str, error.absolute_path)) or '/'} written as {error.instance} (an integer)"
    return None


def _label(exchange: Exchange) -> str:
    return exchange.operation.operation_id if exchange.operation is not None else f"{exchange.method} (undocumented)"


def _judge_each(result: GroupResult, rule: str, expected: str, found: Iterable[tuple[Exchange, str | None]]) -> None:
    """One outcome per operation: passed, or failed naming its first offending answer."""
    by_operation: dict[str, list[tuple[Exchange, str | None]]] = defaultdict(list)
    for exchange, problem in found:
        by_operation[_label(exchange)].append((exchange, problem))
    for label, seen in sorted(by_operation.items()):
        culprit = next(((exchange, problem) for exchange, problem in seen if problem), None)
        if culprit is None:
            result.passed(rule, label, note=f"{len(seen)} answers")
            continue
        exchange, problem = culprit
        bad = sum(1 for _, problem in seen if problem)
        result.failed(rule, label, expected, f"{problem}, in {bad} of {len(seen)} answers", (exchange.curl(),))


def judge_answers(result: GroupResult, view: ContractView, exchanges: list[Exchange], framing: list[Framing]) -> None:
    """``headers.charset``, ``headers.no-body``, ``headers.integers`` and ``headers.framing``
    over the whole run."""
    _judge_each(
        result,
        "headers.charset",
        "JSON in UTF-8, with no other charset declared",
        ((exchange, charset_problem(exchange)) for exchange in exchanges),
    )
    _judge_each(
        result,
        "headers.no-body",
        "no body on 204/304, nor where the contract documents the answer without content",
        ((exchange, body_problem(exchange, view)) for exchange in exchanges),
    )
    _judge_each(
        result,
        "headers.integers",
        "integers written as integers (no fraction, no exponent) where the schema says integer",
        ((exchange, integer_problem(exchange, view)) for exchange in exchanges),
    )
    for broken in framing:
        result.failed(
            "headers.framing",
            _label(broken.culprit),
            "each answer ends where its framing says, so the next one on the connection can be read",
            f"after {broken.culprit.status} to {broken.culprit.method} {broken.culprit.url}, the answer to "
            f"{broken.next_request} could not be read ({broken.reason}); it was asked again on a new connection",
            (broken.culprit.curl(),),
        )
    if exchanges and not framing:
        result.passed("headers.framing", "-", note=f"{len(exchanges)} answers read on kept-alive connections")
