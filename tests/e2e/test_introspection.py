"""OAuth 2.0 token introspection (RFC 7662): the test authorization server.

Tests of `introspection_server.AuthorizationServer` alone (urllib, no
Envoy), so that what the Envoy tests read from it is proven.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from introspection_server import (BEARER_TOKEN, CLIENT_ID, CLIENT_SECRET, AuthorizationServer,
                                  opaque_token, typical_claims)


# ================================================================ the AS alone

def _post(server: AuthorizationServer, fields: dict | list | None = None,
          headers: dict | None = None, method: str = "POST", body: bytes | None = None):
    """One request to the AS: (status, headers, parsed JSON body or text)."""
    data = body if body is not None else urllib.parse.urlencode(fields or {}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{server.port}/introspect",
                                 data=data if method == "POST" else None, method=method,
                                 headers={"content-type": "application/x-www-form-urlencoded",
                                          **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            status, hdrs, raw = r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, raw = e.code, dict(e.headers), e.read()
    try:
        return status, {k.lower(): v for k, v in hdrs.items()}, json.loads(raw)
    except ValueError:
        return status, {k.lower(): v for k, v in hdrs.items()}, raw


def basic(cid: str, secret: str, encode: bool = True) -> dict:
    q = urllib.parse.quote_plus if encode else (lambda s: s)
    pair = f"{q(cid)}:{q(secret)}".encode()
    return {"authorization": "Basic " + base64.b64encode(pair).decode()}


@pytest.fixture
def server():
    made: list[AuthorizationServer] = []

    def make(**kw) -> AuthorizationServer:
        made.append(AuthorizationServer(**kw))
        return made[-1]
    yield make
    for s in made:
        s.stop()


def test_server_client_secret_basic_accepts_only_its_encoded_credentials(server):
    # An id with `:` and a secret with `+`, `%`, space: only the
    # form-urlencoded pair, split at the first `:`, is right.
    s = server(client_id="gate:way", client_secret="s3 cr+t%:x")
    tok = s.add(opaque_token(), typical_claims())
    status, _, body = _post(s, {"token": tok}, basic("gate:way", "s3 cr+t%:x"))
    assert (status, body["active"], body["sub"]) == (200, True, "alice")
    assert s.calls()[-1].auth == "client_secret_basic"
    assert s.calls()[-1].client_id == "gate:way"
    for wrong in (basic("gate:way", "s3 cr+t%:x", encode=False),  # not form-urlencoded
                  basic("gate:way", "other"), basic("gateway", "s3 cr+t%:x"),
                  {"authorization": "Basic !!!"}, {}):
        status, hdrs, body = _post(s, {"token": tok}, wrong)
        assert (status, body) == (401, {"error": "invalid_client"}), wrong
        if wrong:
            assert hdrs.get("www-authenticate") == 'Basic realm="as"'
    # The right secret sent another way, or two ways at once (RFC 6749 §2.3).
    status, _, body = _post(s, {"token": tok, "client_id": "gate:way",
                                "client_secret": "s3 cr+t%:x"})
    assert status == 401 and s.calls()[-1].auth == "client_secret_post"
    status, _, _ = _post(s, {"token": tok, "client_id": "gate:way",
                             "client_secret": "s3 cr+t%:x"}, basic("gate:way", "s3 cr+t%:x"))
    assert status == 401 and s.calls()[-1].auth == "client_secret_basic+client_secret_post"


def test_server_client_secret_post_accepts_only_its_form_fields(server):
    s = server(auth_method="client_secret_post")
    tok = s.add(opaque_token(), typical_claims())
    good = {"token": tok, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    status, _, body = _post(s, good)
    assert (status, body["active"]) == (200, True)
    assert s.calls()[-1].auth == "client_secret_post"
    for wrong in ({**good, "client_secret": "nope"}, {"token": tok, "client_id": CLIENT_ID},
                  {"token": tok}, [*good.items(), ("client_secret", CLIENT_SECRET)]):
        status, _, body = _post(s, wrong)
        assert (status, body) == (401, {"error": "invalid_client"}), wrong
    status, _, _ = _post(s, {"token": tok}, basic(CLIENT_ID, CLIENT_SECRET))
    assert status == 401 and s.calls()[-1].auth == "client_secret_basic"


def test_server_bearer_accepts_only_its_static_token(server):
    s = server(auth_method="bearer")
    tok = s.add(opaque_token(), typical_claims())
    status, _, body = _post(s, {"token": tok}, {"authorization": f"Bearer {BEARER_TOKEN}"})
    assert (status, body["active"]) == (200, True)
    assert s.calls()[-1].auth == "bearer"
    for wrong in ({"authorization": "Bearer nope"}, {"authorization": BEARER_TOKEN}, {},
                  basic(CLIENT_ID, CLIENT_SECRET)):
        status, _, body = _post(s, {"token": tok}, wrong)
        assert (status, body) == (401, {"error": "invalid_client"}), wrong


def test_server_token_table_modes_and_counts(server):
    s = server()
    auth = basic(CLIENT_ID, CLIENT_SECRET)
    answer = typical_claims()
    live = s.add(opaque_token(), answer, tenant="acme")
    gone = s.add(opaque_token(), typical_claims())
    s.revoke(gone)
    raw = s.answer_raw(opaque_token(), '{"active":"true"}')
    assert _post(s, {"token": live, "token_type_hint": "access_token"}, auth)[2] == {
        "active": True, **answer, "tenant": "acme"}
    call = s.calls(live)[0]
    assert (call.method, call.path, call.one("token_type_hint")) == \
        ("POST", "/introspect", "access_token")
    assert _post(s, {"token": gone}, auth)[2] == {"active": False}
    assert _post(s, {"token": opaque_token()}, auth)[2] == {"active": False}
    assert _post(s, {"token": raw}, auth)[2] == {"active": "true"}
    assert (s.count(), s.count(live), s.count(gone)) == (4, 1, 1)
    # No token, not a form, not a POST.
    assert _post(s, {"x": "1"}, auth)[:1] == (400,)
    assert _post(s, None, {**auth, "content-type": "application/json"},
                 body=b'{"token":"x"}')[0] == 400
    assert _post(s, None, auth, method="GET")[0] == 405
    # Failure modes answer before the credentials are checked.
    s.fail_next(1, "500")
    status, _, body = _post(s, {"token": live})
    assert (status, body["active"]) == (500, True)  # a 500 carrying the real answer
    s.respond("garbage")
    assert _post(s, {"token": live}, auth)[:1] == (200,)
    assert _post(s, {"token": live}, auth)[2] == b"<html>this is not JSON</html>"
    s.respond("oversize")
    status, _, body = _post(s, {"token": live}, auth)
    assert status == 200 and body["active"] is True and len(json.dumps(body)) > (1 << 20)
    s.respond("raw", '{"error":"access_denied"}', status=403)
    assert _post(s, {"token": live}, auth)[:1] == (403,)
    s.respond("ok")
    assert s.wait_count(3, token=live, timeout=0.1) >= 3
    with pytest.raises(TimeoutError):
        s.wait_count(99, token=live, timeout=0.1)


def test_server_down_refuses_connections_and_up_serves_again_on_the_same_port(server):
    s = server()
    port = s.port
    s.down()
    with pytest.raises(urllib.error.URLError):
        _post(s, {"token": "t"})
    s.up()
    assert s.port == port
    assert _post(s, {"token": "t"}, basic(CLIENT_ID, CLIENT_SECRET))[2] == {"active": False}
