"""The decision log (docs/metrics-and-logs.md) in Envoy at trace level (the
`wasm` component) and in Kong's wasm host at debug level: a line for each
denied request appears (none for the allowed ones), and no token, no token
segment, no claim value and no client secret appears anywhere in the log.
At info level no decision line appears.

Tokens: a valid JWT, an expired one, one with a bad signature (each with a
`sub` and an `email` made for this run), an opaque token the introspection
endpoint says is active (its client secret in the config), and one it does
not know.
"""

from __future__ import annotations

import secrets
import urllib.request

import pytest

from client import send
from echo import EchoServer
from envoy_runner import Envoy, EnvoyError, bootstrap, listener, static_cluster, wasm_filter
from introspection_server import (AUDIENCE, CLIENT_ID, CLIENT_SECRET, ISSUER,
                                  AuthorizationServer, opaque_token, typical_claims)
from kong_runner import serving
from model import jwt_config, rule
from tokens import ISS, Rel, Tok, claims, jwks, session_keys, tamper_sig
from wasm_stack import _require_wasm, bearer_request, config_errors, needs_wasm

pytestmark = needs_wasm

K = session_keys()


class Run:
    """This run's tokens and the values that must never be logged."""

    def __init__(self) -> None:
        self.sub = f"sub-{secrets.token_hex(8)}"
        self.email = f"{secrets.token_hex(6)}@mail.example"
        extra = {"sub": self.sub, "email": self.email}
        self.valid = Tok(alg="RS256", key="rsa", kid="k1", payload=claims(**extra))()
        self.expired = Tok(alg="RS256", key="rsa", kid="k1",
                           payload=claims(exp=Rel(-600), iat=Rel(-1200), **extra))()
        self.bad_sig = tamper_sig(Tok(alg="RS256", key="rsa", kid="k1",
                                      payload=claims(jti=secrets.token_hex(8), **extra))())
        self.opaque = opaque_token()
        self.unknown = opaque_token()
        # (path, token, expected status, expected log line or None)
        self.requests = [
            ("/orders", self.valid, 200,
             "jwt-guard: allowed rule=rules[0] providers=orders"),
            ("/orders", self.expired, 401,
             "jwt-guard: denied rule=rules[0] provider=orders reason=expired kid=k1"),
            ("/orders", self.bad_sig, 401,
             "jwt-guard: denied rule=rules[0] provider=orders reason=bad_signature kid=k1"),
            ("/opaque", self.opaque, 200,
             "jwt-guard: allowed rule=rules[1] providers=opaque"),
            ("/opaque", self.unknown, 401,
             "jwt-guard: denied rule=rules[1] provider=opaque reason=inactive kid=-"),
        ]

    def never_logged(self) -> list[str]:
        out = [self.sub, self.email, CLIENT_SECRET, self.opaque, self.unknown]
        for t in (self.valid, self.expired, self.bad_sig):
            out.append(t)
            out.extend(t.split("."))
        return out


def config(auth: AuthorizationServer, cluster: str) -> dict:
    return jwt_config(
        {
            "orders": {"issuer": ISS,
                       "local_jwks": {"inline_string": jwks(K.jwk("rsa", kid="k1"))}},
            "opaque": {"issuer": ISSUER, "audiences": [AUDIENCE], "introspection": {
                "http_uri": {"uri": auth.url, "cluster": cluster, "timeout": "2s"},
                "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}},
        },
        [rule("/orders", {"provider_name": "orders"}),
         rule("/opaque", {"provider_name": "opaque"})])


def check(log: str, run: Run) -> None:
    leaked = [s for s in run.never_logged() if s in log]
    assert not leaked, f"logged: {leaked}"
    for _, _, status, line in run.requests:
        assert (line in log) == (status != 200), f"{line!r}: in the log: {line in log}"


@pytest.fixture()
def echo():
    server = EchoServer().start()
    yield server
    server.stop()


@pytest.fixture()
def auth():
    server = AuthorizationServer()
    yield server
    server.stop()


def test_envoy_at_trace_logs_every_decision_and_no_secret(echo, auth):
    _require_wasm()
    run = Run()
    auth.add(run.opaque, typical_claims(sub=run.sub, email=run.email))
    boot = bootstrap([listener("w", wasm_filter(config(auth, "as")))], echo.port,
                     extra_clusters=[static_cluster("as", auth.port)])
    envoy = Envoy(boot, "decision-log",
                  extra_args=["--component-log-level", "wasm:trace"]).start()
    try:
        try:
            ports = envoy.serve(["w"])
        except EnvoyError as e:
            pytest.fail(f"{config_errors(envoy)}\n{e}")
        for path, token, status, _ in run.requests:
            resp = send(ports["w"], bearer_request(token, path))
            assert resp.status == status, (path, resp.status, resp.body)
        check(envoy.log_text(), run)
    finally:
        envoy.stop()


def test_envoy_at_info_logs_no_decision(echo, auth):
    _require_wasm()
    run = Run()
    boot = bootstrap([listener("w", wasm_filter(config(auth, "as")))], echo.port,
                     extra_clusters=[static_cluster("as", auth.port)])
    envoy = Envoy(boot, "decision-log-info").start()
    try:
        ports = envoy.serve(["w"])
        resp = send(ports["w"], bearer_request(run.expired, "/orders"))
        assert resp.status == 401
        log = envoy.log_text()
        assert "jwt-guard: denied" not in log
        assert not [s for s in run.never_logged() if s in log]
    finally:
        envoy.stop()


def test_kong_at_debug_logs_denials_and_no_secret(echo, auth):
    run = Run()
    auth.add(run.opaque, typical_claims(sub=run.sub, email=run.email))
    site = config(auth, f"127.0.0.1:{auth.port}")
    with serving("decision-log", {"k": site}, echo.port, log_level="debug") as host:
        for path, token, status, _ in run.requests:
            resp = send(host.port("k"), bearer_request(token, path))
            assert resp.status == status, (path, resp.status, resp.body)
        # nginx's own debug lines show every request header: the lines of
        # the wasm host and the module ([wasm], [proxy-wasm]) are checked.
        module = "\n".join(ln for ln in host.log_text().splitlines() if "wasm]" in ln)
        check(module, run)
