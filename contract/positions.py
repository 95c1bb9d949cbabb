"""Where a JSON path lies in a YAML file, as ``line:column`` (1-based), for lint messages."""

from __future__ import annotations

import re
from collections.abc import Sequence

import yaml


class Positions:
    def __init__(self, text: str) -> None:
        try:
            self._root: yaml.Node | None = yaml.compose(text)
        except yaml.YAMLError:
            self._root = None

    def of(self, path: Sequence[str | int]) -> tuple[int, int]:
        """The deepest existing node on ``path``: a mapping entry points at its key."""
        node = self._root
        if node is None:
            return 1, 1
        mark = node.start_mark
        for part in path:
            if isinstance(node, yaml.MappingNode):
                entry = next((pair for pair in node.value if pair[0].value == str(part)), None)
                if entry is None:
                    break
                mark, node = entry[0].start_mark, entry[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                mark = node.start_mark
            else:
                break
        return mark.line + 1, mark.column + 1


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def dotted_path(text: str) -> tuple[str | int, ...]:
    """``x-lifecycle.transitions.pause.when[0].to`` as the path ``Positions.of`` takes."""
    return tuple(int(index) if index else name for name, index in _STEP.findall(text))


def message_path(message: str) -> tuple[str | int, ...]:
    """The path a contract error message starts with (``x-lifecycle.initial: ...``), or ()."""
    head, separator, _ = message.partition(": ")
    if not separator or " " in head or not head.startswith("x-"):
        return ()
    return dotted_path(head)
