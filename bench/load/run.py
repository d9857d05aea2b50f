"""Load benchmark: the production stack (gunicorn, DEBUG=False, WhiteNoise) on 127.0.0.1 against a scale database.

    .venv/bin/python bench/load/run.py --database-url postgres://postgres@127.0.0.1:5432/hbwsrc_province

1. collects the static files and starts gunicorn (gunicorn.conf.py) on 127.0.0.1:8765 with bench.settings
   (production settings plus a bare baseline view; see bench/settings.py);
2. logs accounts of every role in through the login form (CSRF token, and the second factor for region
   offices, whose TOTP device the runner enrols) and keeps their session cookies;
3. capacity: wrk, 32 connections, no think time, each page for --capacity-seconds; requests per second and
   their ratio to the bare baseline view measured in the same run, first and again after every BARE_EVERY pages,
   each page against the two measurements around it (target: at least 0.40 for every page);
4. the filing rush: locust headless, --rush-users users of mixed roles (each logged in once, at the start),
   pausing 5-10 s between actions, for --rush-seconds; p50/p95/p99 per page (target: no errors, p95 < 300 ms);
5. prints both tables and writes them to bench/load/results/<label>.txt and .json.

The data comes from ``manage.py seed_scale`` (accounts o<division code> and i<province><serial>, password
Bench-Scale-2026). Measured pages run as the accounts of 湖北 (420000), which exists at every scale.
"""

import argparse
import json
import os
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import requests

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PASSWORD = "Bench-Scale-2026"
REGION_CODE = "420000"
CAPACITY_TARGET = 0.40
BARE_EVERY = 4  # pages measured between two measurements of the bare view (capacity)
P95_TARGET_MS = 300


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL"), required=not os.environ.get("DATABASE_URL")
    )
    parser.add_argument("--label", help="name of the results files (default: the database name)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's cores + 1)")
    parser.add_argument("--capacity-seconds", type=int, default=15, help="wrk run per page")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rush-users", type=int, default=300)
    parser.add_argument("--rush-seconds", type=int, default=240)
    parser.add_argument("--spawn-rate", type=float, default=10, help="rush users started per second")
    parser.add_argument("--skip-capacity", action="store_true")
    parser.add_argument("--skip-rush", action="store_true")
    parser.add_argument("--only", help="comma-separated page names for the capacity run")
    return parser.parse_args()


# --- the server ---------------------------------------------------------------------------------------------------


def bench_environment(args) -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="False",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="False",
        DATABASE_URL=args.database_url,
        GUNICORN_BIND=f"127.0.0.1:{args.port}",
        PYTHONPATH=str(ROOT),
    )
    if args.workers:
        env["GUNICORN_WORKERS"] = str(args.workers)
    return env


