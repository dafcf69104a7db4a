"""The jwt-guard command: each case's output must equal its golden file in
tests/e2e/golden/cli/ exactly (JWT_GUARD_UPDATE_GOLDEN=1 writes them
anew; review the diff), and its exit status must be the one listed. The
inputs are the fixtures beside the goldens, the tokens cli_runner.TOKENS,
the time cli_runner.NOW. Then the errors: never a panic, always a message.
"""

from __future__ import annotations

import json
import os
import time

import pytest

from cli_runner import GOLDEN, TOKENS, run
from envoy_runner import REPO
from idp_server import DISCOVERY_PATH, JWKS_PATH, IdP

UPDATE = os.environ.get("JWT_GUARD_UPDATE_GOLDEN") == "1"

EXPLAIN = ["explain", "orders.yaml", "--now", "2026-12-04T10:00:00Z",
           "-H", "host: api.example.com"]
KEYS = ["--jwks", "idp=jwks.json"]
# An opaque token whose answer comes from a file (or from nowhere: 503).
OPAQUE = "opaque-token-of-the-goldens"
INTROSPECTED = ["explain", "introspected.json", "--now", "2026-12-04T10:00:00Z",
                "--path", "/orders", "-H", f"authorization: Bearer {OPAQUE}"]

# name -> (arguments, exit status); {name} is the token of that name.
CASES = {
    "check-bad": (["check", "bad.yaml", "orders.yaml"], 1),
    "check-ok": (["check", "orders.yaml"], 0),
    "explain-allow": (EXPLAIN + KEYS + ["--method", "POST", "--path", "/orders",
                                        "-H", "authorization: Bearer {writer}"], 0),
    "explain-403": (EXPLAIN + KEYS + ["--method", "POST", "--path", "/orders",
                                      "-H", "authorization: Bearer {reader}"], 0),
    "explain-403-show-claims": (EXPLAIN + KEYS + ["--method", "POST", "--path", "/orders",
                                                  "-H", "authorization: Bearer {reader}",
                                                  "--show-claims"], 0),
    "explain-403-json": (EXPLAIN + KEYS + ["--method", "POST", "--path", "/orders",
                                           "-H", "authorization: Bearer {reader}", "--json"], 0),
    "explain-expired": (EXPLAIN + KEYS + ["--path", "/orders/42",
                                          "-H", "authorization: Bearer {expired}"], 0),
    "explain-missing": (EXPLAIN + KEYS + ["--path", "/orders/42"], 0),
    "explain-no-keys": (EXPLAIN + ["--path", "/orders/42",
                                   "-H", "authorization: Bearer {reader}"], 0),
    "explain-health": (EXPLAIN + ["--path", "/health"], 0),
    "explain-introspected": (INTROSPECTED + ["--introspection", "as=answer-active.json"], 0),
    "explain-introspection-unavailable": (INTROSPECTED, 0),
    "token": (["token", "{writer}"], 0),
}


def _args(args: list[str]) -> list[str]:
    out = []
    for a in args:
        for name, make in TOKENS.items():
            a = a.replace("{" + name + "}", make())
        out.append(a)
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name):
    args, code = CASES[name]
    ran = run(_args(args))
    assert ran.code == code, ran.err
    path = GOLDEN / f"{name}.out"
    if UPDATE:
        path.write_text(ran.out)
    assert path.exists(), f"{path} missing: run with JWT_GUARD_UPDATE_GOLDEN=1"
    assert ran.out == path.read_text()
    for t in TOKENS.values():  # explain never prints a token
        assert t().split(".")[2] not in ran.out
    assert OPAQUE not in ran.out and "golden-client-secret" not in ran.out


def test_the_json_403_is_what_the_text_says():
    ran = run(_args(CASES["explain-403-json"][0]))
    got = json.loads(ran.out)
    assert got["decision"] == "deny" and got["reason"] == "forbidden"
    assert got["reply"]["status"] == 403
    failed = [c["condition"] for c in got["authorize"][0]["conditions"] if not c["passed"]]
    assert failed == ["all of 2 conditions", "scopes all_of: orders:write"]
    assert "claims" not in json.dumps(got["authorize"])  # values only with --show-claims


def test_schema_prints_the_schema_file():
    ran = run(["schema"])
    assert ran.code == 0
    assert ran.out == (REPO / "schema" / "jwt-guard.schema.json").read_text()


def test_every_deploy_file_checks():
    files = sorted(str(p) for p in (REPO / "deploy").rglob("*.y*ml")
                   if "serviceentry" not in p.name)
    ran = run(["check", *files])
    assert ran.code == 0, ran.out
    assert ", 0 errors," in ran.out


