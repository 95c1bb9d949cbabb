"""The lifecycle drawn: an SVG state diagram, Mermaid text, and the state x action table.

Layout comes from grandalf (a layered Sugiyama layout in pure Python, no system binaries);
the SVG is written here because it is a handful of boxes, curves and labels. Each state is
one ``<g class="node">``, so tests (and people) can count them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from html import escape

from grandalf.graphs import Edge, Graph, Vertex
from grandalf.layouts import SugiyamaLayout

from campaign_mock.contract.lifecycle import Lifecycle
from campaign_mock.contract.timefmt import format_duration

NODE_HEIGHT = 36
CHAR_WIDTH = 8.5
MARGIN = 60


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    label: str
    timed: bool
    actions: tuple[str, ...] = ()  # the lifecycle actions the arrow stands for


def arrows(lifecycle: Lifecycle) -> list[Arrow]:
    """One arrow per (from, to, kind), labels of the same pair joined."""
    labels: dict[tuple[str, str, bool], list[tuple[str, str]]] = defaultdict(list)
    for action, move in lifecycle.transitions.items():
        for source in sorted(move.sources):
            labels[(source, move.target, False)].append((action, action))
            for guard in move.guards:
                if guard.to == move.target:
                    continue  # a guard that only stores a time lands where the action does
                text = f"{action} ({guard.describe().replace(' is ', ' ')})"
                labels[(source, guard.to, False)].append((text, action))
    for source, target in lifecycle.update_moves.items():
        labels[(source, target, False)].append(("update", "update"))
    for timer in lifecycle.timers:
        delay = f" + {format_duration(timer.delay)}" if timer.delay else ""
        for source in sorted(timer.sources):
            labels[(source, timer.target, True)].append((f"at {timer.at_field}{delay} ({timer.name})", timer.name))
    return [
        Arrow(s, t, ", ".join(text for text, _ in named), timed, tuple(action for _, action in named))
        for (s, t, timed), named in labels.items()
    ]


class _State(Vertex):  # type: ignore[misc]  # grandalf ships no type information
    """A vertex whose hash is its position: grandalf's set operations then iterate the same way
    on every run (the default, id()-based hash made the layout change from run to run)."""

    def __init__(self, name: str, index: int) -> None:
        super().__init__(name)
        self._index = index

    def __hash__(self) -> int:
        return self._index


class _Move(Edge):  # type: ignore[misc]  # grandalf ships no type information
    """An edge with a hash fixed by its ends, for the same reason."""

    def __init__(self, source: _State, target: _State, count: int) -> None:
        super().__init__(source, target)
        self._key = source._index * count + target._index

    def __hash__(self) -> int:
        return self._key


class _View:
    def __init__(self, width: float, height: float) -> None:
        self.w, self.h = width, height
        self.xy = (0.0, 0.0)


class _EdgeView:
    def __init__(self) -> None:
        self.points: list[tuple[float, float]] = []

    def setpath(self, points: list[tuple[float, float]]) -> None:
        self.points = [(float(x), float(y)) for x, y in points]


Layout = tuple[dict[str, tuple[float, float, float]], dict[tuple[str, str], list[tuple[float, float]]]]


def _layout(lifecycle: Lifecycle, drawn: list[Arrow]) -> Layout:
    """Centre x, centre y and width of each state's box, and a routed path per (from, to)."""
    vertices = {state: _State(state, index) for index, state in enumerate(lifecycle.states)}
    for state, vertex in vertices.items():
        vertex.view = _View(max(90.0, len(state) * CHAR_WIDTH + 30), NODE_HEIGHT)
    edges = {}
    for source, target in sorted({(a.source, a.target) for a in drawn if a.source != a.target}):
        edge = _Move(vertices[source], vertices[target], len(vertices))
        edge.view = _EdgeView()
        edges[(source, target)] = edge
    graph = Graph(list(vertices.values()), list(edges.values()))
    offset = 0.0
    placed: dict[str, tuple[float, float, float]] = {}
    routes: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for component in graph.C:
        layout = SugiyamaLayout(component)
        # Every state nothing leads into ranks first, then the initial state: a lifecycle with an
        # unreachable state (one lint reports) still lays out instead of failing to rank it.
        initial = vertices[lifecycle.initial]
        sources = [v for v in vertices.values() if v in component.sV and not v.e_in() and v is not initial]
        layout.init_all(roots=sources + ([initial] if initial in component.sV else []) or None)
        layout.yspace, layout.xspace = 100, 90
        layout.draw()
        xs = [v.view.xy[0] - v.view.w / 2 for v in component.sV]
        shift = offset - min(xs)
        for vertex in component.sV:
            placed[vertex.data] = (vertex.view.xy[0] + shift, vertex.view.xy[1], vertex.view.w)
        for key, edge in edges.items():
            if edge.v[0] in component.sV and edge.view.points:
                routes[key] = [(x + shift, y) for x, y in edge.view.points]
        offset = max(x + w / 2 for x, _, w in placed.values()) + 80
    return placed, routes


