"""What the upstream sees: forward_payload_header (plain and padded),
claim_to_headers formatting for every JSON type, and incoming copies of those
headers stripped even when no token is checked."""

from __future__ import annotations

import base64
import json

from model import Req, Scenario, bearer, jwt_config, provider, rule
from tokens import Rel, Tok, claims, jwks, session_keys

from .common import EXPIRED, MISSING

K = session_keys()
KEYS = jwks(K.jwk("rsa", kid="rsa"))

OBJ = {"b": 1, "a": [1, 2.5, "x"], "c": {"d": None}}
ARR = [1, "x", True, None]
RICH = claims(
    name="Zoë", n=42, big=12345678901, f5=5.0, f=3.25, tenth=0.1, neg=-7,
    huge=1e21, yes=True, no=False, obj=OBJ, arr=ARR, empty="",
    org={"id": "acme", "deep": {"k": "v"}, "n": 3},
)
CLAIM_HEADERS = {
    "sub": "x-sub", "name": "x-name", "n": "x-n", "big": "x-big", "f5": "x-f5",
    "f": "x-f", "tenth": "x-tenth", "neg": "x-neg", "huge": "x-huge",
    "yes": "x-yes", "no": "x-no", "obj": "x-obj", "arr": "x-arr", "empty": "x-empty",
    "org.id": "x-org-id", "org.deep.k": "x-org-deep-k", "org.n": "x-org-n",
    "org": "x-org", "absent": "x-absent", "org.absent": "x-org-absent",
}
EXPECTED = {
    "x-sub": "alice", "x-name": "Zoë", "x-n": "42", "x-big": "12345678901",
    "x-f5": "5", "x-f": "3.250000", "x-tenth": "0.100000", "x-neg": "-7.000000",
    "x-huge": "1000000000000000000000.000000", "x-yes": "true", "x-no": "false",
    "x-arr": base64.b64encode(json.dumps(ARR, separators=(",", ":")).encode()).decode(),
    "x-obj": OBJ, "x-org": RICH["org"],  # compared as decoded JSON
    "x-org-id": "acme", "x-org-deep-k": "v", "x-org-n": "3",
}
ABSENT = ["x-empty", "x-absent", "x-org-absent"]
SPOOFS = [(h, "spoofed") for h in list(CLAIM_HEADERS.values()) + ["x-jwt-payload"]]


def _claims_and_payload(pad: bool) -> Scenario:
    prov = provider(
        KEYS,
        claim_to_headers=[{"claim_name": c, "header_name": h}
                          for c, h in CLAIM_HEADERS.items()],
        forward_payload_header="x-jwt-payload",
        pad_forward_payload_header=pad,
    )
    rules = [
        rule("/open", {"allow_missing": {}}),
        rule("/failed-ok", {"allow_missing_or_failed": {}}),
        rule("/norule"),
        rule("/", {"provider_name": "p"}),
    ]
    payload = "{t.payload=}" if pad else "{t.payload}"
    rich = Tok(kid="rsa", payload=RICH)
    expired = Tok(kid="rsa", payload=claims(exp=Rel(-3600)))
    reqs = [
        Req("all-types", 200, headers=bearer(), tokens={"t": rich},
            upstream_has={**EXPECTED, "x-jwt-payload": payload}, upstream_lacks=ABSENT),
        Req("spoofed-headers-overwritten", 200, headers=bearer() + SPOOFS,
            tokens={"t": rich}, upstream_has={**EXPECTED, "x-jwt-payload": payload},
            upstream_lacks=ABSENT),
        Req("minimal-token", 200, headers=bearer(), tokens={"t": Tok(kid="rsa")},
            upstream_has={"x-sub": "alice", "x-jwt-payload": payload},
            upstream_lacks=["x-name", "x-obj", "x-org-id"]),
        Req("no-token-required", 401, headers=SPOOFS, body=MISSING),
        Req("no-token-allow-missing-strips-spoofs", 200, path="/open", headers=SPOOFS,
            upstream_lacks=[h for h, _ in SPOOFS]),
        Req("failed-token-allowed-strips-spoofs", 200, path="/failed-ok",
            headers=bearer() + SPOOFS, tokens={"t": expired},
            upstream_has={"authorization": "Bearer {t}"},
            upstream_lacks=[h for h, _ in SPOOFS]),
        Req("valid-token-allowed-failed-rule", 200, path="/failed-ok",
            headers=bearer(), tokens={"t": rich},
            upstream_has={**EXPECTED, "x-jwt-payload": payload},
            upstream_lacks=["authorization"]),
        Req("rule-without-requires-strips-spoofs", 200, path="/norule",
            headers=SPOOFS + bearer(), tokens={"t": rich},
            upstream_has={"authorization": "Bearer {t}"},
            upstream_lacks=[h for h, _ in SPOOFS]),
        Req("expired-token", 401, headers=bearer(), tokens={"t": expired}, body=EXPIRED),
    ]
    name = "fwd_claims_payload_padded" if pad else "fwd_claims_payload"
    return Scenario(name, jwt_config({"p": prov}, rules), reqs,
                    b64_json_headers=frozenset({"x-obj", "x-org"}))


def _payload_sizes() -> Scenario:
    """Payload lengths hitting each base64 remainder (0, 2, 3 pad chars)."""
    prov = provider(KEYS, forward_payload_header="x-jwt-payload",
                    pad_forward_payload_header=True, forward=True)
    reqs = []
    for extra in ("", "a", "ab"):
        tok = Tok(kid="rsa", payload=claims(pad=extra, exp=4102444800, iat=1))
        reqs.append(Req(f"pad-remainder-{len(extra)}", 200, headers=bearer(),
                        tokens={"t": tok},
                        upstream_has={"x-jwt-payload": "{t.payload=}",
                                      "authorization": "Bearer {t}"}))
    return Scenario("fwd_payload_pad_lengths", jwt_config({"p": prov}), reqs)


def _strip_unmatched() -> Scenario:
    """Observed: claim/payload headers are stripped on every request, even
    when no rule matches the path."""
    prov = provider(KEYS, claim_to_headers=[{"claim_name": "sub", "header_name": "x-sub"}],
                    forward_payload_header="x-jwt-payload")
    rules = [rule("/api", {"provider_name": "p"})]
    spoofs = [("x-sub", "root"), ("x-jwt-payload", "e30")]
    reqs = [
        Req("unmatched-path-strips", 200, path="/elsewhere", headers=spoofs,
            upstream_lacks=["x-sub", "x-jwt-payload"]),
        Req("unmatched-path-token-untouched", 200, path="/elsewhere",
            headers=spoofs + bearer(), tokens={"t": Tok(kid="rsa")},
            upstream_has={"authorization": "Bearer {t}"},
            upstream_lacks=["x-sub", "x-jwt-payload"]),
        Req("matched-path-sets", 200, path="/api/x", headers=spoofs + bearer(),
            tokens={"t": Tok(kid="rsa")},
            upstream_has={"x-sub": "alice", "x-jwt-payload": "{t.payload}"}),
        Req("matched-path-no-token", 401, path="/api/x", headers=spoofs, body=MISSING),
    ]
    return Scenario("fwd_strip_unmatched", jwt_config({"p": prov}, rules), reqs)


SCENARIOS = [_claims_and_payload(False), _claims_and_payload(True), _payload_sizes(),
             _strip_unmatched()]
