"""Bad configurations must be refused at load time, not at request time.

For each case a short-lived Envoy is started with one listener using our wasm
filter: it must not come up serving that listener, and its log must carry a
`jwt-guard` config error naming the JSON path. The same config is also given
to the native filter, to record whether Envoy itself refuses it (parity for
the cases where it does; metadata outputs are simply not supported by us yet).

With JWT_GUARD_NATIVE_ONLY=1 only the native half runs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import pytest

from envoy_runner import (NATIVE_ONLY, WASM, Envoy, bootstrap, listener, native_filter,
                          wasm_filter)
from model import jwt_config, provider
from tokens import jwks, session_keys

K = session_keys()
GOOD = jwt_config({"p": provider(jwks(K.jwk("rsa", kid="rsa")))})


@dataclass
class Case:
    name: str
    config: dict
    path_fragment: str     # must appear on a `jwt-guard` log line
    native_refuses: bool   # what Envoy's own jwt_authn does with it


def _with(mutate) -> dict:
    cfg = copy.deepcopy(GOOD)
    mutate(cfg)
    return cfg


def _set_provider(**fields):
    return lambda cfg: cfg["providers"]["p"].update(fields)


CASES = [
    Case("unknown-provider-field", _with(_set_provider(foo=1)),
         "providers.p.foo", True),
    Case("forward-wrong-type", _with(_set_provider(forward=1)),
         "providers.p.forward", True),
    Case("jwks-unsupported-kty", _with(_set_provider(local_jwks={"inline_string": jwks(
        {"kty": "XYZ", "kid": "x", "n": "AQAB", "e": "AQAB"})})),
         "providers.p.local_jwks", True),
    Case("rule-unknown-provider", _with(lambda c: c["rules"][0].update(
        requires={"provider_name": "nope"})), "rules[0]", True),
    Case("payload-in-metadata-unsupported", _with(_set_provider(payload_in_metadata="jwt")),
         "providers.p.payload_in_metadata", False),
    Case("bad-regex", _with(lambda c: c["rules"].insert(0, {
        "match": {"safe_regex": {"google_re2": {}, "regex": "(unclosed"}},
        "requires": {"provider_name": "p"}})), "rules[0].match.safe_regex", True),
]


def _refused(envoy: Envoy, listener_name: str) -> bool:
    """True if Envoy exited, or came up without the listener."""
    # Neither ready nor exited in time raises EnvoyError: a hang fails too.
    rc = envoy.wait_exit_or_ready(timeout=60)
    if rc is not None:
        return True
    return listener_name not in envoy.listener_ports()


def _start(case: Case, kind: str, http_filter: dict) -> Envoy:
    # The cluster is never contacted: the listener must not even load.
    cfg = bootstrap([listener(kind, http_filter)], echo_port=9)
    return Envoy(cfg, f"config-error-{case.name}-{kind}").start()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_native_reference(case: Case):
    envoy = _start(case, "native", native_filter(case.config))
    try:
        refused = _refused(envoy, "native")
    finally:
        envoy.stop()
    assert refused == case.native_refuses, (
        f"native jwt_authn {'refused' if refused else 'accepted'} this config; "
        f"expected {'refusal' if case.native_refuses else 'acceptance'}\n{envoy.tail(15)}")


@pytest.mark.skipif(NATIVE_ONLY, reason="JWT_GUARD_NATIVE_ONLY=1: no wasm in this run")
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_wasm_refuses(case: Case):
    assert WASM.exists(), f"{WASM} not found: run `make build`"
    envoy = _start(case, "wasm", wasm_filter(case.config))
    try:
        refused = _refused(envoy, "wasm")
    finally:
        envoy.stop()
    log = envoy.log_text()
    ours = [line for line in log.splitlines() if "jwt-guard" in line]
    assert refused, f"Envoy accepted the listener with a bad config\n{envoy.tail(20)}"
    assert any(case.path_fragment in line for line in ours), (
        f"no jwt-guard error naming {case.path_fragment!r}; jwt-guard lines: {ours}\n"
        f"{envoy.tail(20)}")


def test_good_config_loads():
    """Control: the base config the cases mutate is itself accepted."""
    envoys = [("native", native_filter(GOOD))]
    if not NATIVE_ONLY:
        assert WASM.exists(), f"{WASM} not found: run `make build`"
        envoys.append(("wasm", wasm_filter(GOOD)))
    for kind, flt in envoys:
        envoy = Envoy(bootstrap([listener(kind, flt)], echo_port=9),
                      f"config-good-{kind}").start()
        try:
            assert not _refused(envoy, kind), f"{kind} refused the good config\n{envoy.tail(20)}"
        finally:
            envoy.stop()
