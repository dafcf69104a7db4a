"""Self time per function from a V8 `.cpuprofile` (node --cpu-prof), for the
filter module driven by benches/host.mjs: which functions a request spends
its time in, in µs per request.

    python3 benches/profile.py FILE.cpuprofile REQUESTS [TOP]
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter


def short(name: str) -> str:
    """Demangled-ish Rust names are long: drop the hash suffix."""
    return re.sub(r"::h[0-9a-f]{16}$", "", name) or "(anonymous)"


def main() -> int:
    path, requests = sys.argv[1], int(sys.argv[2])
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    prof = json.load(open(path))
    nodes = {n["id"]: n for n in prof["nodes"]}
    deltas = prof["timeDeltas"]
    self_us: Counter[str] = Counter()
    for sample, dt in zip(prof["samples"], deltas[1:] + [0]):
        self_us[short(nodes[sample]["callFrame"]["functionName"])] += dt
    total = sum(self_us.values())
    print(f"{'µs/req':>8} {'share':>6}  function")
    for name, us in self_us.most_common(top):
        print(f"{us / requests:8.3f} {100 * us / total:5.1f}%  {name}")
    print(f"{total / requests:8.3f} 100.0%  (total sampled, incl. the JS host)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
