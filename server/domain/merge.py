"""JSON merge patch (RFC 7396) and default filling: plain functions on JSON values."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply ``patch`` to ``target`` as RFC 7396 says; neither argument is changed."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def fill_defaults(value: dict[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``value`` with every key of ``defaults`` it lacks (nested objects filled key by key)."""
    filled = dict(value)
    for key, default in defaults.items():
        if key not in filled:
            filled[key] = copy.deepcopy(default)
        elif isinstance(default, Mapping) and isinstance(filled[key], dict):
            filled[key] = fill_defaults(filled[key], default)
    return filled
