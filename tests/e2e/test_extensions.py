"""Configs jwt-guard accepts beyond Envoy's, checked in a real Envoy.

PEM public keys in `local_jwks`: Envoy's jwt_authn refuses them at load
(`Jwks is an invalid JSON`); jwt-guard accepts one or more PEM blocks as an
additive extension, with the key type fixing the algorithms.
"""

from __future__ import annotations

import pytest

from client import send
from echo import EchoServer
from envoy_runner import (NATIVE_ONLY, WASM, Envoy, bootstrap, listener, native_filter,
                          wasm_filter)
from model import HOST, Resolved, jwt_config, provider
from tokens import Tok, session_keys

K = session_keys()
PEM_CONFIG = jwt_config({"p": provider(K.pem("rsa") + K.pem("ed"))})


def _request(token: str) -> Resolved:
    return Resolved("GET", "/", [("host", HOST), ("authorization", f"Bearer {token}")],
                    None, {}, None)


def test_native_refuses_pem_local_jwks():
    envoy = Envoy(bootstrap([listener("native", native_filter(PEM_CONFIG))], echo_port=9),
                  "pem-native").start()
    try:
        rc = envoy.wait_exit_or_ready(timeout=60)
        refused = rc is not None or "native" not in envoy.listener_ports()
    finally:
        envoy.stop()
    assert refused, "Envoy's jwt_authn now accepts PEM local_jwks: revisit docs/configuration.md"


@pytest.mark.skipif(NATIVE_ONLY, reason="JWT_GUARD_NATIVE_ONLY=1: no wasm in this run")
def test_wasm_verifies_with_pem_keys():
    assert WASM.exists(), f"{WASM} not found: run `make build`"
    echo = EchoServer().start()
    envoy = Envoy(bootstrap([listener("wasm", wasm_filter(PEM_CONFIG))], echo.port),
                  "pem-wasm").start()
    try:
        envoy.wait_ready(timeout=60)
        port = envoy.listener_ports()["wasm"]
        assert send(port, _request(Tok(alg="RS256", key="rsa")())).status == 200
        assert send(port, _request(Tok(alg="PS256", key="rsa")())).status == 200
        assert send(port, _request(Tok(alg="EdDSA", key="ed")())).status == 200
        wrong = send(port, _request(Tok(alg="ES256", key="ec256")()))
        assert wrong.status == 401
        assert wrong.body.decode() == "Jwt verification fails"
    finally:
        envoy.stop()
        echo.stop()
