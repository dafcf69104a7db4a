"""Writes jwt_guard.meta.json, Kong's filter meta file, from the config's
JSON Schema: {"config_schema": <schema/jwt-guard.schema.json>, "metrics":
{"label_patterns": [...]}}. Kong reads
<filter>.meta.json next to <filter>.wasm and validates filter chain configs
against config_schema (draft-4). Run by `make kong-meta`; the e2e suite
checks the file is up to date.

  python3 deploy/kong/make_meta.py [--check]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "schema" / "jwt-guard.schema.json"
META = Path(__file__).resolve().parent / "jwt_guard.meta.json"


# Kong's Prometheus plugin turns these parts of a filter's metric names into
# labels (Lua patterns: the second capture is the value, and the name ends
# where the first label starts). docs/metrics-and-logs.md.
LABEL_PATTERNS = [
    {"label": "provider", "pattern": "(%.provider=([%w_%-]+))"},
    {"label": "reason", "pattern": "(%.reason=([%w_]+))"},
]


def meta_text() -> str:
    """The schema file's own text, indented one level inside the wrapper
    (so the two read alike), checked to parse back to the same schema; then
    the metric label patterns."""
    text = SCHEMA.read_text().strip()
    json.loads(text)
    body = text.replace("\n", "\n  ")
    patterns = ",\n      ".join(json.dumps(p) for p in LABEL_PATTERNS)
    metrics = '{\n    "label_patterns": [\n      ' + patterns + "\n    ]\n  }"
    meta = '{\n  "config_schema": ' + body + ',\n  "metrics": ' + metrics + "\n}\n"
    assert json.loads(meta) == {"config_schema": json.loads(text),
                                "metrics": {"label_patterns": LABEL_PATTERNS}}
    return meta


def main(argv: list[str]) -> int:
    text = meta_text()
    if "--check" in argv:
        if META.read_text() != text:
            print(f"{META} is out of date: run make kong-meta", file=sys.stderr)
            return 1
        return 0
    META.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
