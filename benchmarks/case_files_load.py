"""Loading case files: time per case stays flat as a file grows (issue 9).

A suite may keep 1,000 cases in one file. Every key's line number is looked up for error messages
and ``key_lines``; a lookup that scanned the whole file made loading quadratic (≈10 s for 1,000
cases). Printed: the time per case for 100 and 1,000 cases in one file, and their ratio (≈1 when
linear, ≈10 when quadratic), measured in this process.

    python benchmarks/case_files_load.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from difytui.bench.case_files import load_cases

CASE = """
[[case]]
name = "case {i}"
query = "question {i}"

[[case.assert]]
type = "icontains"
value = "answer"

[[case.assert]]
type = "latency"
threshold = 2
"""


def per_case(folder: Path, count: int) -> float:
    path = folder / f"suite-{count}.toml"
    path.write_text('[defaults]\napp = "support-bot"\n' + "".join(CASE.format(i=i) for i in range(count)))
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        cases = load_cases([path])
        best = min(best, time.perf_counter() - started)
    assert len(cases) == count
    return best / count


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        small = per_case(Path(folder), 100)
        large = per_case(Path(folder), 1000)
    print(f"100 cases:   {small * 1e6:7.0f} µs per case")
    print(f"1000 cases:  {large * 1e6:7.0f} µs per case")
    print(f"ratio 1000/100 per case: {large / small:.2f} (1 = linear)")


if __name__ == "__main__":
    main()
