"""Two checkouts' code side by side, in-process: which of them a page costs less in, on a machine whose speed drifts.

    .venv/bin/python bench/ab.py --database-url postgres://postgres@127.0.0.1:5432/hbwsrc_province \
        --before /tmp/stop25 --after . --only "record list"

Run one after the other, two versions of a page are compared across minutes in which this kind of shared machine
can change speed by half (a county office's list measured 13 ms, then 21 ms, the code unchanged). Here each checkout
runs in its own process at the same time (its own code: the process starts in the checkout, which comes first on
its path), requesting the pages of bench/explain.py as bench/pages.py does; the two take turns, ``--burst``
requests of one page each, in alternating order, for ``--rounds`` rounds, so that a drift touches both alike. Per
page: the median wall time of a request, and the CPU time it cost the Django process and its PostgreSQL backend
(both read from /proc around each burst: the backend's is counted in clock ticks, hence the bursts and the
rounds). The change column compares the CPU of both processes together: it is what a loaded server runs out of.
The same code against itself moves by up to 4% this way (bench/README.md, stop 26).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL"), required=not os.environ.get("DATABASE_URL")
    )
    parser.add_argument("--before", help="the checkout whose code is the baseline (required)")
    parser.add_argument("--after", default=str(ROOT), help="the checkout measured against it (default: this one)")
    parser.add_argument("--only", help="comma-separated parts of page names")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the worker each checkout runs
    return parser.parse_args()


def serve(args):
    """Load the pages in this checkout's code, then on each line "index count" request page ``index`` ``count``
    times and answer with the seconds of wall time, of this process's CPU and of its database backend's CPU."""
    sys.path.insert(0, os.getcwd())
    from bench.explain import pages, setup

    setup(args.database_url)
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    users, listed = pages()
    wanted = [part.strip() for part in args.only.split(",")] if args.only else None
    listed = [page for page in listed if not wanted or any(w in page[0] for w in wanted)]
    clients = {}
    for role, user in users.items():
        clients[role] = Client()
        clients[role].force_login(user)

    def request(page):
        title, role, path, *data = page
        return clients[role].post(path, data[0]) if data and data[0] else clients[role].get(path)

    tick = os.sysconf("SC_CLK_TCK")
    middleware = [m for m in settings.MIDDLEWARE if "TwoFactorRequired" not in m]  # as bench/pages.py
    with override_settings(MIDDLEWARE=middleware):
        for page in listed:
            for _ in range(5):
                if (status := request(page).status_code) != 200:
                    raise SystemExit(f"{page[0]} ({page[1]}): HTTP {status}")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")

        def backend_seconds():
            fields = stat.read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / tick  # utime and stime

        print("pages", "\t".join(f"{title} ({role})" for title, role, *_ in listed), sep="\t", flush=True)
        for line in sys.stdin:
            index, count = map(int, line.split())
            wall, cpu, backend = time.perf_counter(), time.process_time(), backend_seconds()
            for _ in range(count):
                request(listed[index])
            print(time.perf_counter() - wall, time.process_time() - cpu, backend_seconds() - backend, flush=True)


def start(checkout: str, args) -> tuple[subprocess.Popen, list[str]]:
    # This script, run in the checkout: its code comes first on the path (an older checkout may not have this file).
    command = [sys.executable, str(Path(__file__).resolve()), "--serve", "--database-url", args.database_url]
    command += ["--only", args.only] if args.only else []
    process = subprocess.Popen(
        command, cwd=checkout, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    for line in process.stdout:  # the app's own start-up lines come first
        if line.startswith("pages\t"):
            return process, line.rstrip("\n").split("\t")[1:]
    raise SystemExit(f"{checkout}: the worker stopped before it was ready")


def main():
    args = parse_args()
    if args.serve:
        return serve(args)
    if not args.before:
        raise SystemExit("--before: the checkout to compare with is required")
    (before, names), (after, names_after) = start(args.before, args), start(args.after, args)
    if names != names_after:
        raise SystemExit("the two checkouts review different pages (bench/explain.py); compare them with --only")
    samples = {(side, index): [] for side in ("before", "after") for index in range(len(names))}
    workers = {"before": before, "after": after}
    for round_number in range(args.rounds):
        order = ("before", "after") if round_number % 2 == 0 else ("after", "before")
        for index in range(len(names)):
            for side in order:
                workers[side].stdin.write(f"{index} {args.burst}\n")
                workers[side].stdin.flush()
                wall, cpu, backend = map(float, workers[side].stdout.readline().split())
                samples[(side, index)].append((wall, cpu, backend))
    for worker in workers.values():
        worker.stdin.close()
        worker.wait()

    print(f"{args.rounds} rounds of {args.burst} requests a page; ms a request: wall time (median), CPU (mean)")
    print(f"before: {args.before}\nafter:  {args.after}")
    print(f"{'':<62} {'wall':>13} {'django CPU':>13} {'postgres CPU':>13} {'both CPUs':>13}")
    print(f"{'page':<62}" + " before  after" * 4 + " change")
    for index, name in enumerate(names):
        figures = []
        for side in ("before", "after"):
            runs = samples[(side, index)]
            wall = statistics.median(run[0] for run in runs) / args.burst * 1000
            cpu = sum(run[1] for run in runs) / len(runs) / args.burst * 1000
            backend = sum(run[2] for run in runs) / len(runs) / args.burst * 1000
            figures.append((wall, cpu, backend, cpu + backend))
        (w0, c0, b0, t0), (w1, c1, b1, t1) = figures
        print(
            f"{name[:62]:<62} {w0:6.2f} {w1:6.2f} {c0:6.2f} {c1:6.2f} {b0:6.2f} {b1:6.2f} {t0:6.2f} {t1:6.2f} "
            f"{100 * (t1 / t0 - 1):+5.0f}%"
        )


if __name__ == "__main__":
    main()
