"""Session fixtures: one echo upstream + one Envoy with two listeners per
scenario (native jwt_authn and our wasm, same JwtAuthentication config).

The Kong parity suite (test_kong_parity.py) starts its own nginx; its
request counts are kept here for the summary line.

JWT_GUARD_NATIVE_ONLY=1 builds only the native listeners, so the suite can be
developed (and the native filter checked against our expectations) before
the wasm exists.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from echo import EchoServer
from envoy_runner import (NATIVE_ONLY, WASM, Envoy, EnvoyError, bootstrap, listener,
                          native_filter, wasm_filter)
from scenarios import ALL_SCENARIOS

_STATS = pytest.StashKey["ParityStats"]()
_ENVOY = pytest.StashKey["Envoy"]()
_KONG_STATS = pytest.StashKey["KongParityStats"]()


@dataclass
class ParityStats:
    requests: int = 0
    agree: int = 0
    disagree: int = 0
    expectation_failures: int = 0


@dataclass
class KongParityStats:
    """Scenario requests sent through Kong's wasm host (test_kong_parity)."""
    requests: int = 0
    as_expected: int = 0
    host_answers: int = 0  # of those, answered as HOST_ANSWERS says


@dataclass
class Stack:
    envoy: Envoy
    ports: dict

    def port(self, listener_name: str) -> int:
        return self.ports[listener_name]


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_STATS] = ParityStats()
    config.stash[_KONG_STATS] = KongParityStats()


@pytest.fixture(scope="session")
def parity_stats(pytestconfig: pytest.Config) -> ParityStats:
    return pytestconfig.stash[_STATS]


@pytest.fixture(scope="session")
def kong_parity_stats(pytestconfig: pytest.Config) -> KongParityStats:
    return pytestconfig.stash[_KONG_STATS]


@pytest.fixture(scope="session")
def stack(pytestconfig: pytest.Config):
    if not NATIVE_ONLY and not WASM.exists():
        # Fail, never skip: a missing module is a broken build, not a pass.
        pytest.fail(f"{WASM} not found: run `make build` "
                    "(or set JWT_GUARD_NATIVE_ONLY=1 to check only the native filter)")
    echo = EchoServer().start()
    listeners = []
    for sc in ALL_SCENARIOS:
        listeners.append(listener(f"native-{sc.name}", native_filter(sc.config)))
        if not NATIVE_ONLY:
            listeners.append(listener(f"wasm-{sc.name}", wasm_filter(sc.config)))
    envoy = Envoy(bootstrap(listeners, echo.port), "parity").start()
    pytestconfig.stash[_ENVOY] = envoy
    try:
        try:
            ports = envoy.serve([ls["name"] for ls in listeners], timeout=90)
        except EnvoyError as e:
            pytest.fail(str(e))
        yield Stack(envoy, ports)
    finally:
        envoy.stop()
        echo.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    envoy = item.config.stash.get(_ENVOY, None)
    if report.failed and envoy is not None:
        report.sections.append((f"envoy log tail ({envoy.log_path})",
                                envoy.tail(20, problems_only=True)))


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    k = config.stash[_KONG_STATS]
    if k.requests:
        terminalreporter.write_line(
            f"kong parity: {k.requests} requests, {k.as_expected} as expected "
            f"({k.host_answers} with this host's own answer)")
    s = config.stash[_STATS]
    if s.requests == 0 and _ENVOY not in config.stash:
        return  # parity tests were not selected
    mode = " (native only: no wasm listeners)" if NATIVE_ONLY else ""
    terminalreporter.write_line(
        f"parity: {s.requests} requests, {s.agree} agree, {s.disagree} disagree{mode}")
    terminalreporter.write_line(
        f"expectations: {s.expectation_failures} requests where the native filter "
        "did not answer as the scenario expects")
