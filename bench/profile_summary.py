"""Summarise a py-spy profile in raw (collapsed stacks) format: where the samples were.

    .venv/bin/python -m bench.fanout --clients 1000 --py-spy /path/to/py-spy --profile-out p
    .venv/bin/python -m bench.profile_summary p-0.txt

Prints each function's share of the samples, on top of the stack (self) and anywhere on
it (inclusive), functions named with their file and without line numbers.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

LINE_NUMBER = re.compile(r":\d+\)$")


def summarise(path: Path, top_self: int = 25, top_inclusive: int = 40) -> str:
    """Return the summary of one profile file."""
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [LINE_NUMBER.sub(")", frame) for frame in stack.split(";")]
        own[frames[-1]] += samples
        for frame in set(frames):
            anywhere[frame] += samples
    lines = [f"samples {total}", "--- self"]
    lines += [f"{100 * n / total:5.1f}% {name}" for name, n in own.most_common(top_self)]
    lines.append("--- inclusive")
    lines += [f"{100 * n / total:5.1f}% {name}" for name, n in anywhere.most_common(top_inclusive)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the summary of each profile named on the command line."""
    for name in argv if argv is not None else sys.argv[1:]:
        print(summarise(Path(name)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