def _edge_point(center: tuple[float, float, float], toward: tuple[float, float]) -> tuple[float, float]:
    """Where the line from a box's centre toward a point leaves the box."""
    x, y, width = center
    dx, dy = toward[0] - x, toward[1] - y
    if dx == 0 and dy == 0:
        return x, y
    scale = min((width / 2) / abs(dx) if dx else math.inf, (NODE_HEIGHT / 2) / abs(dy) if dy else math.inf)
    return x + dx * scale, y + dy * scale


def _route(
    boxes: dict[str, tuple[float, float, float]], routes: dict[tuple[str, str], list[tuple[float, float]]], arrow: Arrow
) -> list[tuple[float, float]]:
    """The routed path from source to target, ends clipped to the boxes' borders."""
    source, target = boxes[arrow.source], boxes[arrow.target]
    if (arrow.source, arrow.target) in routes:
        inner = routes[(arrow.source, arrow.target)][1:-1]
    elif (arrow.target, arrow.source) in routes:
        inner = list(reversed(routes[(arrow.target, arrow.source)]))[1:-1]
    else:
        inner = []
    first = inner[0] if inner else (target[0], target[1])
    last = inner[-1] if inner else (source[0], source[1])
    return [_edge_point(source, first), *inner, _edge_point(target, last)]


def _shifted(points: list[tuple[float, float]], distance: float) -> list[tuple[float, float]]:
    """The path moved sideways, so arrows between the same two states do not overlap."""
    if not distance:
        return points
    (x0, y0), (x1, y1) = points[0], points[-1]
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    nx, ny = -(y1 - y0) / length * distance, (x1 - x0) / length * distance
    return [(x + nx, y + ny) for x, y in points]


