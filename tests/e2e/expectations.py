"""A scenario request's expectations, checked against one answer: the same
definition for every host the scenarios run through (Envoy's native filter in
test_parity, jwt-guard in Kong's host in test_kong_parity)."""

from __future__ import annotations

from client import Response, decode_b64_json
from model import Req, Resolved


def expectation_problems(resp: Response, req: Req, r: Resolved,
                         blank_is_gone: bool = False,
                         reply_body_suffix: str = "") -> list[str]:
    """What in `resp` differs from the scenario's expectations; empty if none.

    blank_is_gone: a header that must be gone upstream may also arrive with
    an empty value (for a host that cannot drop a request header, where the
    filter blanks it instead); a non-empty value is never accepted.
    reply_body_suffix: what the host appends to every non-empty local-reply
    body the filter sends.
    """
    upstream_path, upstream_has = r.upstream_path, r.upstream_has
    p = []
    if resp.status != req.status:
        p.append(f"status {resp.status}, expected {req.status} "
                 f"(body {resp.body[:200]!r})")
    if req.status == 200 and not resp.from_upstream:
        p.append("expected the request to reach the upstream; it did not")
    if req.status != 200 and resp.from_upstream:
        p.append("expected a local reply; the request reached the upstream")
    if r.www_authenticate is not None and resp.header("www-authenticate") != r.www_authenticate:
        p.append(f"www-authenticate {resp.header('www-authenticate')!r}, "
                 f"expected {r.www_authenticate!r}")
    if req.body is not None and not resp.from_upstream:
        body = resp.body.decode(errors="replace")
        want = req.body + reply_body_suffix if req.body else req.body
        if body != want:
            p.append(f"body {body!r}, expected {want!r}")
    up = resp.upstream()
    if up is not None:
        seen = dict(up["headers"])
        multi = [k for k, _ in up["headers"]]
        for name, value in upstream_has.items():
            got_value = seen.get(name)
            if not isinstance(value, str) and got_value is not None:
                got_value = decode_b64_json(got_value)
            if multi.count(name) != 1 or got_value != value:
                got = [v for k, v in up["headers"] if k == name]
                p.append(f"upstream header {name}: {got!r}, expected [{value!r}]")
        for name in req.upstream_lacks:
            left = [v for k, v in up["headers"] if k == name]
            if blank_is_gone:
                left = [v for v in left if v != ""]
            if left:
                p.append(f"upstream header {name} should be gone: {left[-1]!r}")
        if upstream_path is not None and up["path"] != upstream_path:
            p.append(f"upstream path {up['path']!r}, expected {upstream_path!r}")
    return p
