"""Metrics (docs/metrics-and-logs.md) in a real Envoy: a scripted mix of
requests, then Envoy's `/stats` must show exactly the counts the mix makes,
the filter-wide ones equal to native jwt_authn's for the same requests
(both filters in one Envoy, same config), and `/stats/prometheus`, with the
`stats_tags` of deploy/envoy/envoy.yaml, must show provider and reason as
labels.

Providers: `orders` (local keys) and `billing` (remote keys from an IdP,
fetched on the first request, one Envoy worker). Rules: `/orders` needs
orders, `/billing` needs billing, anything else needs nothing; CORS
preflights are let through.
"""

from __future__ import annotations

import re
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from echo import EchoServer
from envoy_runner import (REPO, Envoy, EnvoyError, bootstrap, listener, native_filter,
                          static_cluster, wasm_filter)
from idp_server import JWKS_PATH, IdP
from model import jwt_config, rule
from tokens import ISS, Rel, Tok, claims, jwks, session_keys, tamper_sig
from wasm_stack import _require_wasm, bearer_request, config_errors, needs_wasm
from client import send

pytestmark = needs_wasm

K = session_keys()
SP = "mx"
BILLING_ISS = "https://billing.example.com"


def orders_token(**kw) -> str:
    return Tok(alg="RS256", key="rsa", kid="k1", payload=claims(**kw))()


def billing_token() -> str:
    return Tok(alg="ES256", key="ec256", kid="b1", payload=claims(iss=BILLING_ISS))()


def config(idp: IdP) -> dict:
    return jwt_config(
        {
            "orders": {"issuer": ISS,
                       "local_jwks": {"inline_string": jwks(K.jwk("rsa", kid="k1"))}},
            "billing": {"issuer": BILLING_ISS, "remote_jwks": {"http_uri": {
                "uri": idp.url(JWKS_PATH), "cluster": "idp", "timeout": "2s"}}},
        },
        [rule("/orders", {"provider_name": "orders"}),
         rule("/billing", {"provider_name": "billing"})],
        stat_prefix=SP, bypass_cors_preflight=True)


def stats_tags() -> dict:
    """The stats_config deploy/envoy/envoy.yaml ships (shown in the docs)."""
    return yaml.safe_load((REPO / "deploy/envoy/envoy.yaml").read_text())["stats_config"]


# (path, token, method, extra headers) -> expected status
def mix() -> list[tuple[str, str | None, str, list, int]]:
    preflight = [("origin", "https://app.example"), ("access-control-request-method", "GET")]
    return [
        ("/orders", orders_token(), "GET", [], 200),
        ("/orders", orders_token(sub="bob"), "GET", [], 200),
        ("/orders", None, "GET", [], 401),                                     # missing
        ("/orders", orders_token(exp=Rel(-600), iat=Rel(-1200)), "GET", [], 401),  # expired
        ("/orders", tamper_sig(orders_token(sub="carol")), "GET", [], 401),   # bad signature
        ("/orders", "not-a-jwt", "GET", [], 401),                             # malformed
        ("/billing", billing_token(), "GET", [], 200),                        # fetches keys
        ("/billing", None, "GET", [], 401),                                   # missing
        ("/open", None, "GET", [], 200),                                      # no rule
        ("/orders", None, "OPTIONS", preflight, 200),                         # CORS preflight
    ]


