"""Compare two load benchmark results (bench/load/run.py's JSON): is the second within 20% of the first?

    .venv/bin/python bench/load/compare.py bench/load/results/province.json bench/load/results/nation.json

Capacity is compared as each page's ratio to the bare baseline of its own run (which cancels out how busy the
machine was during each run); the rush by p95 latency per page.
"""

import json
import sys

TOLERANCE = 0.20


def main(first_path, second_path):
    first, second = (json.load(open(path)) for path in (first_path, second_path))  # noqa: SIM115
    print(f"{'capacity: ratio to the bare baseline':<46} {'first':>7} {'second':>7} {'change':>8}")
    second_capacity = {row["name"]: row for row in second["capacity"]}
    for row in first["capacity"]:
        other = second_capacity.get(row["name"])
        if other is None or row["name"].startswith("baseline"):
            continue
        change = other["ratio"] / row["ratio"] - 1 if row["ratio"] else 0.0
        verdict = "ok" if change >= -TOLERANCE else "SLOWER"
        print(f"{row['name']:<46} {row['ratio']:7.2f} {other['ratio']:7.2f} {change:+8.0%}  {verdict}")
    print()
    print(f"{'rush: p95 ms':<46} {'first':>7} {'second':>7} {'change':>8}")
    second_rush = {row["name"]: row for row in second["rush"]}
    for row in first["rush"]:
        other = second_rush.get(row["name"])
        if other is None:
            continue
        change = other["p95"] / row["p95"] - 1 if row["p95"] else 0.0
        verdict = "ok" if change <= TOLERANCE or other["p95"] - row["p95"] <= 20 else "SLOWER"
        print(f"{row['name']:<46} {row['p95']:7.0f} {other['p95']:7.0f} {change:+8.0%}  {verdict}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
