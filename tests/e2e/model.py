"""Scenario data model: a scenario is one JwtAuthentication config plus the
requests sent to it. Token placeholders (`{t}`, `{t2}` ...) in paths and
header values are filled from `Req.tokens` at send time, so the same concrete
token goes to the native and the wasm listener.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Union

from tokens import ISS

HOST = "api.example.com"  # explicit Host: the realm in WWW-Authenticate uses it

TokenSource = Union[str, Callable[[], str]]


@dataclass
class Req:
    name: str
    status: int                      # expected status (checked on native too)
    path: str = "/"
    headers: list = field(default_factory=list)   # [(name, value)], dups allowed
    method: str = "GET"
    tokens: dict = field(default_factory=dict)    # placeholder -> str | Tok
    body: str | None = None          # expected local-reply body, when given
    # header -> exact value; a dict/list value means "base64 of JSON equal to
    # this" (member order of objects is random in Envoy, see Scenario).
    upstream_has: dict = field(default_factory=dict)
    upstream_lacks: list = field(default_factory=list)  # headers that must be gone
    upstream_path: str | None = None  # expected upstream path (placeholders ok)
    www_authenticate: str | None = None  # expected header (placeholders ok)


@dataclass
class Scenario:
    name: str
    config: dict
    requests: list
    # Upstream headers carrying base64 JSON of an object claim: Envoy emits
    # the members in protobuf-map order, which changes from request to
    # request, so these are compared as decoded JSON values, not bytes.
    b64_json_headers: frozenset = frozenset()


@dataclass
class Resolved:
    method: str
    path: str
    headers: list
    upstream_path: str | None
    upstream_has: dict
    www_authenticate: str | None


def _fill(text: str, values: dict[str, str]) -> str:
    # Plain replace rather than str.format: header values may contain braces.
    for key, val in values.items():
        text = text.replace("{" + key + "}", val)
    return text


def _derived(values: dict[str, str]) -> dict[str, str]:
    """`{t.payload}`: the payload segment of token t; `{t.payload=}` padded."""
    out = dict(values)
    for key, token in values.items():
        parts = token.split(".")
        if len(parts) == 3:
            out[f"{key}.payload"] = parts[1]
            out[f"{key}.payload="] = parts[1] + "=" * (-len(parts[1]) % 4)
    return out


def resolve(req: Req) -> Resolved:
    values = _derived({k: (v() if callable(v) else v) for k, v in req.tokens.items()})
    headers = [("host", HOST)] + [(k, _fill(v, values)) for k, v in req.headers]
    return Resolved(
        method=req.method,
        path=_fill(req.path, values),
        headers=headers,
        upstream_path=_fill(req.upstream_path, values) if req.upstream_path else None,
        upstream_has={k: _fill(v, values) if isinstance(v, str) else v
                      for k, v in req.upstream_has.items()},
        www_authenticate=(_fill(req.www_authenticate, values)
                          if req.www_authenticate else None),
    )


# -------------------------------------------------------- config shorthands

def provider(jwks_text: str, issuer: str | None = None, **extra) -> dict:
    """A provider with inline local JWKS; issuer defaults to tokens.ISS."""
    p: dict = {"issuer": ISS if issuer is None else issuer,
               "local_jwks": {"inline_string": jwks_text}}
    if issuer == "":
        p.pop("issuer")
    p.update(extra)
    return p


def rule(prefix: str = "/", requires: dict | None = None, **match) -> dict:
    r: dict = {"match": {"prefix": prefix, **match} if prefix is not None else match}
    if requires is not None:
        r["requires"] = requires
    return r


def jwt_config(providers: dict, rules: list | None = None, **extra) -> dict:
    """JwtAuthentication; default rule: everything requires the only provider."""
    if rules is None:
        (only,) = providers
        rules = [rule("/", {"provider_name": only})]
    return {"providers": providers, "rules": rules, **extra}


def bearer(placeholder: str = "t") -> list:
    return [("authorization", "Bearer {" + placeholder + "}")]
