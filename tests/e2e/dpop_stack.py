"""Harness for the DPoP tests (test_dpop*.py, test_attacks_dpop.py), wasm only.

Expectations are written by hand from the behaviour contract (the DPoP
section of the provider config, the table of replies and the
WWW-Authenticate rules); the native jwt_authn has no DPoP.

Access tokens are JWTs signed by the session's issuer key (`tokens.Tok`,
kid `k1`), bound to a client key by `cnf.jkt` when asked; proofs come from
`dpop_client`. One Envoy per test module serves one listener per config
(`dpop_envoy`); a listener can have its own routes (`prefix_rewrite`) or
request-header limit.
"""

from __future__ import annotations

import json
import secrets
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from client import Response, send
from dpop_client import ALL_ALGS, DPoPKey, proof
from echo import EchoServer
from envoy_runner import Envoy, EnvoyError, bootstrap, listener, static_cluster, wasm_filter
from model import HOST, Resolved, jwt_config, provider
from tokens import Tok, claims, jwks, session_keys
from wasm_stack import REALM, _require_wasm, check, config_errors

K = session_keys()
ISSUER_KEYS = jwks(K.jwk("rsa", kid="k1"))

# Reply bodies (the contract's table).
MISSING_PROOF = "DPoP proof is missing"
TWO_PROOFS = "DPoP proof header appears more than once"
NOT_JWS = "DPoP proof is not a compact JWS"
BAD_TYP = "DPoP proof [typ] is not dpop+jwt"
BAD_ALG = "DPoP proof [alg] is not allowed"
NO_JWK = "DPoP proof has no [jwk]"
PRIVATE_JWK = "DPoP proof [jwk] holds a private key"
UNUSABLE_JWK = "DPoP proof [jwk] is not a usable public key for its [alg]"
BAD_SIG = "DPoP proof signature does not verify"
BAD_JTI = "DPoP proof [jti] is missing or too long"
BAD_HTM = "DPoP proof [htm] is not the request method"
BAD_HTU = "DPoP proof [htu] is not the request URI"
BAD_IAT = "DPoP proof [iat] is outside the allowed window"
BAD_ATH = "DPoP proof [ath] is not the access token's hash"
NEED_NONCE = "DPoP proof needs a valid server nonce"
WRONG_KEY = "DPoP proof key is not the key the token is bound to"
REPLAY = "DPoP proof was already used"
NOT_BOUND = "Token is not bound to a DPoP key"
DOWNGRADE = "DPoP-bound token sent without DPoP"
NEEDS_DPOP = "Token must be sent with the DPoP scheme"
TWO_TOKENS = "Request sends more than one access token"
STORE_FULL = "DPoP replay cache is full"

MAX_REALM_PATH = 256  # Envoy echoes at most this much of the path in the realm

INVALID_PROOF = "invalid_dpop_proof"
INVALID_TOKEN = "invalid_token"
USE_NONCE = "use_dpop_nonce"
INVALID_REQUEST = "invalid_request"


# ---------------------------------------------------------------- configs

def dpop(mode: str = "required", **fields) -> dict:
    return {"mode": mode, **fields}


def jwt_provider(dpop_block: dict | None, **extra) -> dict:
    """The issuer's provider (local JWKS, kid k1) with a `dpop` block."""
    p = provider(ISSUER_KEYS, **extra)
    if dpop_block is not None:
        p["dpop"] = dpop_block
    return p


def one(prov: dict, name: str = "p") -> dict:
    """A config whose every path requires provider `name`."""
    return jwt_config({name: prov})


def algs_param(allowed: list[str] | None) -> str:
    """`algs` as the challenge lists it: the configured algorithms (all
    asymmetric ones by default) in the contract's fixed order."""
    chosen = set(allowed or ALL_ALGS)
    return " ".join(a for a in ALL_ALGS if a in chosen)


def challenge(path: str, algs: str, mode: str = "required", error: str | None = None,
              scheme: str = "DPoP") -> str:
    """The exact WWW-Authenticate: `DPoP realm, algs[, error]` (required);
    `Bearer realm, DPoP realm, algs` with the error on `scheme` (allowed).
    The realm's path is capped as Envoy caps it."""
    realm = f'realm="{REALM}{path[:MAX_REALM_PATH]}"'
    err = f', error="{error}"' if error else ""
    dpop_ch = f'DPoP {realm}, algs="{algs}"' + (err if scheme == "DPoP" else "")
    if mode == "required":
        return dpop_ch
    return f"Bearer {realm}" + (err if scheme == "Bearer" else "") + f", {dpop_ch}"


# ---------------------------------------------------------------- tokens

