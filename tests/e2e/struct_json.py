"""A config as it reaches the module through protobuf's
`google.protobuf.Struct`, which is how Istio hands a WasmPlugin's
`pluginConfig` over: every number becomes a double, so `60` arrives as
`60.0`. Booleans, strings, lists and objects are unchanged.

Python's protobuf (`json_format.MessageToJson` of a Struct) writes those
doubles the way `json.dumps` writes floats: `60.0`, `1e+16`.
"""

from __future__ import annotations

import json
from typing import Any


def as_struct(value: Any) -> Any:
    """The value with every integer a float (bool is an int in Python:
    kept)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {k: as_struct(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_struct(v) for v in value]
    return value


def struct_text(cfg: dict) -> str:
    """The JSON text a Struct-carried cfg arrives as."""
    return json.dumps(as_struct(cfg))
