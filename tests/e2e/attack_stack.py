"""Harness for the attack catalogue (test_attacks*.py, ATTACKS.md).

One Envoy per test module serves, for every named config, a native jwt_authn
listener (`native-<name>`) and a jwt-guard one (`wasm-<name>`) in front of one
echo upstream; configs one side refuses get only the other listener. A
`Probe` is one hostile request with what each side must answer: jwt-guard's
answer is written by hand, the native one is either "the same" (the whole
comparable view must match, as in test_parity) or written by hand too where
the two differ on purpose.

After every test the `healthy` fixture checks that Envoy is still running,
that its log has no wasm panic, trap or crash line, and that each wasm
listener still answers (a tokenless request gets our `Jwt is missing`), so
a request that kills or wedges the VM fails the test that sent it.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Union

import pytest

from client import Response, diff, send as raw_send
from echo import EchoServer
from envoy_runner import NATIVE_ONLY, WASM, Envoy, EnvoyError, bootstrap, listener
from envoy_runner import native_filter, wasm_filter
from scenarios.common import MISSING
from wasm_stack import bearer_request, check

CATALOGUE = Path(__file__).with_name("ATTACKS.md")

# Native answers exactly as jwt-guard does (status, body, WWW-Authenticate,
# and what reached the upstream).
SAME = "same"

# Log lines that mean the module or Envoy broke: a Rust panic (the SDK's
# panic hook logs it), a trap in a proxy-wasm callback, a crash handler, or
# jwt-guard's own "cannot read/update/send" errors.
BAD_LOG = re.compile(r"panicked at|Function: proxy_on_\w+ failed|Uncaught RuntimeError|"
                     r"wasm trap|\]\[critical\]\[|Caught (Segmentation|Abort|Bus)|"
                     r"Backtrace|jwt-guard: cannot")


@dataclass
class Listen:
    """One config served on a native and/or a wasm listener."""
    config: dict
    native: bool = True
    wasm: bool = True
    # The connection manager's max_request_headers_kb (Envoy's default: 60).
    header_kb: int | None = None


@dataclass
class Answer:
    status: int
    body: str | None = None  # exact local-reply body, when given


TokenSource = Union[str, Callable[[], str]]


@dataclass
class Probe:
    """One hostile request: `token` as `Authorization: Bearer` on `config`,
    or placed in `headers`."""
    case: str                 # the ATTACKS.md row it belongs to
    variant: str
    token: TokenSource
    ours: Answer
    native: Union[Answer, str, None] = SAME   # SAME, a hand-written Answer, or None (no listener)
    config: str = "main"
    path: str = "/"
    # A 2xx answer needs a reason: it is never a forgery, and the table says why.
    accepted_because: str = ""
    # Sent instead of `Authorization: Bearer`: (name, value) pairs in which
    # `{t}` is the token and `{t2}`, `{t3}`... the tokens of `more`; `{t}` in
    # `path` is the token too (then `headers` may be empty).
    headers: list | None = None
    more: tuple = ()

    @property
    def id(self) -> str:
        return f"{self.case}/{self.variant}"

    def request(self) -> tuple[str | None, str, list | None, str]:
        """The bearer token (None when `headers` carry the tokens), the path,
        the extra headers, and the token text for messages; minted once, so
        both sides get the same tokens."""
        token = _mint(self.token)
        if self.headers is None:
            return token, self.path, None, token
        values = {"t": token, **{f"t{i}": _mint(m) for i, m in enumerate(self.more, 2)}}

        def fill(text: str) -> str:
            for key, value in values.items():
                text = text.replace("{" + key + "}", value)
            return text
        return None, fill(self.path), [(n, fill(v)) for n, v in self.headers], token


def _mint(source: TokenSource) -> str:
    return source() if callable(source) else source


class Probes(list):
    """A module's probes, in order; `add(...)` is the one way to make one
    (an `ours` of 200 stands for Answer(200))."""

    def add(self, case: str, variant: str, token: TokenSource, ours: Answer | int,
            native: Union[Answer, str, None] = SAME, **kw) -> None:
        self.append(Probe(case, variant, token, Answer(200) if ours == 200 else ours, native,
                          **kw))

    @property
    def cases(self) -> set[str]:
        return {p.case for p in self}


def _with_header_limit(ls: dict, kb: int) -> dict:
    hcm = ls["filter_chains"][0]["filters"][0]["typed_config"]
    hcm["max_request_headers_kb"] = kb
    return ls


@dataclass
class AttackStack:
    envoy: Envoy
    ports: dict[str, int]
    listens: dict[str, Listen]
    echo: EchoServer
    log_seen: int = 0

    def send(self, side: str, config: str, token: str | None, path: str = "/",
             headers: list | None = None) -> Response:
        return raw_send(self.ports[f"{side}-{config}"],
                        bearer_request(token, path, headers=headers))

    def run(self, probe: Probe) -> None:
        """Send the probe to both sides and check both answers."""
        bearer, path, headers, token = probe.request()
        if probe.ours.status // 100 == 2:
            assert probe.accepted_because, f"{probe.id}: a 2xx expectation needs a reason"
        problems = []
        wasm = self.send("wasm", probe.config, bearer, path, headers)
        problems += _mismatch("jwt-guard", wasm, probe.ours)
        if probe.native is not None:
            native = self.send("native", probe.config, bearer, path, headers)
            want = probe.ours if probe.native == SAME else probe.native
            problems += _mismatch("native", native, want)
            if probe.native == SAME and not problems:
                d = diff(native.view(), wasm.view())
                problems += [f"native and jwt-guard differ on {k}: {v[0]!r} vs {v[1]!r}"
                             for k, v in d.items()]
        assert not problems, f"{probe.id} (token {token[:120]!r}...):\n  " + "\n  ".join(problems)

    def upstream_seen(self) -> tuple[int, int]:
        """Requests the echo upstream answered, and those it could not parse."""
        return len(self.echo.received), len(self.echo.malformed)

    def new_log(self) -> str:
        text = self.envoy.log_text()
        new, self.log_seen = text[self.log_seen:], len(text)
        return new

    def assert_healthy(self) -> None:
        rc = self.envoy.exited()
        assert rc is None, f"Envoy exited with {rc}\n{self.envoy.tail(40)}"
        bad = [ln for ln in self.new_log().splitlines() if BAD_LOG.search(ln)]
        assert not bad, "Envoy log shows a wasm failure or crash:\n" + "\n".join(bad[:20])
        for name, ls in self.listens.items():
            if ls.wasm:
                # A trapped or wedged VM answers 500/503 or not at all.
                check(self.send("wasm", name, None), 401, body=MISSING)


def _mismatch(side: str, resp: Response, want: Answer) -> list[str]:
    try:
        check(resp, want.status, body=want.body)
    except AssertionError as e:
        return [f"{side}: {e}"]
    return []


@contextmanager
def attack_stack(stack_name: str, listens: dict[str, Listen]):
    if NATIVE_ONLY:
        pytest.skip("JWT_GUARD_NATIVE_ONLY=1: the attack catalogue runs both filters")
    if not WASM.exists():
        pytest.fail(f"{WASM} not found: run `make build`")  # never skip a broken build
    echo = EchoServer().start()
    listeners = []
    for name, ls in listens.items():
        for side, make, wanted in (("native", native_filter, ls.native),
                                   ("wasm", wasm_filter, ls.wasm)):
            if wanted:
                lsn = listener(f"{side}-{name}", make(ls.config))
                listeners.append(_with_header_limit(lsn, ls.header_kb) if ls.header_kb
                                 else lsn)
    envoy = Envoy(bootstrap(listeners, echo.port), stack_name).start()
    try:
        try:
            ports = envoy.serve([ls["name"] for ls in listeners])
        except EnvoyError as e:
            pytest.fail(f"the attack configs did not load:\n{e}")
        yield AttackStack(envoy, ports, listens, echo)
    finally:
        envoy.stop()
        echo.stop()


# ---------------------------------------------------------------- catalogue

def catalogue() -> dict[str, str]:
    """ATTACKS.md rows: case name (first column, in backticks) -> the row."""
    rows = {}
    for line in CATALOGUE.read_text().splitlines():
        m = re.match(r"\|\s*`([a-z0-9-]+)`\s*\|", line)
        if m:
            rows[m.group(1)] = line
    return rows


def module_fixtures(stack_name: str, listens: dict[str, Listen]):
    """The fixtures every attack module uses: its module-wide stack, and a
    health check after each test. Assign both at module level:
    `stack, healthy = module_fixtures("attacks-x", LISTENS)`."""

    @pytest.fixture(scope="module")
    def stack():
        with attack_stack(stack_name, listens) as s:
            yield s

    @pytest.fixture(autouse=True)
    def healthy(stack):
        yield
        stack.assert_healthy()

    return stack, healthy

