"""Local-reply bodies of the native filter, and small helpers shared by the
scenario modules."""

from __future__ import annotations

from model import Req, bearer

MISSING = "Jwt is missing"
EXPIRED = "Jwt is expired"
NOT_YET = "Jwt not yet valid"
BAD_ISS = "Jwt issuer is not configured"
BAD_AUD = "Audiences in Jwt are not allowed"
VERIFY_FAIL = "Jwt verification fails"
NO_KEY = "Jwks doesn't have key to match kid or alg from Jwt"
BAD_FORM = ("Jwt is not in the form of Header.Payload.Signature "
            "with two dots and 3 sections")
ALG_UNSUPPORTED = "Jwt header [alg] is not supported"
BAD_JSON = "Jwt payload is an invalid JSON"
EXP_NOT_POSITIVE = "Jwt payload [exp] field is not a positive 64 bit integer"
EXP_NOT_INT = "Jwt payload [exp] field is not an integer"
SUB_NOT_STRING = "Jwt payload [sub] field is not a string"


def ok(name: str, tok, **kw) -> Req:
    """A request with `Authorization: Bearer <tok>` that must pass."""
    return Req(name, 200, headers=bearer(), tokens={"t": tok}, **kw)


def deny(name: str, tok, body: str, status: int = 401, **kw) -> Req:
    """A request with `Authorization: Bearer <tok>` that must be refused."""
    return Req(name, status, headers=bearer(), tokens={"t": tok}, body=body, **kw)
