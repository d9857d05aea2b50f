"""Nation against province, page by page, with the machine's drift cancelled: is each page within 20%?

    .venv/bin/python bench/load/paired.py \\
        --first postgres://postgres@127.0.0.1:5432/hbwsrc_province \\
        --second postgres://postgres@127.0.0.1:5432/hbwsrc_nation

run.py measures one database per run, and two runs ten minutes apart on these shared machines differ by 15-25%
on the same page (bench/README.md), as much as the tolerance being checked. Here both stacks run at once (gunicorn
on two ports, each with its database and the same settings) and each page is measured on them in turn, in the
order first, second, second, first (so a steady drift in the machine's speed weighs on both alike), with wrk as in
run.py (32 connections, no think time; the same accounts, pages and URLs). Per page: requests per second on each,
and the second's share of the first's (the geometric mean of the two pairs). The bare baseline queries nothing:
its share says how even the method is (it should be near 1.00).
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run  # noqa: E402 - bench/load/run.py: the server, the plan, the logins, the pages and wrk

TOLERANCE = 0.20


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--first", help="database URL of the reference (province scale)")
    parser.add_argument("--second", help="database URL compared with it (nation scale)")
    parser.add_argument("--label", default="paired", help="name of the results files")
    parser.add_argument("--seconds", type=int, default=8, help="wrk run per page and database, four runs a page")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", help="comma-separated page names")
    parser.add_argument("--write-plan", help=argparse.SUPPRESS)  # internal: this process builds one plan
    args = parser.parse_args()
    if not args.write_plan and not (args.first and args.second):
        parser.error("--first and --second are required")
    return args


def stack(database_url: str, port: int) -> argparse.Namespace:
    return argparse.Namespace(database_url=database_url, port=port, workers=None)


def plan_for(settings: argparse.Namespace, env: dict, workdir: Path) -> dict:
    """run.build_plan against one database, in a process of its own (Django is set up once per process)."""
    path = workdir / f"plan-{settings.port}.json"
    subprocess.run([sys.executable, __file__, "--write-plan", str(path)], env=env, check=True)
    return json.loads(path.read_text())


def geometric_mean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if all(values) else 0.0


def main():
    args = parse_args()
    if args.write_plan:
        plan = run.build_plan(rush_users=1)
        from django.urls import reverse

        plan["dashboard"] = reverse("reports:dashboard")
        Path(args.write_plan).write_text(json.dumps(plan))
        return
    workdir = Path(tempfile.mkdtemp(prefix="hbwsrc-paired-"))
    results_dir = HERE / "results"
    stacks = [stack(args.first, 8765), stack(args.second, 8766)]
    envs = [run.bench_environment(s) for s in stacks]
    # log_in needs Django's settings for django_otp's TOTP; nothing here touches a database.
    os.environ.update({k: v for k, v in envs[0].items() if k != "PYTHONPATH"})
    plans = [plan_for(s, env, workdir) for s, env in zip(stacks, envs, strict=True)]
    servers = [
        run.start_server(s, env, results_dir / f"{args.label}-{s.port}-gunicorn.log")
        for s, env in zip(stacks, envs, strict=True)
    ]
    bases = [f"http://127.0.0.1:{s.port}" for s in stacks]
    started = time.perf_counter()
    load_before = " ".join(f"{n:.2f}" for n in os.getloadavg())
    rows = []
    try:
        for base, plan in zip(bases, plans, strict=True):
            run.log_in_all(base, list(plan["measured"].values()))
        pages = [run.capacity_pages(plan) for plan in plans]
        wanted = {name.strip() for name in args.only.split(",")} if args.only else None
        for first_page, second_page in zip(*pages, strict=True):
            name = first_page["name"]
            if wanted and name not in wanted and not name.startswith("baseline"):
                continue
            measured = {0: [], 1: []}
            checks = [run.smoke(bases[i], page) for i, page in enumerate((first_page, second_page))]
            for index in (0, 1, 1, 0):
                page = (first_page, second_page)[index]
                result = run.run_wrk(bases[index], page, args.seconds, args.connections, workdir)
                if result["bad_status"] or result["socket_errors"]:
                    raise SystemExit(f"{name} on {bases[index]}: {result['raw']}")
                measured[index].append(result["rps"])
            first_rps, second_rps = measured[0], measured[1]
            # Pairs: the first run on each, then the second run on each (the two middle runs are adjacent).
            share = geometric_mean([second_rps[0] / first_rps[0], second_rps[1] / first_rps[1]])
            row = {"name": name, "first": first_rps, "second": second_rps, "share": share, "smoke": checks}
            rows.append(row)
            print(f"  {name:<44} {first_rps} {second_rps} {share:.2f}", flush=True)
    finally:
        for server in servers:
            run.stop_server(server)
    load_after = " ".join(f"{n:.2f}" for n in os.getloadavg())
    names = [url.rsplit("/", 1)[-1] for url in (args.first, args.second)]
    lines = [
        f"hbwsrc paired load benchmark: {args.label}  ({time.strftime('%Y-%m-%d %H:%M:%S %Z')})",
        f"first {names[0]}, second {names[1]}; wrk {args.connections} connections, {args.seconds} s a run, runs in "
        f"the order first, second, second, first; load average before {load_before}, after {load_after}; "
        f"{time.perf_counter() - started:.0f} s",
        "(share: the second's requests per second as a part of the first's, geometric mean of the two pairs; "
        f"target: at least {1 - TOLERANCE:.2f})",
        f"{'page':<44} {'first req/s':>14} {'second req/s':>14} {'share':>6}  verdict",
    ]
    for row in rows:
        verdict = "" if row["name"].startswith("baseline") else ("ok" if row["share"] >= 1 - TOLERANCE else "SLOWER")
        first = "/".join(f"{v:.0f}" for v in row["first"])
        second = "/".join(f"{v:.0f}" for v in row["second"])
        lines.append(f"{row['name']:<44} {first:>14} {second:>14} {row['share']:6.2f}  {verdict}")
    text = "\n".join(lines)
    print()
    print(text)
    (results_dir / f"{args.label}.txt").write_text(text + "\n")
    (results_dir / f"{args.label}.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
