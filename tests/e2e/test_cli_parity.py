"""`jwt-guard explain --json` against the module in Envoy: every parity
scenario request (tests/e2e/scenarios) goes to the session's wasm listener
(the one test_parity.py compares with native jwt_authn) and through the
command, with the same config, headers and time. The status, body,
content type and WWW-Authenticate of a refusal, or the upstream header
changes of a request let through, must be the same: the command cannot
drift from the module.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import pytest

from cli_runner import run
from client import canonical_b64_json, send
from envoy_runner import NATIVE_ONLY
from model import resolve
from scenarios import ALL_SCENARIOS
from summary import summary_line

CASES = [(sc, rq) for sc in ALL_SCENARIOS for rq in sc.requests]
# Added by Envoy, not by a filter: its connection manager, router, and the
# HTTP/1.1 codec (content-length: 0 on a POST without a body).
ENVOY_ADDS = {"x-forwarded-proto", "x-request-id", "x-envoy-expected-rq-timeout-ms",
              "content-length"}


@dataclass
class Counts:
    requests: int = 0
    agree: int = 0


COUNTS = Counts()


@pytest.fixture(scope="module", autouse=True)
def _summary(request):
    summary_line(request, "cli-parity", lambda: (
        f"cli parity: {COUNTS.requests} requests, {COUNTS.agree} agree"
        if COUNTS.requests else None))


@pytest.fixture(scope="module")
def configs(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli-parity")
    for sc in ALL_SCENARIOS:
        (d / f"{sc.name}.json").write_text(json.dumps(sc.config))
    return d


def upstream_problems(resp, r, updates: list, b64: frozenset) -> list[str]:
    """What in the upstream request differs from the headers sent changed
    as the command says (a header Envoy joined stays comparable by name)."""
    def canon(name, v):
        return canonical_b64_json(v) if name in b64 else v
    up = resp.upstream(b64)
    seen: dict[str, list] = {}
    for k, v in up["headers"]:
        seen.setdefault(k, []).append(v)
    sent = {k.lower() for k, _ in r.headers}
    changed = {u["name"] for u in updates}
    p = []
    path = next((u["values"][0] for u in updates if u["name"] == ":path"), r.path)
    if up["path"] != path:
        p.append(f"upstream path {up['path']!r}, command {path!r}")
    for u in updates:
        if u["name"].startswith(":"):
            continue
        want = sorted(canon(u["name"], v) for v in u["values"])
        if sorted(seen.get(u["name"], [])) != want:
            p.append(f"upstream {u['name']}: {seen.get(u['name'])!r}, command {want!r}")
    for name in seen:
        if name not in sent | changed | ENVOY_ADDS:
            p.append(f"upstream {name} added, the command does not add it")
    for name in sent - changed:
        if name not in seen:
            p.append(f"upstream {name} removed, the command keeps it")
    return p


@pytest.mark.skipif(NATIVE_ONLY, reason="JWT_GUARD_NATIVE_ONLY=1: no wasm listeners")
@pytest.mark.parametrize("scenario,req", CASES,
                         ids=[f"{sc.name}/{rq.name}" for sc, rq in CASES])
def test_request(stack, configs, scenario, req):
    r = resolve(req)
    COUNTS.requests += 1
    wasm = send(stack.port(f"wasm-{scenario.name}"), r)
    now = int(time.time())
    args = ["explain", str(configs / f"{scenario.name}.json"), "--json", "--now", str(now),
            "--method", r.method, "--path", r.path]
    for name, value in r.headers:
        args += ["-H", f"{name}: {value}"]
    ran = run(args)
    assert ran.code == 0, ran.err
    cli = json.loads(ran.out)
    problems = []
    if wasm.from_upstream:
        if cli["decision"] != "allow":
            problems.append(f"Envoy let it through; the command says {cli['decision']} "
                            f"{cli['reply']}")
        else:
            problems += upstream_problems(wasm, r, cli["upstream"], scenario.b64_json_headers)
    elif cli["decision"] != "deny":
        problems.append(f"Envoy answered {wasm.status}; the command says {cli['decision']}")
    else:
        reply = cli["reply"]
        for what, envoy, command in [
            ("status", wasm.status, reply["status"]),
            ("body", wasm.body.decode(errors="replace"), reply["body"]),
            ("www-authenticate", wasm.header("www-authenticate"), reply["www_authenticate"]),
            ("content-type", wasm.header("content-type"),
             reply["content_type"] or ("text/plain" if reply["body"] else None)),
        ]:
            if envoy != command:
                problems.append(f"{what}: Envoy {envoy!r}, command {command!r}")
    assert not problems, f"{r.method} {r.path}\n" + "\n".join(problems)
    COUNTS.agree += 1
