"""Which cases run in CI and which only in the full set (``-m faults_full``); all seeded."""

from __future__ import annotations

import random

#: One in this many of the byte offsets that are not near a line end runs in the CI sample.
SPARSE = 16


def cut_offsets(wire: bytes, *, full: bool, seed: str) -> list[int]:
    """Every offset 0..len(wire) when ``full``; else the offsets within two bytes of a line end
    (where framing decisions happen: line ends, blank lines, the end of the head) and a seeded
    sixteenth of the rest."""
    if full:
        return list(range(len(wire) + 1))
    near = {0, len(wire)}
    for i, byte in enumerate(wire):
        if byte in b"\r\n":
            near.update(range(max(0, i - 2), min(len(wire), i + 3) + 1))
    rest = [i for i in range(len(wire) + 1) if i not in near]
    rng = random.Random(f"cuts:{seed}")
    return sorted(near | set(rng.sample(rest, len(rest) // SPARSE)))