def stats(envoy: Envoy) -> dict[str, int]:
    with urllib.request.urlopen(envoy.admin + "/stats", timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        name, _, value = line.rpartition(": ")
        if "jwt_authn" in name or "jwt_guard" in name:
            out[name] = int(value)
    return out


def prometheus(envoy: Envoy) -> list[str]:
    with urllib.request.urlopen(envoy.admin + "/stats/prometheus", timeout=5) as r:
        text = r.read().decode()
    return [ln for ln in text.splitlines()
            if re.match(r"(jwt_authn|jwt_guard)_", ln) and not ln.endswith(" 0")]


def handed_over(envoy: Envoy, timeout: float = 5.0) -> None:
    """Waits until the module's counts reached Envoy: it hands them over on
    its root tick (each second without remote keys, 20 ms with), while
    native jwt_authn counts at once. Over when ours equal native's."""
    deadline = time.monotonic() + timeout
    while True:
        got = stats(envoy)
        if all(got.get(f"wasmcustom.jwt_authn.{SP}.{s}") == got.get(f"http.n.jwt_authn.{SP}.{s}")
               for s in ("allowed", "denied")):
            return
        if time.monotonic() > deadline:
            return  # the assertions say what is missing
        time.sleep(0.1)


@pytest.fixture(scope="module")
def run():
    """The mix sent once to each listener; Envoy's stats afterwards."""
    _require_wasm()
    echo = EchoServer().start()
    idp = IdP(jwks(K.jwk("ec256", kid="b1")))
    cfg = config(idp)
    boot = bootstrap([listener("w", wasm_filter(cfg)), listener("n", native_filter(cfg))],
                     echo.port, extra_clusters=[static_cluster("idp", idp.port)])
    boot["stats_config"] = stats_tags()
    envoy = Envoy(boot, "metrics").start()
    try:
        try:
            ports = envoy.serve(["w", "n"])
        except EnvoyError as e:
            pytest.fail(f"{config_errors(envoy)}\n{e}")
        for name in ("w", "n"):
            for path, token, method, headers, status in mix():
                resp = send(ports[name], bearer_request(token, path, method, headers))
                assert resp.status == status, (name, path, method, resp.status, resp.body)
        handed_over(envoy)
        yield stats(envoy), prometheus(envoy), idp.count()
    finally:
        envoy.stop()
        idp.stop()
        echo.stop()


def g(name: str) -> str:
    return f"wasmcustom.jwt_guard.{SP}.{name}"


def test_the_scripted_mix_gives_exactly_the_expected_counts(run):
    got, _, fetches = run
    assert fetches == 2, "one fetch per listener"
    nonzero = {k: v for k, v in got.items() if v and k.startswith("wasmcustom.")}
    assert nonzero == {
        # 2 orders, 1 billing, 1 no rule, and (as in Envoy) the preflight
        f"wasmcustom.jwt_authn.{SP}.allowed": 5,
        f"wasmcustom.jwt_authn.{SP}.denied": 5,
        f"wasmcustom.jwt_authn.{SP}.cors_preflight_bypassed": 1,
        f"wasmcustom.jwt_authn.{SP}.jwks_fetch_success": 1,
        # One lookup per token, as in jwt_authn: the billing token's first
        # evaluation waited for keys and counts nothing. No token came twice.
        f"wasmcustom.jwt_authn.{SP}.jwt_cache_miss": 6,
        g("denied.reason=missing"): 2,
        g("denied.reason=expired"): 1,
        g("denied.reason=bad_signature"): 1,
        g("denied.reason=malformed"): 1,
        g("provider_allowed.provider=orders"): 2,
        g("provider_allowed.provider=billing"): 1,
        g("provider_denied.provider=orders.reason=missing"): 1,
        g("provider_denied.provider=orders.reason=expired"): 1,
        g("provider_denied.provider=orders.reason=bad_signature"): 1,
        g("provider_denied.provider=orders.reason=malformed"): 1,
        g("provider_denied.provider=billing.reason=missing"): 1,
        g("jwks_fetch_success.provider=billing"): 1,
    }, "\n".join(f"{k}: {v}" for k, v in sorted(nonzero.items()))
    assert got[g("callouts_in_flight")] == 0


def test_the_envoy_compatible_counters_equal_native_jwt_authn(run):
    got, _, _ = run
    for stat in ("allowed", "denied", "cors_preflight_bypassed", "jwks_fetch_success",
                 "jwks_fetch_failed", "jwt_cache_hit", "jwt_cache_miss"):
        native = got[f"http.n.jwt_authn.{SP}.{stat}"]
        assert got[f"wasmcustom.jwt_authn.{SP}.{stat}"] == native, stat


def test_prometheus_shows_provider_and_reason_as_labels(run):
    _, lines, _ = run
    p = f"jwt_guard_{SP}"
    assert sorted(lines) == sorted([
        f"jwt_authn_{SP}_allowed{{}} 5",
        f"jwt_authn_{SP}_cors_preflight_bypassed{{}} 1",
        f"jwt_authn_{SP}_denied{{}} 5",
        f"jwt_authn_{SP}_jwks_fetch_success{{}} 1",
        f"jwt_authn_{SP}_jwt_cache_miss{{}} 6",
        f'{p}_denied{{reason="bad_signature"}} 1',
        f'{p}_denied{{reason="expired"}} 1',
        f'{p}_denied{{reason="malformed"}} 1',
        f'{p}_denied{{reason="missing"}} 2',
        f'{p}_jwks_fetch_success{{provider="billing"}} 1',
        f'{p}_provider_allowed{{provider="billing"}} 1',
        f'{p}_provider_allowed{{provider="orders"}} 2',
        f'{p}_provider_denied{{provider="billing",reason="missing"}} 1',
        f'{p}_provider_denied{{provider="orders",reason="bad_signature"}} 1',
        f'{p}_provider_denied{{provider="orders",reason="expired"}} 1',
        f'{p}_provider_denied{{provider="orders",reason="malformed"}} 1',
        f'{p}_provider_denied{{provider="orders",reason="missing"}} 1',
    ]), "\n".join(lines)


# ---------------------------------------------------------------- Kong's labels

def lua_find(text: str, pattern: str):
    """string.find for the few Lua pattern items the meta file and Kong's
    Prometheus plugin (kong/plugins/prometheus/wasmx.lua) use: `%a`, `%w`,
    `%.`, `%-`, `.`, sets, `+`, captures. (start, captures) or None."""
    items = {"%a": "[A-Za-z]", "%w": "[A-Za-z0-9]", "%.": r"\.", "%-": r"\-"}
    rx, i = "", 0
    while i < len(pattern):
        two = pattern[i:i + 2]
        if two in items:
            rx, i = rx + items[two], i + 2
        else:
            rx, i = rx + pattern[i], i + 1
    # inside a set, the translated items must not keep their brackets
    rx = re.sub(r"\[([^\]]*)\[A-Za-z0-9\]([^\]]*)\]", r"[\1A-Za-z0-9\2]", rx)
    m = re.search(rx, text)
    return None if m is None else (m.start(), m.groups())


def kong_series(key: str, label_patterns: list[dict]) -> tuple[str, list]:
    """What Kong's Prometheus plugin makes of the wasm metric `key`
    (`pw.<filter>.<name>`): the filter name must be letters only, else no
    labels are read; the name ends where the first label starts."""
    found = lua_find(key, "pw.(%a+)%.")
    labels, first = [], len(key)
    if found is not None and found[1][0] == key.split(".")[1]:
        for p in label_patterns:
            hit = lua_find(key, p["pattern"])
            if hit is not None:
                labels.append((p["label"], hit[1][1]))
                first = min(first, hit[0])
    return key[:first].replace(".", "_"), labels


def test_kong_label_patterns_give_provider_and_reason_for_a_filter_named_in_letters():
    import json
    meta = json.loads((REPO / "deploy/kong/jwt_guard.meta.json").read_text())
    patterns = meta["metrics"]["label_patterns"]
    name = "jwt_guard.provider_denied.provider=orders-v1.reason=bad_signature"
    assert kong_series(f"pw.jwtguard.{name}", patterns) == (
        "pw_jwtguard_jwt_guard_provider_denied",
        [("provider", "orders-v1"), ("reason", "bad_signature")])
    assert kong_series("pw.jwtguard.jwt_guard.denied.reason=missing", patterns) == (
        "pw_jwtguard_jwt_guard_denied", [("reason", "missing")])
    # The filter's default name has an underscore: Kong reads no labels.
    assert kong_series(f"pw.jwt_guard.{name}", patterns)[1] == []