def access_token(key: DPoPKey | None = None, jkt: str | None = None, **overrides) -> str:
    """A new JWT from the issuer (kid k1), a random `jti` making each one
    unique; bound to `key` (or to `jkt`) by `cnf.jkt` when one is given."""
    overrides.setdefault("jti", secrets.token_urlsafe(12))
    if key is not None:
        jkt = key.jkt
    if jkt is not None:
        overrides["cnf"] = {"jkt": jkt}
    return Tok(kid="k1", payload=claims(**overrides))()


def htu(path: str, host: str = HOST, scheme: str = "http") -> str:
    """The URI a proof for `path` on `host` names (query dropped)."""
    return f"{scheme}://{host}{path.split('?', 1)[0]}"


# ---------------------------------------------------------------- requests

def request(path: str = "/", token: str | None = None, proofs: tuple | list | str | None = (),
            method: str = "GET", scheme: str = "DPoP", headers: list | None = None) -> Resolved:
    """A request to HOST: `Authorization: <scheme> <token>` (if a token),
    one `DPoP` header per proof, then `headers`."""
    hdrs = [("host", HOST)]
    if token is not None:
        hdrs.append(("authorization", f"{scheme} {token}"))
    if isinstance(proofs, str):
        proofs = [proofs]
    hdrs += [("dpop", p) for p in proofs or ()]
    hdrs += headers or []
    return Resolved(method, path, hdrs, None, {}, None)


@dataclass
class DPoPStack:
    envoy: Envoy
    ports: dict[str, int]
    echo: EchoServer

    def send(self, name: str, req: Resolved) -> Response:
        return send(self.ports[name], req)

    def call(self, name: str, key: DPoPKey, token: str, path: str = "/", method: str = "GET",
             headers: list | None = None, **proof_kw) -> Response:
        """One request with `token` and a fresh proof of `key` for it
        (`proof_kw` tweak the proof; `headers` are added to the request)."""
        kw = {"token": token, **proof_kw}
        return self.send(name, request(path, token, proof(key, method, htu(path), **kw),
                                       method=method, headers=headers))

    def alive(self) -> None:
        assert self.envoy.exited() is None, f"Envoy exited\n{self.envoy.tail(30)}"


def refused(resp: Response, status: int, body: str, www: str | None) -> None:
    """A local reply: exact status, body (text/plain) and WWW-Authenticate
    (None: the header must be absent)."""
    check(resp, status, body=body, www_authenticate=www, content_type="text/plain")
    if www is None:
        assert resp.header("www-authenticate") is None, resp.header("www-authenticate")


def upstream(resp: Response) -> dict:
    """What the echo upstream received: {"path": ..., "headers": {name: [values]}}."""
    seen = json.loads(resp.body)
    headers: dict[str, list[str]] = {}
    for name, value in seen["headers"]:
        headers.setdefault(name, []).append(value)
    return {"path": seen["path"], "headers": headers}


# ---------------------------------------------------------------- Envoy

def with_routes(ls: dict, routes: list[dict]) -> dict:
    """Replace a listener's routes (each a route-config route entry)."""
    hcm = ls["filter_chains"][0]["filters"][0]["typed_config"]
    hcm["route_config"]["virtual_hosts"][0]["routes"] = routes
    return ls


def with_hcm(ls: dict, **fields) -> dict:
    """Set fields of a listener's HTTP connection manager."""
    ls["filter_chains"][0]["filters"][0]["typed_config"].update(fields)
    return ls


def with_header_limit(ls: dict, kb: int) -> dict:
    return with_hcm(ls, max_request_headers_kb=kb)


@contextmanager
def dpop_envoy(stack_name: str, configs: dict[str, dict], clusters: dict[str, int] | None = None,
               tweaks: dict | None = None, concurrency: int = 1):
    """One Envoy, a wasm listener per config (name -> config); `tweaks`:
    name -> function applied to that listener's definition; `clusters`:
    name -> local port of a STATIC cluster."""
    _require_wasm()
    echo = EchoServer().start()
    listeners = []
    for name, cfg in configs.items():
        ls = listener(name, wasm_filter(cfg))
        listeners.append((tweaks or {}).get(name, lambda x: x)(ls))
    extra = [static_cluster(n, port) for n, port in (clusters or {}).items()]
    envoy = Envoy(bootstrap(listeners, echo.port, extra_clusters=extra), stack_name,
                  concurrency=concurrency).start()
    try:
        try:
            ports = envoy.serve(configs)
        except EnvoyError as e:
            pytest.fail(f"the configs did not load:\n{config_errors(envoy)}\n{e}")
        yield DPoPStack(envoy, ports, echo)
    finally:
        envoy.stop()
        echo.stop()
