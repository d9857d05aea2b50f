"""The filing rush (run by bench/load/run.py): users of every role, each logged in once before the run, pausing
5-10 s between actions. Institutions enter records and look at their draft roster; offices browse their subtree's
records and filings and look trainees up. BENCH_PLAN names the JSON file with the accounts, cookies and targets."""

import itertools
import json
import os
import random
import re
import threading
import uuid

from locust import HttpUser, between, task

PLAN = json.load(open(os.environ["BENCH_PLAN"]))  # noqa: SIM115
_counters = {role: itertools.count() for role in PLAN["rush"]}
_lock = threading.Lock()
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚"


def _check_digit(first17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights, strict=True)) % 11]


class RoleUser(HttpUser):
    abstract = True
    wait_time = between(5, 10)
    role = ""

    def on_start(self):
        accounts = PLAN["rush"][self.role]
        with _lock:
            self.account = accounts[next(_counters[self.role]) % len(accounts)]
        for name, value in self.account["cookies"].items():
            self.client.cookies.set(name, value)

    def get(self, path, name):
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code} ({response.headers.get('Location', '')})")


class InstitutionUser(RoleUser):
    weight = 80
    role = "institution"

    @task(4)
    def record_list(self):
        self.get("/records/", "record list (institution)")

    @task(2)
    def record_search(self):
        name = random.choice(self.account["names"] or ["张"])
        self.get(f"/records/?q={name}&result=passed", "record list search+filter (institution)")

    @task(4)
    def record_detail(self):
        if self.account["records"]:
            self.get(f"/records/{random.choice(self.account['records'])}/", "record detail (institution)")

    @task(2)
    def roster_draft(self):
        self.get("/rosters/", "roster draft (institution)")

    @task(1)
    def record_create(self):
        """Open the form and save a new trainee's passed one-year probation."""
        with self.client.get("/records/new/", name="record create form (institution)", catch_response=True) as page:
            match = CSRF_INPUT.search(page.text) if page.status_code == 200 else None
            if match is None:
                page.failure(f"status {page.status_code}, no form")
                return
        sex = random.choice("MF")
        serial = uuid.uuid4().int
        birth_year, birth_day = 1994 + serial % 6, 1 + (serial >> 8) % 28
        sequence = (serial >> 16) % 500 * 2 + (1 if sex == "M" else 0)
        address = f"{self.account['province']}{(serial >> 32) % 90 + 10:02d}{(serial >> 40) % 90 + 10:02d}"
        first17 = f"{address}{birth_year}{(serial >> 48) % 12 + 1:02d}{birth_day:02d}{sequence:03d}"
        data = {
            "csrfmiddlewaretoken": match.group(1),
            "id_type": "resident",
            "id_number": first17 + _check_digit(first17),
            "name": random.choice(SURNAMES) + random.choice(GIVEN) + random.choice(GIVEN),
            "sex": sex,
            "birth_date": f"{birth_year}-{first17[10:12]}-{birth_day:02d}",
            "education": "bachelor",
            "school": "武汉大学",
            "major": "临床医学",
            "graduation_date": "2025-06-30",
            "exam_year": self.account["exam_year"],
            "category": PLAN["category_clinical"],
            "departments": "内科、外科、儿科",
            "content": "病史采集、体格检查、病历书写",
            "supervisor_name": "李医生",
            "supervisor_licence": "110420100001234",
            "start_date": "2025-07-01",
            "end_date": "2026-06-30",
            "result": "passed",
            "assessed_on": "2026-07-05",
            "assessor": "医务科",
            "remarks": "",
        }
        with self.client.post(
            "/records/new/",
            data=data,
            name="record create (POST)",
            allow_redirects=False,
            catch_response=True,
            headers={"Referer": self.client.base_url + "/records/new/"},
        ) as response:
            if response.status_code != 302:
                errors = re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.text, re.S)
                response.failure(f"status {response.status_code}: {' '.join(errors)[:300]}")


class OfficeUser(RoleUser):
    abstract = True

    @task(3)
    def record_list(self):
        self.get("/records/", "record list (office)")

    @task(2)
    def record_list_filtered(self):
        account = self.account
        choice = random.random()
        if choice < 0.4:
            query = f"?exam_year={PLAN['exam_year']}&result=passed&office={account['sub_office']}"
        elif choice < 0.7 and account["names"]:
            query = f"?q={random.choice(account['names'])}"
        else:
            query = f"?institution={account['institution_fragment']}&sort=person__name"
        self.get(f"/records/{query}", "record list filtered (office)")

    @task(2)
    def record_detail(self):
        if self.account["records"]:
            self.get(f"/records/{random.choice(self.account['records'])}/", "record detail (office)")

    @task(1)
    def office_list(self):
        self.get("/offices/", "office list")

    @task(1)
    def office_detail(self):
        self.get(f"/offices/{self.account['office']}/", "office detail")

    @task(1)
    def institution_list(self):
        self.get("/institutions/", "institution list")

    @task(3)
    def filing_list(self):
        self.get("/rosters/filings/", "filing list")

    @task(2)
    def lookup(self):
        number = random.choice(self.account["lookup_ids"] or PLAN["lookup_ids"])
        with self.client.post(
            "/lookup/",
            data={"id_type": "resident", "id_number": number},
            headers={"X-CSRFToken": self.account["cookies"]["csrftoken"]},
            name="eligibility lookup (POST)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")

    @task(1)
    def dashboard(self):
        if PLAN.get("dashboard"):
            self.get(PLAN["dashboard"], "dashboard")


class CountyUser(OfficeUser):
    weight = 15
    role = "county"


class PrefectureUser(OfficeUser):
    weight = 4
    role = "prefecture"


class RegionUser(OfficeUser):
    weight = 1
    role = "region"
