"""jwt-guard configs checked two ways: against the JSON Schema
(schema/jwt-guard.schema.json) with a real draft-4 validator, and by the
module's own config compiler, run as Envoy would run it (`on_configure` of
the built module, under this suite's wasmtime host, pwhost.py).

Used by test_schema.py and test_deploy.py.
"""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from envoy_runner import REPO, WASM
from pwhost import Host

SCHEMA_PATH = REPO / "schema" / "jwt-guard.schema.json"
EXAMPLES = sorted((REPO / "schema" / "examples").glob("*.json"))
_CONFIG_ERROR = re.compile(r"jwt-guard: config error: (.*)")


def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


_VALIDATOR = jsonschema.Draft4Validator(schema())


def schema_errors(cfg) -> list[str]:
    """Every draft-4 validation error, as `json.path: message`."""
    out = []
    for e in sorted(_VALIDATOR.iter_errors(cfg), key=lambda e: list(e.absolute_path)):
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.absolute_path)
        out.append(f"{where or '.'}: {e.message[:300]}")
    return out


def compile_config(cfg) -> tuple[bool, str]:
    """Loads cfg (a dict, or JSON text as given to the module) into the built
    module: (accepted, the config error it logged or "")."""
    if not WASM.exists():
        pytest.fail(f"{WASM} not found: run `make build`")
    text = cfg if isinstance(cfg, str) else json.dumps(cfg)
    host = Host(str(WASM), text)
    ok = host.configure()
    errors = [m.group(1) for line in host.logs if (m := _CONFIG_ERROR.search(line))]
    return ok, "\n".join(errors)


def assert_valid(cfg, where: str) -> None:
    """cfg passes the schema and loads into the module."""
    problems = schema_errors(cfg)
    assert not problems, f"{where}: schema validation failed:\n" + "\n".join(problems)
    ok, error = compile_config(cfg)
    assert ok, f"{where}: the module refused the config: {error}"
