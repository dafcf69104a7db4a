"""Remote JWKS and OIDC discovery (docs/remote-keys.md) in a real Envoy.

Each test starts what it needs: one `IdP` (idp_server.py) per provider, an
Envoy with a STATIC cluster per IdP (connect_timeout 1s) and the listeners
(wasm, and native jwt_authn for the parity pairs). The IdP counts requests
per path, so fetch sharing, refetch rate limits and stale-if-error are
observed from the IdP's side; waits poll for a state (the IdP's counters or
an answer) rather than sleeping, except where a cache must expire.

The fetch counts are printed in the session summary:
`remote-jwks: 100 concurrent first requests -> ...`.
"""

from __future__ import annotations

import os
import time
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, x25519

from client import Response, burst, diff
from echo import EchoServer
from envoy_runner import (Envoy, EnvoyError, bootstrap, listener, native_filter,
                          static_cluster, wasm_filter)
from idp_server import DISCOVERY_PATH, JWKS_PATH, IdP
from model import jwt_config
from scenarios.common import EXPIRED, MISSING, NO_KEY, VERIFY_FAIL
from summary import summary_line
from tokens import ISS, Tok, b64url, claims, jwks, session_keys, tamper_sig
from wasm_stack import (REALM, WasmStack, _require_wasm, assert_refused, check,
                        config_errors, needs_wasm, try_configs)

pytestmark = needs_wasm

K = session_keys()
FETCH_FAILED = "Jwks remote fetch is failed"
INVALID = f'Bearer realm="{REALM}/", error="invalid_token"'
MISSING_WWW = f'Bearer realm="{REALM}/"'

OLD = K.jwk("rsa", kid="k1")      # the key the IdP serves first
NEW = K.jwk("rsa2", kid="k2")     # the rotated-in key
MARGIN = 1.0                      # seconds allowed past a configured timeout

# Fetch counts for the session summary.
COUNTS: dict[str, int | str] = {}


def old_token(**kw) -> str:
    return Tok(alg="RS256", key="rsa", kid="k1", payload=claims(**kw))()


def new_token(**kw) -> str:
    return Tok(alg="RS256", key="rsa2", kid="k2", payload=claims(**kw))()


# ---------------------------------------------------------------- summary line

def _summary() -> str | None:
    if not COUNTS:
        return None
    c1 = COUNTS.get("burst-c1", "(not run)")
    c2 = COUNTS.get("burst-c2", "(not run)")
    storm = COUNTS.get("storm", "(not run)")
    return (f"remote-jwks: 100 concurrent first requests -> {c1} JWKS fetch(es) "
            f"with --concurrency 1, {c2} with --concurrency 2; "
            f"200-request unknown-kid storm -> {storm} refetch(es)")


@pytest.fixture(scope="module", autouse=True)
def _summary_line(request):
    summary_line(request, "remote-jwks-summary", _summary)


# One echo upstream for the module (stateless; stopping one takes ~0.5 s).
_ECHO: list[EchoServer] = []


@pytest.fixture(scope="module", autouse=True)
def _echo():
    _ECHO.append(EchoServer().start())
    yield
    _ECHO.pop().stop()


# ---------------------------------------------------------------- harness

def remote(idp: IdP, cluster: str = "idp", timeout: str = "2s", path: str = JWKS_PATH,
           **extra) -> dict:
    """A `remote_jwks` block fetching idp's path through `cluster`."""
    return {"http_uri": {"uri": idp.url(path), "cluster": cluster, "timeout": timeout},
            **extra}


def remote_config(idp: IdP, cluster: str = "idp", **extra) -> dict:
    """JwtAuthentication: `/` requires one provider with remote_jwks."""
    return jwt_config({"p": {"issuer": ISS, "remote_jwks": remote(idp, cluster, **extra)}})


