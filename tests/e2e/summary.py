"""Lines a test module adds to the session summary (call counts and the
like), made when the summary is printed, from what the module's tests
recorded."""

from __future__ import annotations

from typing import Callable

import pytest


class _Line:
    def __init__(self, make: Callable[[], str | None]) -> None:
        self.make = make

    def pytest_terminal_summary(self, terminalreporter) -> None:
        line = self.make()
        if line:
            terminalreporter.write_line(line)


def summary_line(request: pytest.FixtureRequest, name: str,
                 make: Callable[[], str | None]) -> None:
    """Prints `make()` in the session summary, unless it is None or empty;
    once per session for `name`, however many times it is registered."""
    pm = request.config.pluginmanager
    if not pm.has_plugin(name):
        pm.register(_Line(make), name)