def start_server(args, env, log_path: Path) -> subprocess.Popen:
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run([python, "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)
    log = open(log_path, "w")  # noqa: SIM115 - closed with the process
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{args.port}"
    for _attempt in range(120):
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}; see {log_path}")
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.5)
    stop_server(server)
    raise SystemExit(f"gunicorn did not answer /healthz; see {log_path}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


# --- what to request ----------------------------------------------------------------------------------------------


def build_plan(rush_users: int) -> dict:
    """Accounts and URLs, read from the database with the ORM (Django is set up with the bench settings)."""
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count, Q
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts import two_factor
    from accounts.models import User
    from institutions.models import Institution, Office, Region
    from trainees.models import ExamCategory, ExamYear, Person, ProbationRecord

    region = Region.objects.get(division_code=REGION_CODE)
    year = ExamYear.objects.get(region=region, is_current=True)

    def office_account(office):
        return User.objects.filter(office=office, is_active=True).order_by("pk").first()

    def enrol(user) -> str | None:
        """A confirmed authenticator for accounts that must pass the second factor; returns its hex key."""
        if not two_factor.required_for(user):
            return None
        device = TOTPDevice.objects.filter(user=user, name="bench", confirmed=True).first()
        if device is None:
            TOTPDevice.objects.filter(user=user).delete()
            device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        return device.key

    def records_in(prefix_path=None, institution=None, limit=200):
        records = ProbationRecord.objects.filter(withdrawn_at__isnull=True)
        if institution is not None:
            records = records.filter(institution=institution)
        else:
            records = records.filter(institution__path__startswith=prefix_path)
        return [str(pk) for pk in records.order_by("pk").values_list("public_id", flat=True)[:limit]]

    def names_in(institution=None, prefix_path=None, limit=20):
        persons = Person.objects.filter(records__exam_year=year)
        persons = (
            persons.filter(records__institution=institution)
            if institution
            else persons.filter(records__institution__path__startswith=prefix_path)
        )
        return list(persons.order_by("pk").values_list("name", flat=True)[:limit])

    def account_entry(user, role):
        entry = {"username": user.username, "role": role, "totp_key": enrol(user)}
        if user.office_id:
            office = user.office
            child = office.children.order_by("pk").first()
            entry.update(
                office=str(office.public_id),
                sub_office=child.pk if child else "",
                records=records_in(prefix_path=office.path, limit=50),
                names=names_in(prefix_path=office.path, limit=10),
                lookup_ids=list(
                    Person.objects.filter(records__exam_year__region_id=office.region_id, id_type="resident")
                    .order_by("pk")
                    .values_list("id_number", flat=True)[:20]
                ),
                institution_fragment=(
                    Institution.objects.filter(path__startswith=office.path)
                    .order_by("pk")
                    .values_list("name", flat=True)
                    .first()
                    or ""
                )[:4],
            )
        else:
            institution = user.institution
            entry.update(
                institution=str(institution.public_id),
                records=records_in(institution=institution, limit=50),
                names=names_in(institution=institution, limit=10),
                province=institution.region.division_code[:2],
                exam_year=ExamYear.objects.get(region_id=institution.region_id, is_current=True).pk,
            )
        return entry

    # The measured accounts: 湖北's region office, 武汉, a county office beneath it, and an institution with about
    # 100 records this year (the draft roster lists them all).
    region_office = Office.objects.get(region=region, parent=None)
    wuhan = Office.objects.filter(region=region, depth=1).order_by("pk").first()
    county = Office.objects.filter(parent=wuhan).annotate(n=Count("institutions")).order_by("-n", "pk").first() or wuhan
    sized = (
        Institution.objects.filter(region=region)
        .annotate(n=Count("records", filter=Q(records__exam_year=year, records__withdrawn_at__isnull=True)))
        .filter(n__gte=1)
        .values_list("pk", "n")
    )
    institution_pk = min(sized, key=lambda row: (abs(row[1] - 100), row[0]))[0]
    master = User.objects.get(institution_id=institution_pk, is_master=True)
    measured = {
        "region": account_entry(office_account(region_office), "region"),
        "prefecture": account_entry(office_account(wuhan), "prefecture"),
        "county": account_entry(office_account(county), "county"),
        "institution": account_entry(master, "institution"),
    }
    lookup_ids = list(
        Person.objects.filter(records__exam_year=year, id_type="resident")
        .order_by("pk")
        .values_list("id_number", flat=True)[:500]
    )

    # The rush: 80% institutions, 15% county offices, 4% prefectures, 1% region offices, over every region.
    counts = {
        "institution": rush_users * 80 // 100,
        "county": rush_users * 15 // 100,
        "prefecture": rush_users * 4 // 100,
    }
    counts["region"] = max(rush_users - sum(counts.values()), 1)
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT u.id FROM accounts_user u
               WHERE u.is_master AND u.institution_id IN (
                   SELECT institution_id FROM trainees_probationrecord r
                   JOIN trainees_examyear y ON y.id = r.exam_year_id
                   WHERE y.is_current GROUP BY institution_id)
               ORDER BY md5(u.username) LIMIT %s""",
            [counts["institution"]],
        )
        institution_users = [row[0] for row in cursor.fetchall()]
    pools = {"institution": list(User.objects.filter(pk__in=institution_users).select_related("institution"))}
    for role, depth in (("county", 2), ("prefecture", 1), ("region", 0)):
        offices = Office.objects.filter(depth=depth).order_by("?")[: counts[role]]
        pools[role] = [u for u in (office_account(o) for o in offices) if u is not None]
    rush = {role: [account_entry(user, role) for user in users] for role, users in pools.items()}
    categories = dict(ExamCategory.objects.values_list("code", "pk"))
    connection.close()
    return {
        "measured": measured,
        "rush": rush,
        "rush_counts": counts,
        "lookup_ids": lookup_ids,
        "exam_year": year.pk,
        "category_clinical": categories["110"],
    }


# --- logging in ---------------------------------------------------------------------------------------------------

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def log_in(base: str, entry: dict) -> dict:
    """POST the login form (and the second factor when asked); return the session's cookies."""
    from django_otp.oath import totp

    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=30)
    token = CSRF_INPUT.search(page.text).group(1)
    response = session.post(
        f"{base}/accounts/login/",
        data={"csrfmiddlewaretoken": token, "username": entry["username"], "password": PASSWORD},
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=True,
        timeout=60,
    )
    if "/two-factor/verify/" in response.url:
        if not entry.get("totp_key"):
            raise RuntimeError(f"{entry['username']}: asked for a second factor but no device was enrolled")
        token = CSRF_INPUT.search(response.text).group(1)
        code = f"{totp(bytes.fromhex(entry['totp_key'])):06d}"
        response = session.post(
            response.url,
            data={"csrfmiddlewaretoken": token, "token": code},
            headers={"Referer": response.url},
            timeout=30,
        )
    if "sessionid" not in session.cookies or "/accounts/login/" in response.url or "/two-factor/" in response.url:
        raise RuntimeError(f"{entry['username']}: login failed (ended at {response.url}, {response.status_code})")
    return {"sessionid": session.cookies["sessionid"], "csrftoken": session.cookies.get("csrftoken", "")}