def test_token_reads_stdin():
    ran = run(["token", "-"], stdin="Bearer " + TOKENS["reader"]() + "\n")
    assert ran.code == 0 and ran.out.startswith("UNVERIFIED")


@pytest.mark.parametrize("args,code,says", [
    (["explain", "missing.yaml"], 1, "missing.yaml: No such file"),
    (["explain", "bad.yaml"], 1, "holds 2 configurations; choose one with --select N"),
    (["explain", "bad.yaml", "--select", "1"], 1, "Required provider ['ipd'] is not configured"),
    (["explain", "orders.yaml", "--jwks", "nobody=jwks.json"], 1, "no provider named \"nobody\""),
    (["explain", "orders.yaml", "--jwks", "idp=orders.yaml"], 1, "--jwks idp=orders.yaml:"),
    (["explain", "orders.yaml", "--now", "yesterday"], 2, "expected RFC 3339"),
    (["explain", "orders.yaml", "-H", "no-colon"], 2, "-H takes 'name: value'"),
    (["token", "a.b"], 1, "not a JWT"),
    (["check"], 2, "usage:"),
    (["frobnicate"], 2, "unknown command"),
])
def test_errors_are_messages(args, code, says):
    ran = run(args)
    assert ran.code == code, ran.err
    assert says in ran.err
    assert "panicked" not in ran.err


def test_yaml_errors_name_their_line(tmp_path):
    bad = tmp_path / "anchor.yaml"
    bad.write_text("kind: WasmPlugin\nspec:\n  pluginConfig: &cfg\n    rules: []\n")
    ran = run(["check", str(bad)])
    assert ran.code == 1
    assert f"{bad}: error: line 3: anchors (&) are not supported" in ran.out


def test_now_defaults_to_the_clock():
    ran = run(EXPLAIN[:2] + ["--path", "/health", "--json"])
    assert abs(json.loads(ran.out)["now"] - time.time()) < 60


def _json_blocks(page: str) -> list[str]:
    import re
    return re.findall(r"```json\n(.*?)```", (REPO / page).read_text(), re.S)


def test_the_docs_json_excerpt_is_the_golden_output():
    """docs/cli.md's `--json` excerpt is the 403's golden output with the
    steps elided; its schema excerpt is the schema file's beginning (its
    other output blocks are marked with their golden file and held to it
    by test_docs_snippets)."""
    excerpt, schema = _json_blocks("docs/cli.md")
    head, _, tail = excerpt.partition('  "steps": [ ... ],\n')
    golden = (GOLDEN / "explain-403-json.out").read_text()
    assert tail and golden.startswith(head) and golden.endswith(tail)
    assert (REPO / "schema" / "jwt-guard.schema.json").read_text().startswith(schema)


# ---------------------------------------------------------------- --fetch

def _fetch_config(tmp_path, idp: IdP, via_discovery: bool) -> str:
    """The orders provider with its keys at the local IdP (by 127.0.0.1,
    which curl reaches without Envoy's cluster routing)."""
    where = "discovery" if via_discovery else "remote_jwks"
    path = DISCOVERY_PATH if via_discovery else JWKS_PATH
    cfg = {"providers": {"idp": {
        "issuer": "https://idp.example.com", "audiences": ["orders-api"],
        where: {"http_uri": {"uri": f"http://127.0.0.1:{idp.port}{path}",
                             "cluster": "idp", "timeout": "2s"}}}},
        "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "idp"}}]}
    file = tmp_path / "fetch.json"
    file.write_text(json.dumps(cfg))
    return str(file)


@pytest.mark.parametrize("via_discovery", [False, True], ids=["remote_jwks", "discovery"])
def test_fetch_takes_the_keys_from_the_uri_and_only_when_asked(tmp_path, via_discovery):
    idp = IdP((GOLDEN / "jwks.json").read_text(), issuer="https://idp.example.com")
    idp.set_discovery(jwks_uri=f"http://127.0.0.1:{idp.port}{JWKS_PATH}")
    try:
        cfg = _fetch_config(tmp_path, idp, via_discovery)
        args = ["explain", cfg, "--now", "2026-12-04T10:00:00Z", "--path", "/orders",
                "-H", f"authorization: Bearer {TOKENS['reader']()}"]
        offline = run(args)
        assert offline.code == 0, offline.err
        assert "decision: deny (keys_unavailable" in offline.out
        assert idp.counts() == {}, "no network call without --fetch"
        fetched = run(args + ["--fetch"])
        assert fetched.code == 0, fetched.err
        assert "decision: allow" in fetched.out, fetched.out
        assert idp.count(JWKS_PATH) == 1
        assert idp.count(DISCOVERY_PATH) == int(via_discovery)
        idp.stop()
        down = run(args + ["--fetch"])
        assert down.code == 1 and "--fetch idp: " in down.err, down
    finally:
        idp.stop()
