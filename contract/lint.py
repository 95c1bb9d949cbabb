"""``campaign-mock lint``: is a contract sound before any code exists?

OpenAPI validity (openapi-spec-validator) plus rules of our own, each with a stable id,
reported at its place in the YAML. The lifecycle rules work on the ``x-lifecycle`` data
alone; the others check that the operations document what the lifecycle, the security
schemes and the rate limits imply.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator.validation import OpenAPIV31SpecValidator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from campaign_mock.contract.error_formats import lint_problems as error_format_problems
from campaign_mock.contract.errors import ContractError
from campaign_mock.contract.ids import id_style
from campaign_mock.contract.lifecycle import Lifecycle, parse_lifecycle
from campaign_mock.contract.listing import listing_of, parameter_names, parse_order, parse_words
from campaign_mock.contract.operations import (
    HTTP_METHODS,
    KINDS,
    Operation,
    build_contract,
    kind_error,
    parse_operations,
    resolve,
)
from campaign_mock.contract.positions import Positions, message_path
from campaign_mock.contract.projection import projection_of
from campaign_mock.contract.schema_keywords import HINTS, schemas_in, unknown_keywords
from campaign_mock.contract.security import security_problems
from campaign_mock.contract.specs import SpecSource
from campaign_mock.contract.stamps import campaign_members

Path = tuple[str | int, ...]
RULES = {
    "yaml-syntax": "the file is valid YAML",
    "yaml-duplicate-key": "no mapping names a key twice (YAML readers keep one of the two silently)",
    "openapi-valid": "the document is valid OpenAPI 3.1",
    "lifecycle-invalid": "x-lifecycle can be read",
    "ids-invalid": "x-ids names an id style the mock can serve (hex, integer or uuid; prefix and length for hex)",
    "lifecycle-unknown-state": "the lifecycle names only states the status schema (or x-lifecycle.states) declares",
    "lifecycle-unreachable": "every state is reachable from the initial one",
    "lifecycle-no-way-out": "every non-terminal state has a way out",
    "lifecycle-terminal-moves": "terminal states have no way out",
    "action-without-operation": "every lifecycle action has an operation",
    "operation-unknown-action": "every transition operation names a lifecycle action",
    "operation-invalid": "every x-operation can be read (envelopes name known placeholders, a request "
    "envelope holds $campaign)",
    "operation-kind": "every operation says what it does (x-operation.kind)",
    "conflict-undocumented": "every transition operation documents the conflict status with an error schema",
    "links-incomplete": "links lead from create and from each move to every action allowed next",
    "auth-undocumented": "every secured operation documents 401 (and 403 where scopes apply)",
    "security-unsupported": "every security scheme is one the mock can check (http bearer or basic, apiKey in "
    "a header or the query)",
    "security-invalid": "security requirements name declared schemes; x-basic-user is a user name on http basic",
    "rate-limit-undocumented": "every rate-limited operation documents 429 with Retry-After",
    "example-invalid": "every example validates against its schema",
    "operation-id-duplicate": "operationIds are unique",
    "schema-unknown-keyword": "schema objects hold only JSON Schema 2020-12 and OpenAPI keywords (or x- extensions)",
    "stamp-invalid": "x-stamp is create or write, on a readOnly member",
    "list-filters": "a list's filters name its parameters and campaign members",
    "list-order": "a list's x-operation.order names a campaign member (with '-' for newest first)",
    "list-sort-dir": "a list's sort_dir_param is one of its parameters, its enum the direction words; "
    "sort_dir_values gives asc and desc a word each",
    "list-status-values": "a list's status_values map its status filter's words to states the lifecycle has",
    "projection-param": "fields_param and exclude_fields_param are parameters of the operation, whose answer "
    "requires no member a projection may cut",
    "error-format": "x-error-format names a known format or defines one (JSON media type, known placeholders, "
    "a default in by_status, codes keyed by the mock's error kinds)",
}


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    column: int
    rule: str
    message: str
    severity: str = "error"

    def as_text(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.rule}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Collector:
    def __init__(self, source: SpecSource) -> None:
        self.source = source
        self.positions = Positions(source.text)
        self.findings: list[Finding] = []

    def add(self, rule: str, path: Path, message: str) -> None:
        line, column = self.positions.of(path)
        self.findings.append(Finding(self.source.origin, line, column, rule, message))


def _operation_paths(document: Mapping[str, Any]) -> Iterator[tuple[Path, Mapping[str, Any]]]:
    for path, item in (document.get("paths") or {}).items():
        for method in HTTP_METHODS:
            if isinstance(item, Mapping) and isinstance(item.get(method), Mapping):
                yield ("paths", path, method), item[method]


def _where(operation: Operation) -> Path:
    return ("paths", operation.path, operation.method.lower())


def _declared_states(
    document: Mapping[str, Any], lifecycle: Lifecycle, operations: Sequence[Operation]
) -> set[str] | None:
    raw = document.get("x-lifecycle", {})
    if isinstance(raw.get("states"), list):
        return {str(state) for state in raw["states"]}
    reader = next((op for op in operations if op.kind == "get"), None)
    if reader is None:
        return None
    for status, response in reader.responses.items():
        if status.startswith("2") and "application/json" in response.content_types:
            node, _ = resolve(document, {"$ref": f"#{response.pointer}/content/application~1json/schema"}, "")
            properties = node.get("properties", {}) if isinstance(node, Mapping) else {}
            field, _ = resolve(document, properties.get(lifecycle.status_field, {}), "")
            if isinstance(field, Mapping) and isinstance(field.get("enum"), list):
                return {str(state) for state in field["enum"] if state is not None}
    return None


def _copy_and_delete_states(raw: Mapping[str, Any]) -> Iterator[tuple[str, Path]]:
    """States named by ``copies.*.from`` and ``deletes.in``."""
    for name, copy in (raw.get("copies") or {}).items():
        for index, state in enumerate(copy.get("from") or [] if isinstance(copy, Mapping) else []):
            yield str(state), ("x-lifecycle", "copies", name, "from", index)
    deletes = raw.get("deletes")
    for index, state in enumerate(deletes.get("in") or [] if isinstance(deletes, Mapping) else []):
        yield str(state), ("x-lifecycle", "deletes", "in", index)


def _state_uses(raw: Mapping[str, Any]) -> Iterator[tuple[str, Path]]:
    """Every state named in x-lifecycle, with where it is named."""
    base: Path = ("x-lifecycle",)
    if isinstance(raw.get("initial"), str):
        yield raw["initial"], (*base, "initial")
    yield from _creation_and_update_states(raw)
    for index, state in enumerate(raw.get("terminal") or []):
        yield str(state), (*base, "terminal", index)
    for action, move in (raw.get("transitions") or {}).items():
        if not isinstance(move, Mapping):
            continue
        for index, state in enumerate(move.get("from") or []):
            yield str(state), (*base, "transitions", action, "from", index)
        if isinstance(move.get("to"), str):
            yield move["to"], (*base, "transitions", action, "to")
        for index, guard in enumerate(move.get("when") or []):
            if isinstance(guard, Mapping) and isinstance(guard.get("to"), str):
                yield guard["to"], (*base, "transitions", action, "when", index, "to")
    yield from _copy_and_delete_states(raw)
    for index, timer in enumerate(raw.get("timers") or []):
        if not isinstance(timer, Mapping):
            continue
        for position, state in enumerate(timer.get("from") or []):
            yield str(state), (*base, "timers", index, "from", position)
        if isinstance(timer.get("to"), str):
            yield timer["to"], (*base, "timers", index, "to")


def _creation_and_update_states(raw: Mapping[str, Any]) -> Iterator[tuple[str, Path]]:
    base: Path = ("x-lifecycle",)
    for index, state in enumerate(raw.get("create_into") or []):
        yield str(state), (*base, "create_into", index)
    updates: Mapping[str, Any] = raw["updates"] if isinstance(raw.get("updates"), Mapping) else {}
    for index, state in enumerate(updates.get("in") or []):
        yield str(state), (*base, "updates", "in", index)
    for source, target in (updates.get("moves") or {}).items():
        yield str(source), (*base, "updates", "moves", source)
        yield str(target), (*base, "updates", "moves", source)


def _reachable(lifecycle: Lifecycle) -> set[str]:
    seen = set(lifecycle.creatable())
    queue = deque(lifecycle.creatable())
    while queue:
        state = queue.popleft()
        nexts = [t for move in lifecycle.transitions.values() if state in move.sources for t in move.targets()]
        nexts += [timer.target for timer in lifecycle.timers if state in timer.sources]
        if lifecycle.may_update(state):
            nexts.append(lifecycle.after_update(state))
        for target in nexts:
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def _check_lifecycle(
    out: _Collector, document: Mapping[str, Any], lifecycle: Lifecycle, operations: Sequence[Operation]
) -> None:
    _check_states(out, document, lifecycle, operations)
    _check_actions(out, lifecycle, operations)
    _check_links(out, document, lifecycle, operations)


def _check_states(
    out: _Collector, document: Mapping[str, Any], lifecycle: Lifecycle, operations: Sequence[Operation]
) -> None:
    raw = document["x-lifecycle"]
    declared = _declared_states(document, lifecycle, operations)
    first_use: dict[str, Path] = {}
    for state, path in _state_uses(raw):
        first_use.setdefault(state, path)
        if declared is not None and state not in declared:
            out.add("lifecycle-unknown-state", path, f"state {state!r} is not declared ({', '.join(sorted(declared))})")
    reachable = _reachable(lifecycle)
    for state in sorted((declared or set()) | set(lifecycle.states)):
        if state not in reachable:
            out.add(
                "lifecycle-unreachable",
                first_use.get(state, ("x-lifecycle",)),
                f"state {state!r} cannot be reached from {lifecycle.initial!r} by any action, guard or timer",
            )
    for state in lifecycle.states:
        leaves = lifecycle.allowed_actions(state) or lifecycle.timers_from(state)
        if lifecycle.is_terminal(state):
            for action, move in raw.get("transitions", {}).items():
                for index, source in enumerate(move.get("from") or []):
                    if source == state:
                        out.add(
                            "lifecycle-terminal-moves",
                            ("x-lifecycle", "transitions", action, "from", index),
                            f"terminal state {state!r} must not move, but {action!r} leaves it",
                        )
            for index, timer in enumerate(raw.get("timers") or []):
                if state in (timer.get("from") or []):
                    out.add(
                        "lifecycle-terminal-moves",
                        ("x-lifecycle", "timers", index),
                        f"a timer moves terminal state {state!r}",
                    )
        elif not leaves and state in reachable:
            out.add(
                "lifecycle-no-way-out",
                first_use.get(state, ("x-lifecycle",)),
                f"state {state!r} is not terminal, yet no action or timer leaves it",
            )


MOVES = ("transition", "copy")
"""Operation kinds that apply an action of the lifecycle (a transition, or a copy)."""


def _check_actions(out: _Collector, lifecycle: Lifecycle, operations: Sequence[Operation]) -> None:
    actions_with_operations = {action for op in operations if op.kind in MOVES for action in op.actions}
    for section, names in (("transitions", lifecycle.transitions), ("copies", lifecycle.copies)):
        for action in names:
            if action not in actions_with_operations:
                out.add(
                    "action-without-operation", ("x-lifecycle", section, action), f"action {action!r} has no operation"
                )
    for operation in operations:
        for action in operation.actions if operation.kind in MOVES else ():
            if not lifecycle.is_action(action):
                out.add(
                    "operation-unknown-action",
                    (*_where(operation), "x-operation"),
                    f"{operation.operation_id}: action {action!r} is not in x-lifecycle.transitions or copies",
                )
    for operation in operations:
        if operation.kind not in MOVES:
            continue
        refusals = {
            rule.status: rule.describe()
            for action in operation.actions
            if action in lifecycle.transitions
            for rule in lifecycle.transitions[action].refusals
        }
        refused_by_state = any(
            action in lifecycle.transitions or lifecycle.copies[action].sources is not None
            for action in operation.actions
            if lifecycle.is_action(action)
        )
        statuses = {lifecycle.conflict_status: "a forbidden move answers it"} if refused_by_state else {}
        _require_error_bodies(out, operation, {**statuses, **refusals})
    deleter = next((op for op in operations if op.kind == "delete"), None)
    if deleter is not None and lifecycle.deletable is not None:
        _require_error_bodies(
            out, deleter, {lifecycle.delete_refusal_status(): "a delete in a state not in deletes.in"}
        )


def _require_error_bodies(out: _Collector, operation: Operation, statuses: Mapping[int, str]) -> None:
    """Each status the lifecycle may answer on ``operation`` must be documented with a body."""
    for status, why in sorted(statuses.items()):
        response = operation.responses.get(str(status))
        if response is None or not response.content_types:
            out.add(
                "conflict-undocumented",
                (*_where(operation), "responses"),
                f"{operation.operation_id} does not document {status} with an error body ({why})",
            )


def _links_of(document: Mapping[str, Any], operation: Operation) -> set[str]:
    status = str(operation.success_status())
    response = operation.responses.get(status)
    if response is None:
        return set()
    node, _ = resolve(document, {"$ref": f"#{response.pointer}"}, "")
    found = set()
    for link in (node.get("links") or {}).values():
        target, _ = resolve(document, link, "")
        if isinstance(target, Mapping) and "operationId" in target:
            found.add(str(target["operationId"]))
    return found


def _check_links(
    out: _Collector, document: Mapping[str, Any], lifecycle: Lifecycle, operations: Sequence[Operation]
) -> None:
    transitions = [op for op in operations if op.kind == "transition"]
    by_action = {action: op for op in transitions for action in op.actions}
    sources: list[tuple[Operation, set[str]]] = [
        (op, set(lifecycle.creatable())) for op in operations if op.kind in ("create", "copy")
    ]
    for operation in transitions:
        landing = {
            state
            for action in operation.actions
            if action in lifecycle.transitions
            for state in lifecycle.transitions[action].targets()
        }
        sources.append((operation, landing))
    for operation, landing in sources:
        success = operation.responses.get(str(operation.success_status()))
        if success is None or not success.content_types:
            continue  # an answer without a body has no id for a link to carry
        try:
            linked = _links_of(document, operation)
        except ContractError:
            continue
        needed = {
            by_action[action].operation_id
            for state in landing
            for action in lifecycle.allowed_actions(state)
            if action in by_action
        }
        missing = sorted(needed - linked)
        if missing:
            out.add(
                "links-incomplete",
                (*_where(operation), "responses", str(operation.success_status())),
                f"{operation.operation_id}'s {operation.success_status()} has no link to {', '.join(missing)} "
                "(allowed next); stateful testing cannot chain that move",
            )


def _check_security_and_limits(out: _Collector, document: Mapping[str, Any], operations: Sequence[Operation]) -> None:
    limited = isinstance(document.get("x-rate-limit"), Mapping) and bool(document["x-rate-limit"].get("windows"))
    for operation in operations:
        secured = [requirement for requirement in operation.security if requirement]
        if secured and "401" not in operation.responses:
            out.add(
                "auth-undocumented",
                (*_where(operation), "responses"),
                f"{operation.operation_id} is secured but does not document 401",
            )
        scoped = any(scopes for requirement in secured for scopes in requirement.values())
        if scoped and "403" not in operation.responses:
            out.add(
                "auth-undocumented",
                (*_where(operation), "responses"),
                f"{operation.operation_id} needs scopes but does not document 403",
            )
        if limited and operation.extensions.get("x-rate-limit") is not False:
            response = operation.responses.get("429")
            if response is None or "Retry-After" not in response.headers:
                out.add(
                    "rate-limit-undocumented",
                    (*_where(operation), "responses"),
                    f"{operation.operation_id} is rate-limited but does not document 429 with a Retry-After header",
                )


def _examples(node: Any, path: Path) -> Iterator[tuple[Path, Any, Any]]:
    """(where, example, schema) for media types, parameters and headers that carry both."""
    if isinstance(node, Mapping):
        if "schema" in node and "example" in node:
            yield (*path, "example"), node["example"], node["schema"]
        if "schema" in node and isinstance(node.get("examples"), Mapping):
            for name, example in node["examples"].items():
                if isinstance(example, Mapping) and "value" in example:
                    yield (*path, "examples", name, "value"), example["value"], node["schema"]
        for key, value in node.items():
            if key not in ("schema", "example", "examples"):
                yield from _examples(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _examples(value, (*path, index))


def _rebased(schema: Any, base: str) -> Any:
    if isinstance(schema, Mapping):
        return {
            k: (base + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else _rebased(v, base))
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_rebased(item, base) for item in schema]
    return schema


def _check_examples(out: _Collector, document: Mapping[str, Any]) -> None:
    uri = "urn:lint:spec"
    registry: Registry[Any] = Registry().with_resource(uri, DRAFT202012.create_resource(document))
    for path, example, schema in _examples(document, ()):
        try:
            errors = list(Draft202012Validator(_rebased(schema, uri), registry=registry).iter_errors(example))
        except Exception as exc:
            out.add("example-invalid", path, f"the schema cannot be used: {exc}")
            continue
        if errors:
            error = errors[0]
            where = "/".join(str(part) for part in error.absolute_path) or "/"
            out.add("example-invalid", path, f"example does not match its schema at {where}: {error.message}")


def _check_duplicate_keys(source: SpecSource) -> list[Finding]:
    """A key given twice in one mapping: PyYAML keeps the last, other tools refuse the file."""
    try:
        root = yaml.compose(source.text)
    except yaml.YAMLError:
        return []
    findings, stack = [], [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value in seen:
                    mark = key.start_mark
                    findings.append(
                        Finding(
                            source.origin,
                            mark.line + 1,
                            mark.column + 1,
                            "yaml-duplicate-key",
                            f"key {key.value!r} is given twice in this mapping; only the last would count",
                        )
                    )
                seen.add(str(key.value))
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return findings


def _check_schema_keywords(out: _Collector, document: Mapping[str, Any]) -> None:
    for path, schema in schemas_in(document):
        for where, key in unknown_keywords(schema, path):
            hint = HINTS.get(key) or (
                "a typo, or the rest of a text after an unquoted comma in a flow mapping "
                "({description: a, b} makes 'b' a key): quote the text"
            )
            out.add("schema-unknown-keyword", where, f"{key!r} is no schema keyword: {hint}")


STAMP_KINDS = ("create", "write")


def _check_stamps(out: _Collector, document: Mapping[str, Any]) -> None:
    """``x-stamp`` says how the server stamps a member; the kit judges moves by it."""
    for path, schema in schemas_in(document):
        for name, member in (schema.get("properties") or {}).items() if isinstance(schema, Mapping) else ():
            if not isinstance(member, Mapping) or "x-stamp" not in member:
                continue
            where = (*path, "properties", name, "x-stamp")
            if member["x-stamp"] not in STAMP_KINDS:
                out.add("stamp-invalid", where, f"x-stamp of {name!r} is {member['x-stamp']!r}: one of create, write")
            elif member.get("readOnly") is not True:
                out.add("stamp-invalid", where, f"{name!r} is stamped by the server: mark it readOnly: true")


def _check_list_order(out: _Collector, document: Mapping[str, Any]) -> None:
    """``x-operation.order`` is the list's order without a sort: the server orders by it and
    the kit judges the list by it, so it must name a member a campaign has."""
    members: set[str] | None = None
    with contextlib.suppress(ContractError):
        members = set(campaign_members(build_contract(document, "lint"))) or None  # None: nothing to judge by
    for path, raw in _operation_paths(document):
        extension = raw.get("x-operation")
        if not isinstance(extension, Mapping) or "order" not in extension:
            continue
        where = (*path, "x-operation", "order")
        try:
            order = parse_order(extension["order"])
        except ContractError as exc:
            out.add("list-order", where, str(exc))
            continue
        if extension.get("kind") != "list":
            out.add("list-order", where, "x-operation.order belongs on a list operation (kind: list)")
        elif order is not None and members is not None and order[0] not in members:
            out.add("list-order", where, f"x-operation.order names {order[0]!r}, which a campaign does not have")


def _check_list_styles(out: _Collector, document: Mapping[str, Any], operations: Sequence[Operation]) -> None:
    """The vendor styles of listing (sort direction, filter spellings, projection) name
    parameters the operation has and states the lifecycle has; else the server would ignore
    them and the kit judge nothing."""
    lifecycle: Lifecycle | None = None
    with contextlib.suppress(ContractError):
        lifecycle = parse_lifecycle(document)
    for operation in operations:
        extension, where = operation.extension, (*_where(operation), "x-operation")
        names = parameter_names(document, operation)
        for key in ("fields_param", "exclude_fields_param"):
            if key in extension and str(extension[key]) not in names:
                message = f"{key} {extension[key]!r} is not a parameter of this operation"
                out.add("projection-param", (*where, key), message)
        styles = [key for key in _STYLE_RULES if key in extension]
        if styles and operation.kind != "list":
            for key in styles:
                message = f"x-operation.{key} belongs on a list operation (kind: list)"
                out.add(_STYLE_RULES[key], (*where, key), message)
            continue
        _check_sort_dir(out, extension, where, names)
        _check_member_filters(out, document, extension, where, names)
        _check_direction_words(out, operation, where)
        if "status_values" in extension:
            _check_status_values(out, document, operation, lifecycle)
    for operation in operations:
        if projection_of(operation.extension) is not None:
            _check_projected_answer(out, document, operation)


def _check_member_filters(
    out: _Collector, document: Mapping[str, Any], extension: Mapping[str, Any], where: Path, names: set[str]
) -> None:
    """``filters: {parameter: member}`` names a parameter the list has and a member campaigns have."""
    if "filters" not in extension:
        return
    try:
        filters = parse_words(extension["filters"], "filters")
    except ContractError as exc:
        out.add("list-filters", (*where, "filters"), str(exc))
        return
    members: set[str] = set()
    with contextlib.suppress(ContractError):
        members = set(campaign_members(build_contract(document, "lint")))
    for parameter, member in filters.items():
        if parameter not in names:
            out.add(
                "list-filters", (*where, "filters", parameter), f"filters names {parameter!r}, no parameter of the list"
            )
        if members and member not in members:
            out.add(
                "list-filters",
                (*where, "filters", parameter),
                f"filters maps {parameter!r} to {member!r}, no campaign member",
            )


_STYLE_RULES = {
    "filters": "list-filters",
    "sort_dir_param": "list-sort-dir",
    "sort_dir_values": "list-sort-dir",
    "status_values": "list-status-values",
}


def _check_sort_dir(out: _Collector, extension: Mapping[str, Any], where: Path, names: set[str]) -> None:
    if "sort_dir_param" in extension and str(extension["sort_dir_param"]) not in names:
        message = f"sort_dir_param {extension['sort_dir_param']!r} is not a parameter of this operation"
        out.add("list-sort-dir", (*where, "sort_dir_param"), message)
    if "sort_dir_values" in extension:
        try:
            parse_words(extension["sort_dir_values"], "sort_dir_values")
        except ContractError as exc:
            out.add("list-sort-dir", (*where, "sort_dir_values"), str(exc))
        if "sort_dir_param" not in extension:
            out.add("list-sort-dir", (*where, "sort_dir_values"), "sort_dir_values without a sort_dir_param")


def _check_direction_words(out: _Collector, operation: Operation, where: Path) -> None:
    """The direction parameter's schema takes exactly the direction words: an enum without
    them refuses every sort the server and the kit would send, and a free text lets generated
    requests with other words meet the 400 a word that is no direction gets."""
    if operation.kind != "list" or "sort_dir_param" not in operation.extension:
        return
    name = str(operation.extension["sort_dir_param"])
    parameter = next((p for p in operation.parameters_in("query") if p.name == name), None)
    if parameter is None:
        return
    try:
        words = listing_of(operation.extension, {name}, "status").direction_words()
    except ContractError:
        return  # reported by list-sort-dir
    enum = parameter.schema.get("enum")
    if not isinstance(enum, list):
        message = f"{name} takes any text: give its schema an enum of the direction words ({', '.join(words)})"
        out.add("list-sort-dir", (*where, "sort_dir_param"), message)
        return
    known = {str(word) for word in enum}
    for word in words:
        if word not in known:
            message = f"{name}'s enum lacks the direction word {word!r} (name the vendor's words in sort_dir_values)"
            out.add("list-sort-dir", (*where, "sort_dir_param"), message)


def _required_members(document: Mapping[str, Any], node: Any, seen: set[str]) -> set[str]:
    """Every member some schema under ``node`` requires (refs followed once)."""
    if not isinstance(node, Mapping):
        return set()
    reference = node.get("$ref")
    if isinstance(reference, str):
        if reference in seen:
            return set()
        seen.add(reference)
        node, _ = resolve(document, node, "")
        if not isinstance(node, Mapping):
            return set()
    found = {str(name) for name in node.get("required") or []}
    children = [*(node.get("properties") or {}).values(), node.get("items")]
    for key in ("allOf", "anyOf", "oneOf"):
        children.extend(node.get(key) or [])
    for child in children:
        found |= _required_members(document, child, seen)
    return found


def _check_projected_answer(out: _Collector, document: Mapping[str, Any], operation: Operation) -> None:
    """A projected answer leaves members out: a schema that requires them calls every cut
    answer invalid (the kit's schema checks, a client's validator)."""
    response = operation.responses.get(str(operation.success_status()))
    if response is None or "application/json" not in response.content_types:
        return
    schema = {"$ref": f"#{response.pointer}/content/application~1json/schema"}
    required = sorted(_required_members(document, schema, set()))
    if required:
        key = "fields_param" if "fields_param" in operation.extension else "exclude_fields_param"
        message = (
            f"the answer's schema requires {', '.join(required[:6])}, which {operation.extension[key]!r} may "
            "leave out: drop `required` from what a projection cuts"
        )
        out.add("projection-param", (*_where(operation), "x-operation", key), message)


def _check_status_values(
    out: _Collector, document: Mapping[str, Any], operation: Operation, lifecycle: Lifecycle | None
) -> None:
    where: Path = (*_where(operation), "x-operation", "status_values")
    try:
        words = parse_words(operation.extension["status_values"], "status_values")
        status_field = lifecycle.status_field if lifecycle else "status"
        listing = listing_of(operation.extension, parameter_names(document, operation), status_field)
    except ContractError as exc:
        out.add("list-status-values", where, str(exc))
        return
    if listing.status is None or listing.status not in parameter_names(document, operation):
        out.add("list-status-values", where, "status_values, but the list has no status filter (status_param)")
    for word, stored in words.items():
        if lifecycle is not None and stored not in lifecycle.states:
            message = f"status_values maps {word!r} to {stored!r}, which is not a state of x-lifecycle"
            out.add("list-status-values", (*where, word), message)


def _check_operation_heads(out: _Collector, document: Mapping[str, Any]) -> None:
    """Each operationId once, and each x-operation.kind one the mock serves (at the kind's
    line, in the words ``serve`` uses, so both point at the same place)."""
    ids: dict[str, Path] = {}
    for path, raw in _operation_paths(document):
        operation_id = raw.get("operationId")
        if isinstance(operation_id, str):
            if operation_id in ids:
                out.add("operation-id-duplicate", (*path, "operationId"), f"operationId {operation_id!r} is used twice")
            ids.setdefault(operation_id, path)
        extension = raw.get("x-operation")
        label = operation_id or f"{str(path[2]).upper()} {path[1]}"
        problem = kind_error(str(label), extension, KINDS)
        if problem is not None:
            at = ("x-operation", "kind") if isinstance(extension, Mapping) and "kind" in extension else ("x-operation",)
            out.add("operation-kind", (*path, *at) if extension is not None else path, problem)


def _report_unread_operation(out: _Collector, document: Mapping[str, Any], message: str) -> None:
    """An ``x-operation`` ``serve`` cannot read (an unknown envelope placeholder, a request
    envelope without ``$campaign``): one finding at that operation's ``x-operation``."""
    label = message.split(":", 1)[0]
    for path, raw in _operation_paths(document):
        if label in (raw.get("operationId"), f"{str(path[2]).upper()} {path[1]}"):
            out.add("operation-invalid", (*path, "x-operation"), message)
            return
    out.add("operation-invalid", (), message)


