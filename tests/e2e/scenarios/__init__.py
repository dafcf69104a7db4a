"""All parity scenarios, one module per theme. Each module exposes SCENARIOS."""

from . import (algorithms, claims, forwarding, locations, malformed, requirements, rules,
               time_claims)

MODULES = (algorithms, time_claims, claims, malformed, locations, forwarding,
           requirements, rules)
ALL_SCENARIOS = [sc for mod in MODULES for sc in mod.SCENARIOS]

_names = [sc.name for sc in ALL_SCENARIOS]
assert len(_names) == len(set(_names)), "scenario names must be unique"
