"""The Istio dialect, continued (see test_istio.py): keys fetched from a
`jwksUri` or discovered from the issuer, through the cluster istiod would
name (`outbound|<port>||<host>`); the side-by-side example of
docs/istio-dialect.md, loaded as written; and dialect configs the module must refuse, by JSON path.
"""

from __future__ import annotations

import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

from envoy_runner import REPO
from idp_server import DISCOVERY_PATH, IdP
from scenarios.common import BAD_ISS, EXPIRED, VERIFY_FAIL
from tokens import Tok, claims, jwks, session_keys, tamper_sig
from wasm_stack import (REALM, assert_refused, check, needs_wasm, try_configs, upstream_headers,
                        wasm_stack)

pytestmark = needs_wasm

K = session_keys()
KEY = K.jwk("rsa", kid="k1")
RBAC_DENIED = "RBAC: access denied"
INVALID = f'Bearer realm="{REALM}/", error="invalid_token"'


def token(iss: str, **kw) -> str:
    now = int(time.time())
    payload = claims(**{"iss": iss, "iat": now, "exp": now + 3600, **kw})
    return Tok(kid="k1", payload=payload)()


def rbac_denied(resp) -> None:
    check(resp, 403, body=RBAC_DENIED)
    assert resp.header("www-authenticate") is None, resp.headers


def stack(name: str, configs: dict[str, dict], clusters: dict[str, int]):
    """One Envoy: a wasm listener per config, a static cluster per
    (name -> local port)."""
    return wasm_stack(name, configs, clusters)


# ---------------------------------------------------------------- jwksUri, discovery

def test_jwks_uri_and_discovery_through_the_cluster_istiod_names():
    idp = IdP()
    issuer = f"http://{idp.authority}"  # http://idp.test:<port>
    idp.set_keys(KEY)
    idp.set_discovery(issuer=issuer)
    # Istio's name for http://idp.test:<port>: port from the URI, host as written.
    cluster = f"outbound|{idp.port}||idp.test"
    configs = {
        "uri": {"istio": {"requestAuthentication": {"jwtRules": [
            {"issuer": issuer, "jwksUri": idp.url()}]}}},
        "discovered": {"istio": {"requestAuthentication": {"jwtRules": [
            {"issuer": issuer}]}, "authorizationPolicy": {"rules": [
                {"from": [{"source": {"requestPrincipals": [f"{issuer}/alice"]}}]}]}}},
    }
    try:
        with stack("istio-keys", configs, {cluster: idp.port}) as s:
            check(s.send("uri", "/", token(issuer)), 200)
            assert idp.count() >= 1
            check(s.send("uri"), 200)
            check(s.send("uri", "/", tamper_sig(token(issuer))), 401, body=VERIFY_FAIL,
                  www_authenticate=INVALID)
            check(s.send("discovered", "/", token(issuer)), 200)
            assert idp.count(DISCOVERY_PATH) >= 1
            rbac_denied(s.send("discovered", "/", token(issuer, sub="bob")))
            rbac_denied(s.send("discovered"))
    finally:
        idp.stop()


# ---------------------------------------------------------------- the docs example

PAGE = "docs/istio-dialect.md"
SECTION = "## Side by side: the resources you have and the WasmPlugin that replaces them"


def docs_example() -> tuple[list[dict], dict]:
    """The two YAML blocks of the docs' side-by-side: the Istio
    resources, and the WasmPlugin."""
    text = (REPO / PAGE).read_text()
    start = text.index(SECTION)
    section = text[start:text.index("\n## ", start + len(SECTION))]
    istio_yaml, plugin_yaml = re.findall(r"```yaml\n(.*?)```", section, re.S)[:2]
    return list(yaml.safe_load_all(istio_yaml)), yaml.safe_load(plugin_yaml)


def test_docs_plugin_config_is_the_istio_specs_pasted():
    resources, plugin = docs_example()
    specs = {r["kind"]: {k: v for k, v in r["spec"].items() if k != "selector"}
             for r in resources}
    pasted = plugin["spec"]["pluginConfig"]["istio"]
    assert pasted == {"requestAuthentication": specs["RequestAuthentication"],
                      "authorizationPolicy": specs["AuthorizationPolicy"]}
    assert plugin["spec"]["selector"] == resources[0]["spec"]["selector"]


class _Keys(BaseHTTPRequestHandler):
    """Serves the JWKS at any path (the docs' is /.well-known/jwks.json)."""

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        body = jwks(KEY).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args) -> None:
        pass


def test_docs_plugin_config_gives_the_answers_the_docs_state():
    _, plugin = docs_example()
    config = plugin["spec"]["pluginConfig"]
    rule = config["istio"]["requestAuthentication"]["jwtRules"][0]
    iss, aud = rule["issuer"], rule["audiences"][0]
    keys = ThreadingHTTPServer(("127.0.0.1", 0), _Keys)
    threading.Thread(target=keys.serve_forever, daemon=True).start()
    good = {"aud": aud, "scope": "openid orders:read"}
    try:
        # The cluster the docs name for https://idp.example.com (a local,
        # plain-HTTP stand-in: the module speaks HTTP to the cluster).
        with stack("istio-docs", {"docs": config},
                   {"outbound|443||idp.example.com": keys.server_address[1]}) as s:
            resp = s.send("docs", "/", token(iss, **good))
            check(resp, 200)
            seen = upstream_headers(resp)
            assert seen.get("x-user") == ["alice"]
            assert "authorization" not in seen
            rbac_denied(s.send("docs"))
            rbac_denied(s.send("docs", "/", token(iss, aud=aud, scope="openid")))
            rbac_denied(s.send("docs", "/", token(iss, **good, groups=["contractors"])))
            check(s.send("docs", "/", token(iss, **good, groups=["staff"])), 200)
            now = int(time.time())
            check(s.send("docs", "/", token(iss, **good, iat=now - 7200, exp=now - 3600)),
                  401, body=EXPIRED, www_authenticate=INVALID)
            check(s.send("docs", "/", tamper_sig(token(iss, **good))), 401,
                  body=VERIFY_FAIL, www_authenticate=INVALID)
            check(s.send("docs", "/", token("https://evil.example.com", **good)), 401,
                  body=BAD_ISS, www_authenticate=INVALID)
    finally:
        keys.shutdown()
        keys.server_close()


# ---------------------------------------------------------------- refusals

def test_unsupported_dialect_fields_are_refused_by_path():
    rule = {"issuer": "https://idp.example.com", "jwks": jwks(KEY)}
    ra = {"requestAuthentication": {"jwtRules": [rule]}}
    results = try_configs("istio-refused", {
        "ports": {"istio": {**ra, "authorizationPolicy": {"rules": [
            {"to": [{"operation": {"ports": ["8080"]}}]}]}}},
        "bad-header": {"istio": {"requestAuthentication": {"jwtRules": [
            {**rule, "outputClaimToHeaders": [{"header": "x user", "claim": "sub"}]}]}}},
        "selector": {"istio": {"requestAuthentication": {**ra["requestAuthentication"],
                                                         "selector": {}}}},
    })
    assert_refused(results["ports"], "istio.authorization_policy.rules[0].to[0].operation.ports: "
                                     "is not supported")
    assert_refused(results["bad-header"], "istio.request_authentication.jwt_rules[0]"
                                          ".output_claim_to_headers[0].header:")
    assert_refused(results["selector"], "istio.request_authentication.selector: chooses "
                                        "workloads")