def discovery_config(idp: IdP, cluster: str = "idp", issuer: str = ISS, **extra) -> dict:
    return jwt_config({"p": {"issuer": issuer, "discovery": {
        "http_uri": {"uri": idp.url(DISCOVERY_PATH), "cluster": cluster, "timeout": "2s"},
        **extra}}})


class Stack(WasmStack):
    def timed(self, name: str, token: str | None = None, path: str = "/"):
        t0 = time.monotonic()
        resp = self.send(name, path, token)
        return resp, time.monotonic() - t0

    def alive(self) -> None:
        assert self.envoy.exited() is None, f"Envoy exited\n{self.envoy.tail(30)}"


@contextmanager
def remote_stack(name: str, listeners: dict[str, dict], idps: dict[str, IdP],
                 concurrency: int = 1):
    """One Envoy: `listeners` name -> JwtAuthentication (names starting with
    `native` get jwt_authn, the others jwt-guard), a cluster per IdP."""
    _require_wasm()
    echo = _ECHO[0]
    filters = [listener(n, native_filter(c) if n.startswith("native") else wasm_filter(c))
               for n, c in listeners.items()]
    clusters = [static_cluster(cl, idp.port, connect_timeout="1s") for cl, idp in idps.items()]
    envoy = Envoy(bootstrap(filters, echo.port, extra_clusters=clusters), f"remote-{name}",
                  concurrency=concurrency).start()
    try:
        try:
            ports = envoy.serve(listeners)
        except EnvoyError as e:
            pytest.fail(f"the remote JWKS configs did not load:\n{config_errors(envoy)}\n{e}")
        try:
            yield Stack(envoy, ports)
        except AssertionError as e:
            raise AssertionError(f"{e}\n--- envoy log ({envoy.log_path}), problems:\n"
                                 f"{envoy.tail(15, problems_only=True)}") from None
    finally:
        envoy.stop()
        for idp in idps.values():
            idp.stop()


