"""ATTACKS.md and the attack tests name the same cases: every row has tests,
and every case the tests use has a row saying what it models."""

from __future__ import annotations

import test_attacks_dpop
import test_attacks_introspection
import test_attacks_json
import test_attacks_signatures
import test_attacks_tokens
from attack_stack import CATALOGUE, catalogue

MODULES = (test_attacks_tokens, test_attacks_signatures, test_attacks_json,
           test_attacks_introspection, test_attacks_dpop)


def test_every_case_has_a_row_and_every_row_has_tests():
    tested = set().union(*(m.CASES for m in MODULES))
    rows = set(catalogue())
    assert not tested - rows, f"cases without a row in {CATALOGUE.name}: {sorted(tested - rows)}"
    assert not rows - tested, f"rows in {CATALOGUE.name} without tests: {sorted(rows - tested)}"