def render_svg(
    lifecycle: Lifecycle, title: str = "Campaign lifecycle", failing: frozenset[tuple[str, str]] = frozenset()
) -> str:
    """The lifecycle as SVG; ``failing`` (state, action) pairs draw their arrows red (the kit's report)."""
    drawn = arrows(lifecycle)
    boxes, routes = _layout(lifecycle, drawn)
    xs = [x - w / 2 for x, _, w in boxes.values()] + [x + w / 2 for x, _, w in boxes.values()]
    xs += [x for points in routes.values() for x, _ in points]
    min_x, max_x = min(xs) - MARGIN - 60, max(xs) + MARGIN + 60
    min_y = min(y for _, y, _ in boxes.values()) - MARGIN - 30
    max_y = max(y for _, y, _ in boxes.values()) + MARGIN + 40
    width, height = max_x - min_x, max_y - min_y
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" class="lifecycle" '
        f'viewBox="{min_x:.0f} {min_y:.0f} {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        "<style>"
        ".node rect{fill:#eef4ff;stroke:#2b4c7e;stroke-width:1.5}"
        ".node.terminal rect{fill:#f3f3f3;stroke:#444}"
        ".node text,.edge text,.legend{font:13px sans-serif;fill:#222}"
        ".edge path{fill:none;stroke:#2b4c7e;stroke-width:1.4}"
        ".edge.timer path{stroke:#8a5a00;stroke-dasharray:6 4}"
        ".edge.timer text{fill:#8a5a00}"
        ".edge text{font-size:11px;paint-order:stroke;stroke:#fff;stroke-width:4px}"
        ".edge.failing path{stroke:#c62828;stroke-width:2.4}.edge.failing text{fill:#c62828;font-weight:bold}"
        "</style>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#2b4c7e"/></marker>'
        '<marker id="arrow-timer" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#8a5a00"/></marker></defs>',
    ]
    lanes: dict[frozenset[str], list[Arrow]] = defaultdict(list)
    for arrow in drawn:
        lanes[frozenset((arrow.source, arrow.target))].append(arrow)
    for arrow in drawn:
        lane = lanes[frozenset((arrow.source, arrow.target))]
        shift = (lane.index(arrow) - (len(lane) - 1) / 2) * 16.0
        # One orientation per pair of states, so opposite arrows land on opposite sides.
        shift = -shift if arrow.source > arrow.target else shift
        points = _route(boxes, routes, arrow)
        points = _shifted(points, shift)
        path = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points)
        middle = len(points) // 2
        if len(points) % 2 == 0:
            label_x = (points[middle - 1][0] + points[middle][0]) / 2
            label_y = (points[middle - 1][1] + points[middle][1]) / 2
        else:
            label_x, label_y = points[middle]
        kind = "timer" if arrow.timed else "transition"
        if any((arrow.source, action) in failing for action in arrow.actions):
            kind += " failing"
        marker = "arrow-timer" if arrow.timed else "arrow"
        parts.append(
            f'<g class="edge {kind}" data-from="{escape(arrow.source)}" data-to="{escape(arrow.target)}">'
            f'<path d="{path}" marker-end="url(#{marker})"/>'
            f'<text x="{label_x:.1f}" y="{label_y + 4:.1f}" text-anchor="middle">{escape(arrow.label)}</text></g>'
        )
    for state in lifecycle.states:
        x, y, box_width = boxes[state]
        classes = ["node", "state"]
        if state == lifecycle.initial:
            classes.append("initial")
        if lifecycle.is_terminal(state):
            classes.append("terminal")
        left, top = x - box_width / 2, y - NODE_HEIGHT / 2
        inner = ""
        if lifecycle.is_terminal(state):
            inner = (
                f'<rect x="{left + 4:.1f}" y="{top + 4:.1f}" width="{box_width - 8:.1f}" '
                f'height="{NODE_HEIGHT - 8}" rx="6"/>'
            )
        parts.append(
            f'<g class="{" ".join(classes)}" data-state="{escape(state)}">'
            f'<rect x="{left:.1f}" y="{top:.1f}" width="{box_width:.1f}" height="{NODE_HEIGHT}" rx="9"/>{inner}'
            f'<text x="{x:.1f}" y="{y + 4.5:.1f}" text-anchor="middle">{escape(state)}</text></g>'
        )
    ix, iy, _ = boxes[lifecycle.initial]
    parts.append(
        f'<g class="start"><circle cx="{ix:.1f}" cy="{iy - NODE_HEIGHT - 24:.1f}" r="7" fill="#222"/>'
        f'<path d="M{ix:.1f},{iy - NODE_HEIGHT - 17:.1f} L{ix:.1f},{iy - NODE_HEIGHT / 2 - 2:.1f}" stroke="#222" '
        'stroke-width="1.4" marker-end="url(#arrow)"/></g>'
    )
    parts.append(
        f'<text class="legend" x="{min_x + 12:.0f}" y="{max_y - 14:.0f}">'
        "● initial state · double border: terminal · solid: action · dashed: moved by the clock</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _mermaid_id(state: str) -> str:
    return "".join(char if char.isalnum() or char == "_" else "_" for char in state)


def render_mermaid(lifecycle: Lifecycle) -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {_mermaid_id(lifecycle.initial)}"]
    lines += [f"    [*] --> {_mermaid_id(state)} : create" for state in lifecycle.creatable()[1:]]
    for arrow in arrows(lifecycle):
        label = ("⏱ " if arrow.timed else "") + arrow.label.replace(":", " ")
        lines.append(f"    {_mermaid_id(arrow.source)} --> {_mermaid_id(arrow.target)} : {label}")
    lines += [f"    {_mermaid_id(state)} --> [*]" for state in lifecycle.states if lifecycle.is_terminal(state)]
    return "\n".join(lines) + "\n"


def state_action_table(lifecycle: Lifecycle) -> list[list[str]]:
    """Header row, then one row per state: what each action leads to, or the error status."""
    rows = [["state", *lifecycle.transitions]]
    for state in lifecycle.states:
        row = [state + (" (terminal)" if lifecycle.is_terminal(state) else "")]
        for move in lifecycle.transitions.values():
            if state in move.sources:
                guarded = "".join(
                    f"; {guard.to} if {guard.describe()}" for guard in move.guards if guard.to != move.target
                )
                refused = "".join(f"; {rule.status} unless: {rule.describe()}" for rule in move.refusals)
                row.append(move.target + refused + guarded)
            else:
                row.append(str(lifecycle.conflict_status))
        rows.append(row)
    return rows