def lint_source(source: SpecSource) -> list[Finding]:
    """Every finding for one spec, in file order."""
    out = _Collector(source)
    try:
        document = yaml.safe_load(source.text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return [Finding(source.origin, line, column, "yaml-syntax", str(exc.problem))]
    if not isinstance(document, Mapping):
        return [Finding(source.origin, 1, 1, "openapi-valid", "not an OpenAPI document (expected a mapping)")]
    for error in OpenAPIV31SpecValidator(dict(document)).iter_errors():
        out.add("openapi-valid", tuple(error.absolute_path), str(error.message).splitlines()[0])
    _check_operation_heads(out, document)
    try:
        operations = parse_operations(document, KINDS)
    except ContractError as exc:
        operations = ()  # unread: checks that need them must not take it for "no operations"
        unread_operations = True
        if not any(finding.rule == "operation-kind" for finding in out.findings):
            _report_unread_operation(out, document, str(exc))
    else:
        unread_operations = False
    _check_security_and_limits(out, document, operations)
    for rule, where, message in security_problems(document):
        out.add(rule, where, message)
    _check_examples(out, document)
    _check_schema_keywords(out, document)
    _check_stamps(out, document)
    _check_list_order(out, document)
    _check_list_styles(out, document, operations)
    try:
        id_style(document)
    except ContractError as exc:
        out.add("ids-invalid", message_path(str(exc)) or ("x-ids",), str(exc))
    for where, message in error_format_problems(document):
        out.add("error-format", where, message)
    out.findings.extend(_check_duplicate_keys(source))
    try:
        lifecycle = parse_lifecycle(document)
    except ContractError as exc:
        out.add("lifecycle-invalid", message_path(str(exc)) or ("x-lifecycle",), str(exc))
    else:
        _check_lifecycle(out, document, lifecycle, operations)
    if unread_operations:  # every action would look operation-less: the unread x-operation is the finding
        out.findings = [finding for finding in out.findings if finding.rule != "action-without-operation"]
    return sorted(out.findings, key=lambda finding: (finding.line, finding.column, finding.rule))