def log_in_all(base: str, entries: list[dict]) -> None:
    """Each account once (passwords are checked with the production hasher: about 0.3 s of CPU each)."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=4) as pool:
        for entry, cookies in zip(entries, pool.map(lambda e: log_in(base, e), entries), strict=True):
            entry["cookies"] = cookies
    print(f"Logged {len(entries)} accounts in in {time.perf_counter() - started:.1f} s.", flush=True)


# --- capacity: wrk ------------------------------------------------------------------------------------------------

WRK_SCRIPT = """
local requests = {%(requests)s}
local counter = 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
request = function()
  counter = counter + 1
  local r = requests[(counter %% #requests) + 1]
  if r[2] then
    return wrk.format("POST", r[1], {["Content-Type"] = "application/x-www-form-urlencoded",
                                     ["X-CSRFToken"] = csrftoken, ["Cookie"] = wrk.headers["Cookie"]}, r[2])
  end
  return wrk.format("GET", r[1])
end
response = function(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("BAD_STATUS %%d\\n", total))
end
"""


def capacity_pages(plan: dict) -> list[dict]:
    m = plan["measured"]
    inst, county, region, prefecture = m["institution"], m["county"], m["region"], m["prefecture"]

    def q(**params):
        return "?" + urlencode(params)

    region_name = (region["names"] or ["张"])[0]
    pages = [
        {"name": "baseline (bare view, 50 rows)", "account": None, "paths": ["/bench/baseline/"]},
        {"name": "baseline (logged in, site layout, 50 rows)", "account": inst,
         "paths": ["/bench/baseline-logged-in/"]},
        {"name": "record list (institution)", "account": inst, "paths": ["/records/"]},
        {"name": "record list search+filter (institution)", "account": inst,
         "paths": [f"/records/{q(q=n, result='passed')}" for n in inst["names"][:10]] or ["/records/?result=passed"]},
        {"name": "record detail (institution)", "account": inst,
         "paths": [f"/records/{pk}/" for pk in inst["records"]]},
        {"name": "record create form (institution)", "account": inst, "paths": ["/records/new/"]},
        {"name": "roster draft (institution)", "account": inst, "paths": ["/rosters/"]},
        {"name": "record list (county office)", "account": county, "paths": ["/records/"]},
        {"name": "record list (region office)", "account": region, "paths": ["/records/"]},
        {"name": "record list filtered (region office)", "account": region,
         "paths": [f"/records/{q(exam_year=plan['exam_year'], result='passed', office=region['sub_office'])}",
                   f"/records/{q(q=region_name)}",
                   f"/records/{q(institution=region['institution_fragment'], sort='person__name')}"]},
        {"name": "record detail (county office)", "account": county,
         "paths": [f"/records/{pk}/" for pk in county["records"]]},
        {"name": "office list (region office)", "account": region, "paths": ["/offices/"]},
        {"name": "office detail (prefecture)", "account": prefecture, "paths": [f"/offices/{prefecture['office']}/"]},
        {"name": "institution list (region office)", "account": region, "paths": ["/institutions/"]},
        {"name": "filing list (county office)", "account": county, "paths": ["/rosters/filings/"]},
        {"name": "filing list (region office)", "account": region, "paths": ["/rosters/filings/"]},
        {"name": "eligibility lookup (county office, POST)", "account": county, "paths": ["/lookup/"],
         "bodies": [urlencode({"id_type": "resident", "id_number": n}) for n in plan["lookup_ids"][:200]]},
    ]  # fmt: skip
    if plan.get("dashboard"):
        pages.append({"name": "dashboard (region office)", "account": region, "paths": [plan["dashboard"]]})
    return pages


TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")
CPU_PARTS = ("gunicorn", "postgres", "wrk")


def cpu_ms() -> dict:
    """CPU time used so far, in ms: the machine's (busy, from /proc/stat) and that of gunicorn, PostgreSQL and wrk.

    A process's share counts its own time and that of its children that have exited (a worker recycled by
    max_requests, a database backend whose connection closed), so that nothing leaves the account mid-run.
    """
    with open("/proc/stat") as handle:
        fields = [int(n) for n in handle.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    used = {"machine": (sum(fields[:8]) - idle) * TICK_MS, "system": fields[2] * TICK_MS}
    used.update(dict.fromkeys(CPU_PARTS, 0.0))
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue  # gone meanwhile
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        part = next((p for p in CPU_PARTS if name.startswith(p)), None)
        if part:
            utime, stime, cutime, cstime = (int(n) for n in stat[stat.rindex(")") + 2 :].split()[11:15])
            used[part] += (utime + stime + cutime + cstime) * TICK_MS
    return used


def run_wrk(base: str, page: dict, seconds: int, connections: int, workdir: Path) -> dict:
    if page.get("bodies"):
        requests_ = [(page["paths"][0], body) for body in page["bodies"]]
    else:
        requests_ = [(path, None) for path in page["paths"]]
    lua = ", ".join(f"{{{json.dumps(path)}, {json.dumps(body) if body else 'nil'}}}" for path, body in requests_)
    script = workdir / "wrk.lua"
    body = WRK_SCRIPT % {"requests": lua}
    if page["account"]:
        cookies = page["account"]["cookies"]
        body = (
            f'csrftoken = "{cookies["csrftoken"]}"\n'
            f'wrk.headers["Cookie"] = "sessionid={cookies["sessionid"]}; csrftoken={cookies["csrftoken"]}"\n' + body
        )
    script.write_text(body)
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency", "--timeout", "10s",
               "-s", str(script), base]  # fmt: skip
    subprocess.run([*command[:6], "2s", *command[7:]], capture_output=True, text=True)  # warm up, not counted
    before, wrk_before = cpu_ms(), resource.getrusage(resource.RUSAGE_CHILDREN)
    output = subprocess.run(command, capture_output=True, text=True).stdout
    after, wrk_after = cpu_ms(), resource.getrusage(resource.RUSAGE_CHILDREN)
    # wrk has exited by now: its time is this process's children's (nothing else of ours ran meanwhile).
    after["wrk"] += sum(getattr(wrk_after, f) - getattr(wrk_before, f) for f in ("ru_utime", "ru_stime")) * 1000
    result = {"name": page["name"], "raw": output}
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    result["rps"] = float(match.group(1)) if match else 0.0
    match = re.search(r"(\d+) requests in", output)
    result["requests"] = int(match.group(1)) if match else 0
    # CPU time per request, in ms of one core, by part.
    result["cpu_ms"] = {part: (after[part] - before[part]) / max(result["requests"], 1) for part in after}
    match = re.search(r"BAD_STATUS (\d+)", output)
    result["bad_status"] = int(match.group(1)) if match else -1
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    result["socket_errors"] = sum(int(n) for n in match.groups()) if match else 0
    for percentile in ("50", "99"):
        match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if match:
            value, unit = float(match.group(1)), match.group(2)
            result[f"p{percentile}_ms"] = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    return result


def capacity(base: str, plan: dict, args, workdir: Path) -> list[dict]:
    """Each page under wrk, the bare view measured first and again after every BARE_EVERY pages: a page's ratio is to
    the mean of the bare view's two measurements around it. This machine's speed drifts within a run (stop 26: the
    same pages 20-40% slower at its end than at its start), and a yardstick measured once, at the start, counted the
    drift against the pages measured last. ``ratio_first`` keeps the ratio to the first measurement alone."""
    pages = capacity_pages(plan)
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")}
        pages = [p for p in pages if p["name"] in wanted or p["name"].startswith("baseline")]  # both baselines
    bare_page, others = pages[0], pages[1:]

    def measure(page, name=None):
        check = smoke(base, page)
        result = run_wrk(base, page, args.capacity_seconds, args.connections, workdir)
        result["smoke"] = check
        print(f"  {name or page['name']:<42} {result['rps']:8.1f} req/s  non-200 {result['bad_status']}  {check}",
              flush=True)  # fmt: skip
        return result

    bare = measure(bare_page)
    bare["bare_views"] = [bare["rps"]]
    results, waiting = [bare], []
    for number, page in enumerate(others, 1):
        result = measure(page)
        result["bare_before"] = bare["bare_views"][-1]
        results.append(result)
        waiting.append(result)
        if number % BARE_EVERY == 0 or number == len(others):
            again = measure(bare_page, "baseline (bare view), again")["rps"]
            bare["bare_views"].append(again)
            for measured in waiting:
                measured["bare_after"] = again
            waiting = []
    first = bare["rps"] or 1.0
    logged_in = next((r["rps"] for r in results if r["name"].startswith("baseline (logged in")), 0) or 1.0
    bare["ratio"] = bare["ratio_first"] = 1.0
    for result in results[1:]:
        around = (result["bare_before"] + result["bare_after"]) / 2 or 1.0
        result["ratio"] = result["rps"] / around
        result["ratio_first"] = result["rps"] / first
    for result in results:
        result["ratio_logged_in"] = result["rps"] / logged_in
    return results


def smoke(base: str, page: dict) -> str:
    """One request of the page with its cookie: the status and size, so a login page is not measured by mistake."""
    headers = {}
    if page["account"]:
        cookies = page["account"]["cookies"]
        headers["Cookie"] = f"sessionid={cookies['sessionid']}; csrftoken={cookies['csrftoken']}"
    if page.get("bodies"):
        headers.update({"X-CSRFToken": page["account"]["cookies"]["csrftoken"],
                        "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        response = requests.post(base + page["paths"][0], data=page["bodies"][0], headers=headers, timeout=60)
    else:
        response = requests.get(base + page["paths"][0], headers=headers, allow_redirects=False, timeout=60)
    return f"{response.status_code} {len(response.content) // 1024} KiB"


# --- the rush: locust ---------------------------------------------------------------------------------------------


def rush(base: str, plan: dict, args, workdir: Path) -> tuple[list[dict], str]:
    plan_path = workdir / "plan.json"
    plan_path.write_text(json.dumps(plan))
    prefix = workdir / "rush"
    env = dict(os.environ, BENCH_PLAN=str(plan_path))
    command = [
        str(ROOT / ".venv" / "bin" / "locust"), "-f", str(HERE / "locustfile.py"), "--headless",
        "-u", str(args.rush_users), "-r", str(args.spawn_rate), "-t", f"{args.rush_seconds}s", "--host", base,
        "--csv", str(prefix), "--only-summary", "--stop-timeout", "15", "--loglevel", "WARNING",
    ]  # fmt: skip
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    rows = []
    import csv

    with open(f"{prefix}_stats.csv") as handle:
        for row in csv.DictReader(handle):
            rows.append(
                {
                    "name": row["Name"],
                    "method": row["Type"],
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "rps": float(row["Requests/s"]),
                    "p50": float(row["50%"] or 0),
                    "p95": float(row["95%"] or 0),
                    "p99": float(row["99%"] or 0),
                    "max": float(row["Max Response Time"] or 0),
                }
            )
    failures = Path(f"{prefix}_failures.csv").read_text() if Path(f"{prefix}_failures.csv").exists() else ""
    for suffix in ("stats", "stats_history", "failures"):  # kept beside the summary: latency over time
        if Path(f"{prefix}_{suffix}.csv").exists():
            shutil.copy(f"{prefix}_{suffix}.csv", HERE / "results" / f"{args.label}-rush_{suffix}.csv")
    return rows, completed.stdout[-3000:] + completed.stderr[-3000:] + "\n" + failures


# --- report -------------------------------------------------------------------------------------------------------


def report(args, plan, capacity_results, rush_rows, rush_log, load_before, load_after, seconds) -> str:
    workers = args.workers or f"{(os.cpu_count() or 1) + 1} (gunicorn.conf.py: cores + 1)"
    lines = [
        f"hbwsrc load benchmark: {args.label}  ({time.strftime('%Y-%m-%d %H:%M:%S %Z')})",
        f"database {args.database_url.rsplit('/', 1)[-1]}; gunicorn workers {workers}; "
        f"{os.cpu_count()} cores; load average before {load_before}, after {load_after}; {seconds:.0f} s in all",
        "",
    ]
    if capacity_results:
        bare_views = capacity_results[0].get("bare_views", [capacity_results[0]["rps"]])
        lines += [
            f"Capacity: wrk, {args.connections} connections, no think time, {args.capacity_seconds} s a page "
            f"(target: every page >= {CAPACITY_TARGET:.0%} of the bare baseline's req/s)",
            f"The bare baseline, measured first and after every {BARE_EVERY} pages: "
            + ", ".join(f"{rps:.1f}" for rps in bare_views)
            + " req/s",
            "(ratio: to the mean of the bare baseline's measurements before and after the page, the target's "
            "yardstick; ratio 1st: to its first measurement alone; ratio li: to the logged-in layout baseline)",
            f"{'page':<44} {'req/s':>8} {'ratio':>6} {'ratio 1st':>9} {'ratio li':>8} {'p50 ms':>8} {'p99 ms':>8}"
            f" {'non-200':>8} {'sock err':>8}  verdict",
        ]
        for r in capacity_results:
            verdict = (
                ""
                if r["name"].startswith("baseline")
                else ("ok" if r["ratio"] >= CAPACITY_TARGET and r["bad_status"] == 0 else "MISSED")
            )
            lines.append(
                f"{r['name']:<44} {r['rps']:8.1f} {r['ratio']:6.2f} {r['ratio_first']:9.2f} "
                f"{r['ratio_logged_in']:8.2f} "
                f"{r.get('p50_ms', 0):8.1f} {r.get('p99_ms', 0):8.1f} {r['bad_status']:8d} {r['socket_errors']:8d}"
                f"  {verdict}"
            )
        lines += [
            "",
            "CPU time per request, ms of one core (/proc): the machine's, in the kernel of it, and by process",
            f"{'page':<44} {'machine':>8} {'kernel':>8} {'gunicorn':>8} {'postgres':>8} {'wrk':>8} {'other':>8}",
        ]
        for r in capacity_results:
            cpu = r["cpu_ms"]
            other = cpu["machine"] - sum(cpu[part] for part in CPU_PARTS)
            lines.append(
                f"{r['name']:<44} {cpu['machine']:8.2f} {cpu['system']:8.2f} {cpu['gunicorn']:8.2f} "
                f"{cpu['postgres']:8.2f} {cpu['wrk']:8.2f} {other:8.2f}"
            )
        lines.append("")
    if rush_rows:
        total = next((r for r in rush_rows if r["name"] == "Aggregated"), None)
        lines += [
            f"Filing rush: locust, {args.rush_users} users of mixed roles {plan['rush_counts']}, 5-10 s between "
            f"actions, {args.rush_seconds} s (target: no errors, p95 < {P95_TARGET_MS} ms)",
            f"{'page':<44} {'requests':>8} {'fail':>5} {'req/s':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
            f" {'max ms':>7}  verdict",
        ]
        for r in rush_rows:
            verdict = (
                ""
                if r["name"] == "Aggregated"
                else ("ok" if r["failures"] == 0 and r["p95"] < P95_TARGET_MS else "MISSED")
            )
            lines.append(
                f"{r['name']:<44} {r['requests']:8d} {r['failures']:5d} {r['rps']:6.1f} {r['p50']:7.0f} "
                f"{r['p95']:7.0f} {r['p99']:7.0f} {r['max']:7.0f}  {verdict}"
            )
        if total:
            lines.append(f"(aggregate {total['rps']:.1f} req/s)")
        if any(r["failures"] for r in rush_rows):
            lines += ["", "Failures:", rush_log.strip()[-3000:]]
    return "\n".join(lines)


def main():
    args = parse_args()
    args.label = args.label or args.database_url.rsplit("/", 1)[-1]
    env = bench_environment(args)
    os.environ.update({k: v for k, v in env.items() if k not in ("PYTHONPATH",)})
    sys.path.insert(0, str(ROOT))
    if not shutil.which("wrk") and not args.skip_capacity:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    started = time.perf_counter()
    load_before = " ".join(f"{n:.2f}" for n in os.getloadavg())
    plan = build_plan(args.rush_users)
    try:
        from django.urls import NoReverseMatch, reverse

        plan["dashboard"] = reverse("reports:dashboard")
    except NoReverseMatch:
        plan["dashboard"] = None
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="hbwsrc-bench-"))
    server = start_server(args, env, results_dir / f"{args.label}-gunicorn.log")
    base = f"http://127.0.0.1:{args.port}"
    capacity_results, rush_rows, rush_log = [], [], ""
    try:
        if not args.skip_capacity:
            log_in_all(base, list(plan["measured"].values()))
            print(f"Capacity ({args.capacity_seconds} s a page, {args.connections} connections):", flush=True)
            capacity_results = capacity(base, plan, args, workdir)
        if not args.skip_rush:
            log_in_all(base, [e for entries in plan["rush"].values() for e in entries])
            print(f"Filing rush ({args.rush_users} users, {args.rush_seconds} s) ...", flush=True)
            rush_rows, rush_log = rush(base, plan, args, workdir)
    finally:
        stop_server(server)
    load_after = " ".join(f"{n:.2f}" for n in os.getloadavg())
    text = report(
        args, plan, capacity_results, rush_rows, rush_log, load_before, load_after, time.perf_counter() - started
    )
    print()
    print(text)
    (results_dir / f"{args.label}.txt").write_text(text + "\n")
    (results_dir / f"{args.label}.json").write_text(
        json.dumps(
            {"capacity": capacity_results, "rush": rush_rows, "load_before": load_before, "load_after": load_after},
            indent=1,
            default=str,
        )  # fmt: skip
    )
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