def poll(what: str, cond, timeout: float = 5.0, interval: float = 0.05):
    """Call cond() until it returns a truthy value; fail after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(interval)  # polling interval, not a wait for an event
    pytest.fail(f"{what}: not reached within {timeout}s (last: {last!r})")


def refused(resp: Response, body: str) -> None:
    check(resp, 401, body=body, www_authenticate=INVALID, content_type="text/plain")


def passes_or_refused(s, token: str, body: str) -> bool:
    """One request on listener `w`: True if it passed; False if it got the
    401 with `body` (anything else fails the test). For polling."""
    resp = s.send("w", "/", token)
    if resp.status == 401:
        refused(resp, body)
        return False
    check(resp, 200)
    return True


# ---------------------------------------------------------------- 1. first request

def test_first_request_pauses_for_the_fetch_then_passes():
    idp = IdP(jwks(OLD))
    idp.set_delay(300)
    with remote_stack("first", {"w": remote_config(idp)}, {"idp": idp}) as s:
        assert idp.count() == 0, "fetched before any request without async_fetch"
        resp, took = s.timed("w", old_token())
        check(resp, 200)
        assert took >= 0.3, f"answered in {took:.3f}s: did not wait for the 300 ms fetch"
        assert idp.count() == 1
        seen = idp.requests()[0]
        assert seen.get("host") == idp.authority, f":authority from the uri; got {seen}"
        resp, took = s.timed("w", old_token())
        check(resp, 200)
        assert took < 0.3 and idp.count() == 1, "keys not cached"


@pytest.mark.parametrize("concurrency", [1, 2])
def test_concurrent_first_requests_share_one_fetch(concurrency):
    idp = IdP(jwks(OLD))
    idp.set_delay(500)  # all 100 arrive while the fetch is in flight
    with remote_stack(f"burst-c{concurrency}", {"w": remote_config(idp)}, {"idp": idp},
                      concurrency=concurrency) as s:
        results = burst(s.ports["w"], 100, old_token())
        fetches = idp.count()
        COUNTS[f"burst-c{concurrency}"] = fetches
        print(f"\n--concurrency {concurrency}: 100 concurrent first requests -> "
              f"{fetches} JWKS fetch(es)")
        bad = [r for r in results if not (isinstance(r, tuple) and r[0] == 200)]
        assert not bad, f"{len(bad)} of 100 not 200, e.g. {bad[:3]}"
        assert fetches == 1, f"IdP saw {fetches} JWKS fetches for 100 concurrent first requests"
        if concurrency > 1:
            per_worker = worker_connections(s.envoy)
            print(f"connections per worker: {per_worker}")
            assert len([n for n in per_worker.values() if n > 0]) == concurrency, \
                f"a worker got no request: cross-worker sharing not exercised: {per_worker}"
        s.alive()


def worker_connections(envoy: Envoy) -> dict[str, int]:
    """downstream_cx_total per worker, summed over listeners (admin stats)."""
    url = envoy.admin + "/stats?filter=" + urllib.parse.quote(r"worker_\d+\.downstream_cx_total$")
    with urllib.request.urlopen(url, timeout=5) as r:
        out: dict[str, int] = {}
        for line in r.read().decode().splitlines():
            name, _, value = line.partition(": ")
            worker = name.split(".")[-2]
            out[worker] = out.get(worker, 0) + int(value)
    return out


# ---------------------------------------------------------------- 2. rotation

def test_rotated_key_accepted_without_restart_and_old_kid_refused():
    idp = IdP(jwks(OLD))
    with remote_stack("rotate", {"w": remote_config(idp, cache_duration="600s")},
                      {"idp": idp}) as s:
        check(s.send("w", "/", old_token()), 200)
        assert idp.count() == 1
        idp.set_keys(NEW)  # the IdP rotates: k1 gone, k2 in
        check(s.send("w", "/", new_token()), 200)
        assert idp.count() == 2, f"expected one unknown-kid refetch, IdP saw {idp.count()}"
        # k1 is not in the fetched set and the refetch allowance is used up.
        refused(s.send("w", "/", old_token()), NO_KEY)
        assert idp.count() == 2, f"refetch not rate limited: IdP saw {idp.count()}"
        check(s.send("w", "/", new_token()), 200)


def test_old_kid_refused_after_expiry_refetch():
    idp = IdP(jwks(OLD))
    with remote_stack("rotate-expiry", {"w": remote_config(idp, cache_duration="1s")},
                      {"idp": idp}) as s:
        check(s.send("w", "/", old_token()), 200)
        idp.set_keys(NEW)

        def old_refused():
            resp = s.send("w", "/", old_token())
            if resp.status == 200:
                return False  # still the cached set
            refused(resp, NO_KEY)
            return True
        poll("k1 refused once the 1s cache expired", old_refused, timeout=5)
        assert idp.count() in (2, 3), f"IdP saw {idp.count()} fetches"
        check(s.send("w", "/", new_token()), 200)


# ---------------------------------------------------------------- 3. unknown-kid storm

def test_unknown_kid_storm_is_rate_limited():
    idp = IdP(jwks(OLD))
    with remote_stack("storm", {"w": remote_config(idp)}, {"idp": idp}) as s:
        check(s.send("w", "/", old_token()), 200)
        assert idp.count() == 1
        tokens = [Tok(alg="RS256", key="rsa", kid=f"unknown-{uuid.uuid4().hex}")()
                  for _ in range(200)]
        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(lambda t: s.send("w", "/", t), tokens))
        refetches = idp.count() - 1
        COUNTS["storm"] = refetches
        print(f"\n200-request unknown-kid storm -> {refetches} refetch(es)")
        wrong = [(r.status, r.body[:60]) for r in answers
                 if (r.status, r.body.decode(errors="replace")) != (401, NO_KEY)]
        assert not wrong, f"{len(wrong)} of 200 not 401 {NO_KEY!r}, e.g. {wrong[:3]}"
        assert 1 <= refetches <= 2, f"unknown-kid storm caused {refetches} refetches"
        check(s.send("w", "/", old_token()), 200)
        s.alive()


# ---------------------------------------------------------------- 4./5. IdP down

def test_idp_down_at_start_fails_fast_then_recovers():
    idp = IdP(jwks(OLD), start_down=True)
    with remote_stack("down-start", {"w": remote_config(idp, timeout="2s")},
                      {"idp": idp}) as s:
        resp, took = s.timed("w", old_token())
        refused(resp, FETCH_FAILED)
        assert took < 2 + MARGIN, f"answered after {took:.2f}s (timeout 2s)"
        idp.up()

        poll("a request passes once the IdP is up",
             lambda: passes_or_refused(s, old_token(), FETCH_FAILED),
             timeout=10, interval=0.1)
        assert idp.count() >= 1


def test_idp_down_later_serves_stale_keys():
    idp = IdP(jwks(OLD))
    with remote_stack("down-later", {"w": remote_config(idp, cache_duration="1s")},
                      {"idp": idp}) as s:
        check(s.send("w", "/", old_token()), 200)
        fetched = time.monotonic()
        idp.down()
        # The one wait the test cannot poll for: the 1s cache must run out.
        time.sleep(max(0.0, fetched + 1.3 - time.monotonic()))
        for _ in range(5):
            resp, took = s.timed("w", old_token())
            check(resp, 200)
            assert took < 2 + MARGIN
        # Back up with a rotated set: refreshing resumes.
        idp.set_keys(OLD, NEW)
        idp.up()
        before = idp.count()

        def refreshed():
            check(s.send("w", "/", old_token()), 200)
            return idp.count() > before
        poll("a refetch once the IdP is back", refreshed, timeout=5, interval=0.1)
        check(s.send("w", "/", new_token()), 200)


def test_failing_refresh_is_retried_once_per_interval_not_per_request():
    """With stale keys and an IdP answering 500, a burst of requests is served
    from the cached keys and the IdP sees one refresh round per
    failed_refetch_duration (default 1 s), not one fetch per request."""
    idp = IdP(jwks(OLD))
    with remote_stack("refresh-backoff", {"w": remote_config(idp, cache_duration="1s")},
                      {"idp": idp}) as s:
        check(s.send("w", "/", old_token()), 200)
        fetched = time.monotonic()
        idp.respond("500")
        # The one wait the test cannot poll for: the 1s cache must run out.
        time.sleep(max(0.0, fetched + 1.2 - time.monotonic()))
        before = idp.count()
        start = time.monotonic()
        for _ in range(20):
            check(s.send("w", "/", old_token()), 200)
        elapsed = time.monotonic() - start
        rounds = idp.count() - before
        # One round at expiry, then at most one more per elapsed second.
        assert 1 <= rounds <= 2 + int(elapsed), (rounds, elapsed)


# ---------------------------------------------------------------- 6. bad answers

@pytest.mark.parametrize("mode", ["500", "garbage", "oversize"])
def test_bad_refresh_keeps_the_good_keys(mode):
    idp = IdP(jwks(OLD))
    with remote_stack(f"bad-{mode}", {"w": remote_config(idp, cache_duration="1s")},
                      {"idp": idp}) as s:
        check(s.send("w", "/", old_token()), 200)
        assert idp.count() == 1
        # From now on the IdP answers `mode`; its document (500 body, or
        # the JSON inside the oversize padding) would add k2 if taken.
        idp.respond(mode)
        idp.set_keys(OLD, NEW)

        def refresh_tried():
            check(s.send("w", "/", old_token()), 200)
            return idp.count() >= 2
        poll(f"a refresh attempt after expiry ({mode})", refresh_tried, timeout=5, interval=0.1)
        for _ in range(3):
            check(s.send("w", "/", old_token()), 200)
        # k2 only exists in the refused answer.
        refused(s.send("w", "/", new_token()), NO_KEY)
        s.alive()
        idp.respond("ok")

        poll("the good document is taken once the IdP answers well",
             lambda: passes_or_refused(s, new_token(), NO_KEY), timeout=5, interval=0.1)
        check(s.send("w", "/", old_token()), 200)


# ---------------------------------------------------------------- 7. slow IdP

def test_slow_idp_times_out_without_hanging():
    idp = IdP(jwks(OLD))
    idp.set_delay(3000)
    with remote_stack("slow", {"w": remote_config(idp, timeout="1s")}, {"idp": idp}) as s:
        resp, took = s.timed("w", old_token())
        refused(resp, FETCH_FAILED)
        print(f"\nslow IdP: 401 after {took:.2f}s (timeout 1s)")
        assert took < 1 + MARGIN, f"answered after {took:.2f}s (timeout 1s)"
        idp.set_delay(0)

        poll("a request passes once the IdP is fast",
             lambda: passes_or_refused(s, old_token(), FETCH_FAILED),
             timeout=10, interval=0.1)


@pytest.mark.parametrize("prefetch", [False, True], ids=["remote_jwks", "async_fetch"])
def test_hanging_idp_holds_no_request_past_the_timeout_on_any_worker(prefetch):
    """An IdP that accepts connections and never answers, two workers: every
    request waiting for keys gets its 401 by the 2 s fetch timeout, whichever
    worker holds the fetch (native jwt_authn answers after 2.0 s)."""
    idp = IdP(jwks(OLD))
    idp.set_delay(600_000)  # accepts, reads, never answers
    extra = {"async_fetch": {"failed_refetch_duration": "0.5s"}} if prefetch else {}
    with remote_stack(f"hang-{'async' if prefetch else 'plain'}",
                      {"w": remote_config(idp, timeout="2s", **extra)}, {"idp": idp},
                      concurrency=2) as s:
        if prefetch:
            idp.wait_count(JWKS_PATH, 1, timeout=5)  # the start-up fetch is hanging
        worst = 0.0
        for _ in range(3):
            results = burst(s.ports["w"], 16, old_token())
            bad = [r for r in results if not (isinstance(r, tuple) and r[:2] == (401, FETCH_FAILED))]
            assert not bad, f"{len(bad)} of 16 not 401 {FETCH_FAILED!r}, e.g. {bad[:3]}"
            worst = max(worst, *(r[2] for r in results))
        print(f"\nhanging IdP, 2 workers ({'async_fetch' if prefetch else 'remote_jwks'}): "
              f"slowest 401 after {worst:.2f}s (timeout 2s); IdP saw {idp.count()} fetch(es)")
        assert worst < 2 + 0.5, f"a request waited {worst:.2f}s for keys (timeout 2s)"
        per_worker = worker_connections(s.envoy)
        assert len([n for n in per_worker.values() if n > 0]) == 2, \
            f"a worker got no request: {per_worker}"
        s.alive()


# A JWKS as IdPs publish them: signing keys beside keys no JWT verifier here
# can use (PayPal's set carries an X25519 key), and malformed ones.
def _unusable_keys() -> list[dict]:
    x = x25519.X25519PrivateKey.generate().public_key().public_bytes_raw()
    k1 = ec.generate_private_key(ec.SECP256K1()).public_key().public_numbers()
    p256 = K.jwk("ec256")
    rsa = K.jwk("rsa2")
    return [
        {"kty": "OKP", "crv": "X25519", "kid": "x25519", "use": "enc", "x": b64url(x)},
        {"kty": "EC", "crv": "secp256k1", "kid": "k256k1",
         "x": b64url(k1.x.to_bytes(32, "big")), "y": b64url(k1.y.to_bytes(32, "big"))},
        {"kty": "AKP", "alg": "ML-DSA-44", "kid": "pq", "pub": b64url(os.urandom(1312))},
        dict(p256, kid="ecdh", alg="ECDH-ES", use="enc"),
        dict(rsa, kid="bad-n", n="!!not-base64!!"),
        dict(p256, kid="off-curve", y=p256["x"]),
        {"kty": "RSA", "kid": "short", "n": b64url(b"\xc5" * 32), "e": "AQAB"},
        {"kid": "no-kty"},
    ]


def test_a_jwks_with_keys_it_cannot_use_still_serves_its_signing_keys():
    """The fetched set mixes usable and unusable keys: tokens of the usable
    ones pass, in jwt-guard and in native jwt_authn alike; one warning per
    fetch names every skipped key."""
    signing = [K.jwk("rsa", kid="k1"), K.jwk("ec256", kid="es", alg="ES256")]
    keys = _unusable_keys()
    text = jwks(keys[0], signing[0], *keys[1:5], signing[1], *keys[5:])
    ours, native = IdP(text), IdP(text)
    es_token = Tok(alg="ES256", key="ec256", kid="es", payload=claims())()
    with remote_stack("mixed-jwks",
                      {"w": remote_config(ours, "idp-w"), "native": remote_config(native, "idp-n")},
                      {"idp-w": ours, "idp-n": native}) as s:
        for name in ("w", "native"):
            check(s.send(name, "/", old_token()), 200)
            check(s.send(name, "/", es_token), 200)
            refused(s.send(name, "/", Tok(alg="RS256", key="rsa2", kid="bad-n")()), NO_KEY)
        log = s.envoy.log_path.read_text()
        skipped = [ln for ln in log.splitlines() if "skipped 8 key(s) it cannot use" in ln]
        # jwt-guard fetched at the first token and once more for the unknown kid.
        assert ours.count() == 2, ours.count()
        assert len(skipped) == ours.count(), f"one warning per fetch; found {len(skipped)}"
        for kid in ("x25519", "k256k1", "pq", "ecdh", "bad-n", "off-curve", "short", "no-kty"):
            assert f'(kid "{kid}")' in skipped[0], kid


# ---------------------------------------------------------------- retry / async_fetch

def test_retry_policy():
    flaky, dead = IdP(jwks(OLD)), IdP(jwks(OLD))
    flaky.fail_next(2, "500")   # two failures, then the document
    dead.fail_next(3, "500")    # more failures than retries
    retry = {"num_retries": 2, "retry_back_off": {"base_interval": "0.05s",
                                                  "max_interval": "0.2s"}}
    with remote_stack("retry", {
            "flaky": remote_config(flaky, "idp-flaky", retry_policy=retry),
            "dead": remote_config(dead, "idp-dead", retry_policy=retry)},
            {"idp-flaky": flaky, "idp-dead": dead}) as s:
        check(s.send("flaky", "/", old_token()), 200)
        assert flaky.count() == 3, f"expected 1 fetch + 2 retries, IdP saw {flaky.count()}"
        resp, took = s.timed("dead", old_token())
        refused(resp, FETCH_FAILED)
        assert dead.count() == 3, f"expected 1 fetch + 2 retries, IdP saw {dead.count()}"
        assert took < 2 + MARGIN


def test_async_fetch_at_start_and_refresh_before_expiry():
    early = IdP(jwks(OLD))
    late = IdP(jwks(OLD), start_down=True)
    with remote_stack("async", {
            "early": remote_config(early, "idp-early", cache_duration="1s",
                                   async_fetch={"fast_listener": False}),
            "late": remote_config(late, "idp-late", cache_duration="600s",
                                  async_fetch={"failed_refetch_duration": "0.2s"})},
            {"idp-early": early, "idp-late": late}) as s:
        early.wait_count(JWKS_PATH, 1, timeout=5)  # no request needed
        check(s.send("early", "/", old_token()), 200)
        # Refreshed before the 1s cache runs out, again without requests.
        early.wait_count(JWKS_PATH, 2, timeout=3)
        # The start-up fetch of `late` failed (down); it is retried every 0.2s.
        refused(s.send("late", "/", old_token()), FETCH_FAILED)
        late.up()
        late.wait_count(JWKS_PATH, 1, timeout=5)
        poll("late keys usable", lambda: s.send("late", "/", old_token()).status == 200,
             timeout=3)


# ---------------------------------------------------------------- 8. discovery

def test_discovery_then_jwks_uri():
    same = IdP(jwks(OLD), issuer=ISS)          # jwks_uri on the IdP's own authority
    other = IdP(jwks(OLD), issuer=ISS)         # jwks_uri on another host, https
    other.set_discovery(jwks_uri="https://keys.idp.test/jwks.json?v=1")
    with remote_stack("discovery", {
            "same": discovery_config(same, "idp-same"),
            "other": discovery_config(other, "idp-other")},
            {"idp-same": same, "idp-other": other}) as s:
        check(s.send("same", "/", old_token()), 200)
        assert same.counts() == {DISCOVERY_PATH: 1, JWKS_PATH: 1}, same.counts()
        assert same.requests(DISCOVERY_PATH)[0].get("host") == same.authority
        assert same.requests(JWKS_PATH)[0].get("host") == same.authority
        check(s.send("same", "/", old_token()), 200)
        assert same.counts() == {DISCOVERY_PATH: 1, JWKS_PATH: 1}, "not cached"
        # Rotation: the unknown-kid refetch re-reads the document too.
        same.set_keys(NEW)
        check(s.send("same", "/", new_token()), 200)
        assert same.counts() == {DISCOVERY_PATH: 2, JWKS_PATH: 2}, same.counts()

        check(s.send("other", "/", old_token()), 200)
        path = "/jwks.json?v=1"
        assert other.counts() == {DISCOVERY_PATH: 1, path: 1}, other.counts()
        assert other.requests(path)[0].get("host") == "keys.idp.test", \
            f":authority from jwks_uri; got {other.requests(path)[0]}"


@pytest.mark.parametrize("doc_issuer", ["https://other.example.com", ISS + "/", ""])
def test_discovery_issuer_mismatch_fails(doc_issuer):
    idp = IdP(jwks(OLD), issuer=doc_issuer)
    name = {"": "empty"}.get(doc_issuer, "slash" if doc_issuer.endswith("/") else "other")
    with remote_stack(f"discovery-iss-{name}", {"w": discovery_config(idp)},
                      {"idp": idp}) as s:
        resp, took = s.timed("w", old_token())
        refused(resp, FETCH_FAILED)
        assert took < 2 + MARGIN
        assert idp.count(DISCOVERY_PATH) >= 1
        assert idp.count(JWKS_PATH) == 0, "keys fetched despite the issuer mismatch"


# ---------------------------------------------------------------- 9. parity

def test_parity_with_native_remote_jwks():
    """Native and wasm listeners with the same remote_jwks config (Envoy
    fields only), each pair with its own IdP: up, down, answering 500,
    answering garbage, serving a JWKS with no key either can use."""
    up = IdP(jwks(OLD))
    down = IdP(jwks(OLD), start_down=True)
    err = IdP(jwks(OLD))
    err.respond("500")
    junk = IdP(jwks(OLD))
    junk.respond("garbage")
    unusable = IdP(jwks(*_unusable_keys()))  # a JWKS without one key to use
    idps = {"idp-up": up, "idp-down": down, "idp-500": err, "idp-junk": junk,
            "idp-unusable": unusable}
    listeners = {}
    for cl, idp in idps.items():
        cfg = remote_config(idp, cl, cache_duration="600s")
        listeners[f"native-{cl}"] = cfg
        listeners[f"wasm-{cl}"] = cfg
    cases = {
        "idp-up": [("valid", old_token()), ("wrong kid", Tok(kid="nope")()),
                   ("expired", old_token(exp=int(time.time()) - 3600)),
                   ("no token", None), ("bad signature", tamper_sig(old_token())),
                   ("other key, kid k1", Tok(alg="RS256", key="rsa2", kid="k1")()),
                   ("valid again", old_token())],
        "idp-down": [("valid", old_token()), ("no token", None)],
        "idp-500": [("valid", old_token())],
        "idp-junk": [("valid", old_token())],
        "idp-unusable": [("valid", old_token()), ("no token", None)],
    }
    expected = {("idp-up", "valid"): 200, ("idp-up", "valid again"): 200}
    bodies = {("idp-up", "wrong kid"): NO_KEY, ("idp-up", "expired"): EXPIRED,
              ("idp-up", "no token"): MISSING, ("idp-up", "bad signature"): VERIFY_FAIL,
              ("idp-up", "other key, kid k1"): VERIFY_FAIL,
              ("idp-down", "valid"): FETCH_FAILED, ("idp-down", "no token"): MISSING,
              ("idp-500", "valid"): FETCH_FAILED, ("idp-junk", "valid"): FETCH_FAILED,
              ("idp-unusable", "valid"): FETCH_FAILED, ("idp-unusable", "no token"): MISSING}
    disagree, unexpected = [], []
    with remote_stack("parity", listeners, idps) as s:
        for cl, reqs in cases.items():
            for label, token in reqs:
                native = s.send(f"native-{cl}", "/", token)
                wasm = s.send(f"wasm-{cl}", "/", token)
                d = diff(native.view(), wasm.view())
                if d:
                    disagree.append(f"{cl} / {label}: " + "; ".join(
                        f"{k}: native {a!r} vs wasm {b!r}" for k, (a, b) in d.items()))
                want_body = bodies.get((cl, label))
                want_status = expected.get((cl, label), 401)
                got = native.body.decode(errors="replace")
                if native.status != want_status or (want_body and got != want_body):
                    unexpected.append(f"{cl} / {label}: native {native.status} {got[:60]!r}")
        print(f"\nremote-jwks parity: {sum(map(len, cases.values()))} requests, "
              f"{len(disagree)} disagree")
        assert not unexpected, "native did not answer as expected:\n" + "\n".join(unexpected)
        assert not disagree, "native vs wasm:\n" + "\n".join(disagree)
        # Both answers have the missing-token header without error=.
        assert s.send("wasm-idp-up", "/", None).header("www-authenticate") == MISSING_WWW


# ---------------------------------------------------------------- config errors

def _p(**fields) -> dict:
    return jwt_config({"p": {"issuer": ISS, **fields}})


_URI = {"uri": "http://idp.test/jwks.json", "cluster": "idp", "timeout": "1s"}
BAD_CONFIGS = {
    "remote-and-discovery": (_p(remote_jwks={"http_uri": _URI},
                                discovery={"http_uri": _URI}), "providers.p"),
    "local-and-remote": (_p(remote_jwks={"http_uri": _URI},
                            local_jwks={"inline_string": jwks(OLD)}), "providers.p"),
    "discovery-without-issuer": (jwt_config({"p": {"discovery": {"http_uri": _URI}}}),
                                 "providers.p"),
    "refetch-interval-not-a-duration": (
        _p(remote_jwks={"http_uri": _URI, "unknown_kid_refetch_interval": "soon"}),
        "providers.p.remote_jwks"),
    "max-stale-not-a-duration": (_p(remote_jwks={"http_uri": _URI, "max_stale": 5}),
                                 "providers.p.remote_jwks"),
    "no-http-uri": (_p(remote_jwks={"cache_duration": "5s"}), "providers.p.remote_jwks"),
}


@pytest.fixture(scope="module")
def refusals():
    return try_configs("remote-config", {n: c for n, (c, _) in BAD_CONFIGS.items()})


@pytest.mark.parametrize("name", list(BAD_CONFIGS))
def test_bad_remote_config_is_refused(refusals, name):
    assert_refused(refusals[name], BAD_CONFIGS[name][1])
