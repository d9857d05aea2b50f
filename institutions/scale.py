"""Generate province- or nation-scale data quickly (``manage.py seed_scale``).

Everything is written with PostgreSQL COPY (psycopg 3 ``cursor.copy()``) into ids reserved from the tables' own
sequences, so offices can carry their materialized paths and records their persons without a round trip per row.
Roster rows are copied from the records by one INSERT ... SELECT. The whole run is one transaction: either the
database holds a complete, consistent data set or nothing.

What it makes, per exam region (real province codes and names; 湖北 first, with its real prefectures):

- the region office, ``prefectures`` prefecture offices and ``counties`` county offices beneath them;
- institutions of every category (hospitals, township health centres, community centres, clinics, ...) under all
  three levels, most with a complete profile (valid unified social credit code), a few large teaching hospitals
  taking most trainees;
- one exam year per year, the newest current, in the last days of its filing window;
- ``persons`` trainees a year (split over the regions by population), with valid resident ID numbers, Chinese
  names, schools and majors that fit the exam category; re-takers appear again the next year;
- their probation records: mostly one year ending by the cut-off, some short, some split over two or three
  institutions, some failed, some still under assessment (fresh graduates), a few withdrawn; the anti-挂靠
  exclusion constraint holds because one person's periods at different institutions never overlap;
- rosters in every filing state (past years filed; the current year finalised, submitted, filed, returned, or
  not yet started), with their rows; PDFs are left "waiting to be rendered" (none is rendered);
- one account per node (every office, every institution's master account), all with one shared password whose
  hash is computed once, and their django-guardian object permissions.
"""

import datetime
import random
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.db import DatabaseError, connection, transaction
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

from accounts.models import User
from hbwsrc import identifiers
from institutions.models import (
    Institution,
    InstitutionUserObjectPermission,
    Office,
    OfficeUserObjectPermission,
    Region,
)
from institutions.scope import INSTITUTION_PERMISSIONS, OFFICE_PERMISSIONS
from reports.dashboard import rebuild_eligible
from reports.models import VERIFICATION_ALPHABET, Roster, RosterEntry
from trainees.models import ExamCategory, ExamYear, Person, ProbationRecord

#: Every generated account has this password (the hash is computed once and shared).
BENCH_PASSWORD = "Bench-Scale-2026"
#: Insert triggers that a load with triggers off replaces by a bulk step: the dashboard's eligible persons per
#: institution (reports migration 0004), rebuilt by ``eligible_at_institutions``.
REBUILT_AFTERWARDS = ("reports_eligible_on_insert",)
#: Insert triggers whose work the load does itself (prefixes: django-pgtrigger adds a hash): a record's region,
#: written with the record.
WRITTEN_BY_THE_LOAD = ("pgtrigger_record_region_is_institutions_",)

# (division code, name, population in millions): the 31 provincial exam regions, 湖北 first.
PROVINCES = [
    ("420000", "湖北", 58.4), ("110000", "北京", 21.8), ("120000", "天津", 13.6), ("130000", "河北", 74.6),
    ("140000", "山西", 34.8), ("150000", "内蒙古", 24.0), ("210000", "辽宁", 42.3), ("220000", "吉林", 23.4),
    ("230000", "黑龙江", 31.0), ("310000", "上海", 24.9), ("320000", "江苏", 85.3), ("330000", "浙江", 65.8),
    ("340000", "安徽", 61.2), ("350000", "福建", 41.9), ("360000", "江西", 45.2), ("370000", "山东", 101.6),
    ("410000", "河南", 98.7), ("430000", "湖南", 66.0), ("440000", "广东", 127.0), ("450000", "广西", 50.5),
    ("460000", "海南", 10.4), ("500000", "重庆", 32.0), ("510000", "四川", 83.7), ("520000", "贵州", 38.6),
    ("530000", "云南", 46.7), ("540000", "西藏", 3.7), ("610000", "陕西", 39.6), ("620000", "甘肃", 24.8),
    ("630000", "青海", 5.9), ("640000", "宁夏", 7.3), ("650000", "新疆", 25.9),
]  # fmt: skip

HUBEI_PREFECTURES = [
    ("420100", "武汉市", "prefecture"), ("420200", "黄石市", "prefecture"), ("420300", "十堰市", "prefecture"),
    ("420500", "宜昌市", "prefecture"), ("420600", "襄阳市", "prefecture"), ("420700", "鄂州市", "prefecture"),
    ("420800", "荆门市", "prefecture"), ("420900", "孝感市", "prefecture"), ("421000", "荆州市", "prefecture"),
    ("421100", "黄冈市", "prefecture"), ("421200", "咸宁市", "prefecture"), ("421300", "随州市", "prefecture"),
    ("422800", "恩施土家族苗族自治州", "prefecture"), ("429004", "仙桃市", "direct_city"),
    ("429005", "潜江市", "direct_city"), ("429006", "天门市", "direct_city"),
    ("429021", "神农架林区", "forestry_district"),
]  # fmt: skip
WUHAN_DISTRICTS = ["江岸区", "江汉区", "硚口区", "汉阳区", "武昌区", "青山区", "洪山区", "东西湖区", "汉南区", "蔡甸区",
                   "江夏区", "黄陂区", "新洲区"]  # fmt: skip
CITY_ROOTS = (
    "东阳 南山 西平 北川 安康 永宁 长兴 新安 平江 清河 临江 云阳 兴化 宁远 富阳 龙泉 凤城 金川 石门 白水".split()
)
COUNTY_ROOTS = (
    "城关 东湖 西陵 南湖 北山 长宁 永安 安平 新华 兴隆 丰乐 太平 清河 龙泉 金水 白云 青山 松柏 桃源 红安 "
    "罗田 英山 浠水 蕲春 通山 崇阳 通城 嘉鱼 赤壁 广水 大悟 云梦 应城 汉川 枣阳 宜城 南漳 保康 谷城 老河 "
    "丹江 竹山 竹溪 房县 郧西 远安 兴山 秭归 长阳 五峰 当阳 枝江 宜都 松滋 公安 监利 石首 洪湖 江陵"
).split()
TOWNS = (
    "城关 新街 长岭 花园 杨店 三里 东湖 西河 南门 北港 石桥 柳林 双河 马坪 官桥 白沙 金口 龙港 桥头 新集 高桥 "
    "王店 李集 张湾 黄庄 陈家 刘河 吴店 周巷 徐家 孙镇 马口 朱湖 胡集 郭河 何场 高石 林桥 罗店 郑场"
).split()
STREETS = "中山 解放 人民 建设 和平 胜利 光明 幸福 友谊 东风 红旗 新华 长江 汉水 滨江 民主 文化 工人 青年 健康".split()

SURNAMES = (
    "王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 许 韩 冯 邓 曹 彭 曾 "
    "肖 田 董 袁 潘 于 蒋 蔡 余 杜 叶 程 苏 魏 吕 丁 任 沈 姚 卢 姜 崔 钟 谭 陆 汪 范 金 石 廖 贾 夏 "
    "韦 付 方 白 邹 孟 熊 秦 邱 江 尹 薛 闫 段 雷 侯 龙 史 陶 黎 贺 顾 毛 郝 龚 邵 万 钱 严 覃 武 戴 "
    "莫 孔 向 汤 欧阳 司马 诸葛 上官"
).split()
# Roughly Zipf: 王, 李 and 张 are each about 7% of the population, the compound surnames rare.
SURNAME_WEIGHTS = [1.0 / (rank + 1) ** 0.9 for rank in range(len(SURNAMES))]
GIVEN_MALE = list("伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欢阳建文博志远翔子豪晨睿轩泽宏")
GIVEN_FEMALE = list("芳娜秀英敏静丽艳娟霞燕玲桂丹萍婷雪琳晶倩颖露瑶怡佳欣悦琪梦雨涵诗雅婧思彤蕾晓梅慧")

SCHOOLS_NATIONAL = ["北京大学医学部", "复旦大学上海医学院", "中山大学中山医学院", "四川大学华西临床医学院",
                    "华中科技大学同济医学院", "中南大学湘雅医学院", "武汉大学医学部", "山东大学齐鲁医学院"]  # fmt: skip
SCHOOL_PATTERNS = ["{p}医科大学", "{p}医学院", "{p}中医药大学", "{p}卫生职业学院", "{p}医学高等专科学校"]

# (code, share, major, departments, typical schooling)
CATEGORY_MIX = [
    ("110", 0.50, "临床医学", "内科、外科、妇产科、儿科、急诊科", "bachelor"),
    ("210", 0.18, "临床医学", "内科、外科、妇产科、儿科", "junior_college"),
    ("120", 0.06, "口腔医学", "口腔内科、口腔颌面外科、口腔修复科", "bachelor"),
    ("220", 0.02, "口腔医学", "口腔科", "junior_college"),
    ("130", 0.03, "预防医学", "疾病预防控制科、公共卫生科", "bachelor"),
    ("230", 0.01, "预防医学", "公共卫生科", "junior_college"),
    ("141", 0.10, "中医学", "中医内科、针灸科、推拿科", "bachelor"),
    ("142", 0.04, "中西医临床医学", "中西医结合科、内科、外科", "bachelor"),
    ("241", 0.04, "中医学", "中医科、针灸科", "junior_college"),
    ("242", 0.02, "中西医临床医学", "中西医结合科", "junior_college"),
]

CONTENT = "病史采集、体格检查、病历书写、常见病诊疗"
# Institution categories: (category, share of institutions, relative number of trainees, level, grade)
INSTITUTION_MIX = [
    ("A", 0.34, 12.0), ("B", 0.18, 1.0), ("C", 0.30, 0.8), ("D", 0.08, 0.3), ("E", 0.01, 0.5), ("G", 0.04, 2.0),
    ("H", 0.01, 1.0), ("J", 0.02, 1.0), ("M", 0.005, 0.5), ("N", 0.015, 1.5),
]  # fmt: skip
CATEGORY_CODES = {"A": "A100", "B": "B100", "C": "C100", "D": "D100", "E": "E100", "G": "G100", "H": "H100",
                  "J": "J100", "M": "M100", "N": "N100"}  # fmt: skip
CATEGORY_DEPARTMENTS = {
    "A": ["内科", "外科", "妇产科", "儿科", "急诊医学科", "口腔科", "中医科", "医学影像科", "麻醉科"],
    "B": ["全科医疗科", "内科", "中医科", "预防保健科"],
    "C": ["全科医疗科", "内科", "外科", "妇产科", "中医科"],
    "D": ["内科", "口腔科"],
    "E": ["急诊医学科"],
    "G": ["妇产科", "儿科", "妇女保健科", "儿童保健科"],
    "H": ["内科", "结核病科"],
    "J": ["预防保健科", "疾病预防控制科"],
    "M": ["内科", "医学检验科"],
    "N": ["内科", "外科", "口腔科", "中医科"],
}

OFFICE_PERMS_BY_KIND = OFFICE_PERMISSIONS
MASTER_PERMS = INSTITUTION_PERMISSIONS


@dataclass
class Plan:
    regions: int = 1
    institutions: int = 5000
    persons: int = 60000  # a year, over all regions
    years: int = 3
    prefectures: int = 17  # per region
    counties: int = 100  # per region
    seed: int = 2026
    today: datetime.date = field(default_factory=timezone.localdate)


@dataclass
class Timings:
    steps: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)

    def add(self, name, seconds, rows):
        self.steps.append((name, seconds, rows))
        self.counts[name] = rows


# --- low-level helpers --------------------------------------------------------------------------------------------


def reserve_ids(cursor, model, count: int) -> int:
    """Take ``count`` consecutive ids from the table's identity sequence; return the first. The table is locked
    against concurrent inserts for the rest of the transaction."""
    table = model._meta.db_table
    cursor.execute(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    sequence = cursor.fetchone()[0]
    cursor.execute("SELECT nextval(%s)", [sequence])
    first = cursor.fetchone()[0]
    if count > 1:
        cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
    return first


def copy_rows(cursor, model, columns: list[str], rows) -> int:
    """COPY ``rows`` (tuples in ``columns`` order, attnames) into the model's table.

    Concrete columns not named get the model field's default (called per row when callable) or NULL, so a column
    added to a model later does not break the generator unless it has neither.
    """
    extra_columns, constants, callables = [], [], []
    existing = {column.name for column in connection.introspection.get_table_description(cursor, model._meta.db_table)}
    for model_field in model._meta.concrete_fields:
        if model_field.attname in columns or model_field.column not in existing:  # not migrated yet
            continue
        if isinstance(model_field, AutoFieldMixin):  # the identity column fills itself
            continue
        if model_field.has_default():
            default = model_field.default
            if callable(default):
                callables.append((len(extra_columns), model_field, default))
                constants.append(None)
            else:
                constants.append(model_field.get_db_prep_save(default, connection))
        elif model_field.null:
            constants.append(None)
        elif model_field.empty_strings_allowed and model_field.blank:
            constants.append("")
        elif getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            constants.append(timezone.now())
        else:
            raise ValueError(
                f"{model.__name__}.{model_field.name} has no default: teach institutions/scale.py about it"
            )
        extra_columns.append(model_field.column)
    names = [model._meta.get_field(name).column if name != "id" else "id" for name in columns] + extra_columns
    quoted = ", ".join(f'"{n}"' for n in names)
    sql = f'COPY "{model._meta.db_table}" ({quoted}) FROM STDIN'
    written = 0
    with cursor.copy(sql) as copy:
        if callables:
            for row in rows:
                extra = list(constants)
                for position, model_field, default in callables:
                    extra[position] = model_field.get_db_prep_save(default(), connection)
                copy.write_row((*row, *extra))
                written += 1
        else:
            extra = tuple(constants)
            for row in rows:
                copy.write_row((*row, *extra) if extra else row)
                written += 1
    return written


def verification_code(rng: random.Random) -> str:
    raw = "".join(rng.choice(VERIFICATION_ALPHABET) for _position in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def uscc(organisation_serial: int, division: str) -> str:
    organisation = f"{organisation_serial:08d}"
    first17 = "12" + division + organisation + identifiers.organisation_code_check_character(organisation)
    return first17 + identifiers.uscc_check_character(first17)


def resident_id(address: str, birth: datetime.date, sequence: int) -> str:
    first17 = f"{address}{birth:%Y%m%d}{sequence:03d}"
    return first17 + identifiers.resident_id_check_character(first17)


def split(total: int, weights: list[float]) -> list[int]:
    """``total`` split in proportion to ``weights``, summing exactly to ``total``."""
    whole = sum(weights)
    shares = [int(total * w / whole) for w in weights]
    for i in sorted(range(len(weights)), key=lambda i: -(total * weights[i] / whole - shares[i]))[
        : total - sum(shares)
    ]:
        shares[i] += 1
    return shares


def aware(day: datetime.date, rng: random.Random) -> datetime.datetime:
    moment = datetime.datetime.combine(day, datetime.time(8 + rng.randrange(10), rng.randrange(60), rng.randrange(60)))
    return timezone.make_aware(moment)


# --- the generator ------------------------------------------------------------------------------------------------


class Generator:
    def __init__(self, plan: Plan, say=print):
        if not 1 <= plan.regions <= len(PROVINCES):
            raise ValueError(f"--regions must be between 1 and {len(PROVINCES)}")
        self.plan = plan
        self.say = say
        self.rng = random.Random(plan.seed)
        self.now = timezone.now()
        self.timings = Timings()
        self.password = make_password(BENCH_PASSWORD)  # once: hashing is deliberately slow

    @contextmanager
    def step(self, name):
        """Time a step; the block sets ``.rows`` on what it is given."""
        counter = SimpleNamespace(rows=0)
        started = time.perf_counter()
        yield counter
        seconds = time.perf_counter() - started
        self.timings.add(name, seconds, counter.rows)
        self.say(f"  {name:<28} {counter.rows:>10,} rows {seconds:8.1f} s")

    def run(self) -> Timings:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            self.cursor = cursor.cursor  # the psycopg cursor, for copy()
            self.fast = self.replica_mode()
            self.say(
                "  triggers off during the load; history events and foreign keys done in bulk afterwards"
                if self.fast
                else "  row triggers on (not a superuser, or unknown insert triggers): slower"
            )
            self.regions_and_years()
            self.offices()
            self.institutions()
            self.accounts()
            self.persons_and_records()
            self.rosters()
            self.roster_entries()
            if self.fast:
                self.history_events()
                self.eligible_at_institutions()
                self.check_foreign_keys()
            self.say("  committing ...")
            commit_started = time.perf_counter()
        self.timings.add("commit", time.perf_counter() - commit_started, 0)
        with self.step("vacuum analyze"), connection.cursor() as cursor:
            for model in (Office, Institution, User, Person, ProbationRecord, Roster, RosterEntry,
                          OfficeUserObjectPermission, InstitutionUserObjectPermission):  # fmt: skip
                cursor.execute(f'VACUUM ANALYZE "{model._meta.db_table}"')
            cursor.execute("ANALYZE")
        self.timings.add("total", time.perf_counter() - started, 0)
        return self.timings

    # triggers ------------------------------------------------------------------------------------------------------

    WRITTEN = (Region, ExamYear, Office, Institution, User, OfficeUserObjectPermission,
               InstitutionUserObjectPermission, Person, ProbationRecord, Roster, RosterEntry)  # fmt: skip

    def replica_mode(self) -> bool:
        """Switch row triggers off for this transaction (session_replication_role = replica), when that is possible
        and harmless: every INSERT trigger on the tables written must be a django-pghistory one, whose events
        ``history_events`` then writes in bulk. Each pghistory/pgtrigger trigger call opens two subtransactions
        (their EXCEPTION blocks), which costs about 200 µs a row and, a million rows on, slows every other session
        of the server. Foreign keys (also triggers) are checked by ``check_foreign_keys`` instead."""
        tables = [model._meta.db_table for model in self.WRITTEN]
        self.cursor.execute(
            """SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
               WHERE NOT t.tgisinternal AND c.relname = ANY(%s) AND (t.tgtype::int & 4) <> 0""",
            [tables],
        )
        tracked = {model._meta.db_table for model in self._event_models()}
        others = [(name, table) for name, table in self.cursor.fetchall()
                  if not (table in tracked and name.startswith("pgtrigger_insert_insert_"))
                  and name not in REBUILT_AFTERWARDS and not name.startswith(WRITTEN_BY_THE_LOAD)]  # fmt: skip
        if others:
            self.say(f"  insert triggers other than history: {others}")
            return False
        try:
            with transaction.atomic():
                self.cursor.execute("SET LOCAL session_replication_role = replica")
        except DatabaseError:
            return False
        return True

    @staticmethod
    def _event_models() -> dict:
        """{tracked model: its django-pghistory event model}"""
        return {m.pgh_tracked_model: m for m in apps.get_models() if hasattr(m, "pgh_tracked_model")}

    def history_events(self):
        """The "insert" events the pghistory triggers would have written, in one INSERT ... SELECT a table."""
        with self.step("history events") as step:
            for tracked, event in self._event_models().items():
                if tracked not in self.WRITTEN:
                    continue
                columns = [f.column for f in event._meta.concrete_fields if not f.name.startswith("pgh_")]
                quoted = ", ".join(f'"{c}"' for c in columns)
                self.cursor.execute(
                    f"""INSERT INTO "{event._meta.db_table}" ({quoted}, pgh_created_at, pgh_label, pgh_obj_id)
                        SELECT {quoted}, now(), 'insert', id FROM "{tracked._meta.db_table}" """
                )
                step.rows += self.cursor.rowcount

    def eligible_at_institutions(self):
        """The dashboard's eligible persons per institution, which the records' triggers would have kept."""
        with self.step("eligible persons") as step:
            # Statistics first: planned against tables it believes empty, the rebuild's join runs for many minutes.
            for model in (Person, ProbationRecord, Institution, ExamYear):
                self.cursor.execute(f'ANALYZE "{model._meta.db_table}"')
            years = list(ExamYear.objects.order_by("pk"))
            rebuild_eligible(years)
            step.rows = len(years)

    def check_foreign_keys(self):
        """Every foreign key of the rows written points at a row (one anti-join per key)."""
        with self.step("foreign keys checked") as step:
            for model in self.WRITTEN:
                for model_field in model._meta.concrete_fields:
                    if not model_field.is_relation or not getattr(model_field, "db_constraint", False):
                        continue
                    target = model_field.target_field
                    self.cursor.execute(
                        f"""SELECT COUNT(*) FROM "{model._meta.db_table}" c
                            WHERE c."{model_field.column}" IS NOT NULL AND NOT EXISTS (
                                SELECT 1 FROM "{target.model._meta.db_table}" p
                                WHERE p."{target.column}" = c."{model_field.column}")"""
                    )
                    dangling = self.cursor.fetchone()[0]
                    if dangling:
                        raise RuntimeError(f"{dangling} rows of {model.__name__}.{model_field.name} point nowhere")
                    step.rows += 1

    # regions and exam years ----------------------------------------------------------------------------------------

    def regions_and_years(self):
        plan = self.plan
        with self.step("regions, exam years") as step:
            chosen = PROVINCES[: plan.regions]
            self.region_weights = [population for _code, _name, population in chosen]
            self.regions = Region.objects.bulk_create(
                Region(name=f"{name}考区", division_code=code) for code, name, _population in chosen
            )
            today = plan.today
            current = today.year + 1
            years = []
            for region in self.regions:
                for back in range(plan.years - 1, -1, -1):
                    shift = lambda day, back=back: day.replace(year=day.year - back)  # noqa: E731
                    years.append(
                        ExamYear(
                            region=region,
                            year=current - back,
                            cutoff=ExamYear.default_cutoff(current - back),
                            entry_opens=shift(today - datetime.timedelta(days=90)),
                            entry_closes=shift(ExamYear.default_cutoff(current)),
                            # The rush: the filing window closes in three days.
                            filing_opens=shift(today - datetime.timedelta(days=28)),
                            filing_closes=shift(today + datetime.timedelta(days=3)),
                            is_current=back == 0,
                        )
                    )
            ExamYear.objects.bulk_create(years)
            self.exam_years = {(y.region_id, y.year): y for y in ExamYear.objects.filter(region__in=self.regions)}
            self.year_numbers = list(range(current - plan.years + 1, current + 1))
            step.rows = len(self.regions) + len(years)

    # offices -------------------------------------------------------------------------------------------------------

    def offices(self):
        plan, rng = self.plan, self.rng
        with self.step("offices") as step:
            per_region = 1 + plan.prefectures + plan.counties
            next_id = reserve_ids(self.cursor, Office, per_region * len(self.regions))
            rows = []
            self.region_offices = {}  # region id -> (root, prefectures, counties); each a dict
            for region in self.regions:
                province = region.division_code[:2]
                short = region.name.removesuffix("考区")

                def office(parent, kind, name, code, _region=region):
                    nonlocal next_id
                    pk, next_id = next_id, next_id + 1
                    path = (parent["path"] if parent else "") + f"{pk}/"
                    row = {"id": pk, "region": _region.pk, "parent": parent["id"] if parent else None, "kind": kind,
                           "name": name, "code": code, "path": path, "depth": path.count("/") - 1}  # fmt: skip
                    rows.append(row)
                    return row

                root = office(None, "region", region.name, region.division_code)
                if region.division_code == "420000":
                    known = HUBEI_PREFECTURES[: plan.prefectures]
                else:
                    known = []
                prefectures = [office(root, kind, name, code) for code, name, kind in known]
                for n in range(len(known), plan.prefectures):
                    name = f"{short}{CITY_ROOTS[n % len(CITY_ROOTS)]}市" + ("" if n < len(CITY_ROOTS) else str(n))
                    prefectures.append(office(root, "prefecture", name, f"{province}{n + 1:02d}00"))
                counties = []
                used = {p["id"]: set() for p in prefectures}
                # Direct cities and forestry districts are county-level already: counties go under prefectures.
                parents = [p for p in prefectures if p["kind"] == "prefecture"] or prefectures or [root]
                for n in range(plan.counties):
                    parent = parents[n % len(parents)]
                    k = n // len(parents) + 1
                    if parent["code"] == "420100" and k <= len(WUHAN_DISTRICTS):
                        name = WUHAN_DISTRICTS[k - 1]
                    else:
                        root_name = COUNTY_ROOTS[(n * 7 + k) % len(COUNTY_ROOTS)]
                        name = root_name + ("区" if k % 3 == 0 else ("市" if k % 5 == 0 else "县"))
                    while name in used.setdefault(parent["id"], set()):
                        name = COUNTY_ROOTS[rng.randrange(len(COUNTY_ROOTS))] + "县"
                    used[parent["id"]].add(name)
                    code = f"{parent['code'][:4]}{k:02d}" if k < 100 and parent["code"].endswith("00") else ""
                    counties.append(office(parent, "county", name, code))
                self.region_offices[region.pk] = (root, prefectures, counties)
            contacts = [(rng.choice(SURNAMES) + "科长", f"0{rng.randint(710, 999)}-{rng.randint(10000000, 99999999)}")
                        for _row in rows]  # fmt: skip
            step.rows = copy_rows(
                self.cursor,
                Office,
                [
                    "id",
                    "public_id",
                    "region_id",
                    "parent_id",
                    "kind",
                    "name",
                    "division_code",
                    "contact_person",
                    "contact_phone",
                    "path",
                    "depth",
                    "created_at",
                ],  # fmt: skip
                (
                    (
                        r["id"],
                        uuid.uuid4(),
                        r["region"],
                        r["parent"],
                        r["kind"],
                        r["name"],
                        r["code"],
                        c[0],
                        c[1],
                        r["path"],
                        r["depth"],
                        self.now,
                    )  # fmt: skip
                    for r, c in zip(rows, contacts, strict=True)
                ),
            )
            self.office_rows = rows

    # institutions --------------------------------------------------------------------------------------------------

    def institutions(self):
        plan, rng = self.plan, self.rng
        with self.step("institutions") as step:
            per_region = split(plan.institutions, self.region_weights)
            next_id = reserve_ids(self.cursor, Institution, plan.institutions)
            categories = [c for c, _share, _weight in INSTITUTION_MIX]
            category_cum = []
            total = 0
            for _c, share, _weight in INSTITUTION_MIX:
                total += share
                category_cum.append(total)
            trainee_weight = {c: weight for c, _share, weight in INSTITUTION_MIX}
            self.institutions_by_region = {}  # region id -> list of (id, office row, weight, complete, name, ...)
            rows = []
            serial = 0
            for region, count in zip(self.regions, per_region, strict=True):
                root, prefectures, counties = self.region_offices[region.pk]
                province_short = region.name.removesuffix("考区")
                names = set()
                made = []
                for n in range(count):
                    serial += 1
                    roll = rng.random()
                    office = root if roll < 0.02 else (rng.choice(prefectures) if roll < 0.20 and prefectures
                                                       else rng.choice(counties or prefectures or [root]))  # fmt: skip
                    category = categories[min(_bisect(category_cum, rng.random() * total), len(categories) - 1)]
                    if office is root:
                        category = "A" if rng.random() < 0.8 else "N"
                    name = self._institution_name(category, office, province_short, names, n)
                    names.add(name)
                    complete = rng.random() < 0.9 or office is root
                    level = ("3" if office is root or (office["depth"] == 1 and rng.random() < 0.5) else "2") \
                        if category == "A" else ("1" if category in "BC" else "unrated")  # fmt: skip
                    weight = trainee_weight[category] * min(rng.paretovariate(1.6), 20) * (
                        6 if level == "3" else (2 if level == "2" else 1))  # fmt: skip
                    pk, next_id = next_id, next_id + 1
                    division = office["code"] or region.division_code
                    head = rng.choices(SURNAMES, SURNAME_WEIGHTS)[0] + rng.choice(GIVEN_MALE + GIVEN_FEMALE)
                    rows.append((
                        pk, uuid.uuid4(), region.pk, office["id"], name, rng.choice(SURNAMES) + "主任",
                        f"0{rng.randint(710, 999)}-{rng.randint(10000000, 99999999)}", office["path"], self.now,
                        uscc(10000000 + serial, division) if complete else "",
                        f"{60000000 + serial:08d}{division}11{category}1{n % 10000:04d}" if complete else "",
                        datetime.date(plan.today.year + rng.randint(1, 5), 12, 31) if complete else None,
                        category if complete else "", CATEGORY_CODES[category] if complete else "",
                        level if complete else "", ("A" if level == "3" else ("B" if level == "2" else "unrated"))
                        if complete else "",
                        ("public" if rng.random() < 0.85 else "private") if complete else "",
                        ("non_profit" if rng.random() < 0.9 else "for_profit") if complete else "",
                        f"{province_short}{office['name']}{rng.choice(STREETS)}路{rng.randint(1, 400)}号"
                        if complete
                        else "",
                        head if complete else "",
                        CATEGORY_DEPARTMENTS[category] if complete else [],
                    ))  # fmt: skip
                    made.append((pk, office, weight, complete, name, category))
                self.institutions_by_region[region.pk] = made
            step.rows = copy_rows(
                self.cursor,
                Institution,
                [
                    "id",
                    "public_id",
                    "region_id",
                    "office_id",
                    "name",
                    "contact_person",
                    "contact_phone",
                    "path",
                    "created_at",
                    "uscc",
                    "licence_number",
                    "licence_valid_until",
                    "category",
                    "category_code",
                    "level",
                    "grade",
                    "ownership",
                    "profit_status",
                    "address",
                    "head_name",
                    "departments",
                ],  # fmt: skip
                rows,
            )

    def _institution_name(self, category, office, province_short, taken, n) -> str:
        rng = self.rng
        place = office["name"]
        if office["depth"] == 0:
            place = province_short + "省"
        for attempt in range(20):
            if category == "A":
                kind = rng.random()
                if kind < 0.5:
                    name = f"{place}第{_chinese_number(attempt + 1 + rng.randrange(3))}人民医院"
                elif kind < 0.7:
                    name = f"{place}中医医院" if attempt == 0 else f"{place}第{_chinese_number(attempt + 1)}中医医院"
                elif kind < 0.8:
                    name = f"{place}人民医院" if attempt == 0 else f"{place}{rng.choice(STREETS)}医院"
                else:
                    name = f"{place}{rng.choice(STREETS)}{rng.choice(['骨科', '眼科', '肿瘤', '精神卫生', '康复'])}医院"
            elif category == "B":
                name = f"{place}{rng.choice(STREETS)}街道社区卫生服务中心"
            elif category == "C":
                name = f"{place}{rng.choice(TOWNS)}镇卫生院"
            elif category == "D":
                name = rng.choice([f"{place}{rng.choice(TOWNS)}村卫生室", f"{place}{rng.choice(SURNAMES)}氏口腔诊所",
                                   f"{place}{rng.choice(STREETS)}门诊部"])  # fmt: skip
            elif category == "E":
                name = f"{place}急救中心" if attempt == 0 else f"{place}{rng.choice(TOWNS)}急救站"
            elif category == "G":
                name = f"{place}妇幼保健院" if attempt == 0 else f"{place}{rng.choice(TOWNS)}妇幼保健所"
            elif category == "H":
                name = f"{place}{rng.choice(['结核病', '皮肤病', '职业病'])}防治所"
            elif category == "J":
                name = f"{place}疾病预防控制中心" if attempt == 0 else f"{place}{rng.choice(TOWNS)}防保所"
            elif category == "M":
                name = f"{place}{rng.choice(['医学', '药物', '预防医学'])}研究所"
            else:
                school = rng.choice(["医药", "卫生", "中医药", "护理"]) + rng.choice(["职业学院", "高等专科学校"])
                name = f"{province_short}{school}附属医院"
            if name not in taken:
                return name
        return f"{place}第{n + 1}医疗机构"

    # accounts ------------------------------------------------------------------------------------------------------

    def accounts(self):
        rng = self.rng
        with self.step("accounts") as step:
            offices, institutions = self.office_rows, [i for made in self.institutions_by_region.values() for i in made]
            first = reserve_ids(self.cursor, User, len(offices) + len(institutions))
            rows = []
            self.office_account = {}
            self.master_account = {}
            pk = first
            for office in offices:
                username = f"o{office['code']}" if office["code"] else f"o{office['id']}"
                rows.append((pk, username, f"{office['name']}管理员", office["id"], None, False))
                self.office_account[office["id"]] = pk
                pk += 1
            for region in self.regions:
                for n, (institution_id, _office, *_rest) in enumerate(self.institutions_by_region[region.pk], start=1):
                    username = f"i{region.division_code[:2]}{n:05d}"
                    full = rng.choices(SURNAMES, SURNAME_WEIGHTS)[0] + rng.choice(GIVEN_FEMALE) + "（医务科）"
                    rows.append((pk, username, full, None, institution_id, True))
                    self.master_account[institution_id] = pk
                    pk += 1
            step.rows = copy_rows(
                self.cursor,
                User,
                [
                    "id",
                    "public_id",
                    "password",
                    "is_superuser",
                    "username",
                    "first_name",
                    "last_name",
                    "email",
                    "is_staff",
                    "is_active",
                    "date_joined",
                    "full_name",
                    "phone",
                    "office_id",
                    "institution_id",
                    "is_master",
                    "must_change_password",
                ],  # fmt: skip
                (
                    (
                        pk,
                        uuid.uuid4(),
                        self.password,
                        False,
                        username,
                        "",
                        "",
                        "",
                        False,
                        True,
                        self.now,
                        full,
                        "",
                        office_id,
                        institution_id,
                        master,
                        False,
                    )  # fmt: skip
                    for pk, username, full, office_id, institution_id, master in rows
                ),
            )
        with self.step("object permissions") as step:
            perms = {
                (p.content_type.model, p.codename): p.pk
                for p in Permission.objects.filter(content_type__app_label="institutions").select_related(
                    "content_type"
                )
            }
            office_perm_ids = [perms[("office", c)] for c in OFFICE_PERMS_BY_KIND]
            institution_perm_ids = [perms[("institution", c)] for c in MASTER_PERMS]
            office_grants = [
                (user_id, perm_id, office_id)
                for office_id, user_id in self.office_account.items()
                for perm_id in office_perm_ids
            ]
            institution_grants = [
                (user_id, perm_id, institution_id)
                for institution_id, user_id in self.master_account.items()
                for perm_id in institution_perm_ids
            ]
            step.rows = copy_rows(
                self.cursor,
                OfficeUserObjectPermission,
                ["user_id", "permission_id", "content_object_id"],
                office_grants,
            ) + copy_rows(
                self.cursor,
                InstitutionUserObjectPermission,
                ["user_id", "permission_id", "content_object_id"],
                institution_grants,
            )

    # persons and records -------------------------------------------------------------------------------------------

    def persons_and_records(self):
        plan, rng = self.plan, self.rng
        categories = dict(ExamCategory.objects.values_list("code", "pk"))
        category_cum, total = [], 0.0
        for _code, share, *_rest in CATEGORY_MIX:
            total += share
            category_cum.append(total)
        per_region = split(plan.persons, self.region_weights)
        births_start, births_days = datetime.date(1990, 1, 1), 365 * 13
        person_columns = ["id", "public_id", "id_type", "id_number", "name", "sex", "birth_date", "education",
                          "school", "major", "graduation_date", "created_at"]  # fmt: skip
        record_columns = ["id", "public_id", "person_id", "institution_id", "exam_year_id", "category_id",
                          "is_fresh_graduate", "departments", "content", "supervisor_name", "supervisor_licence",
                          "start_date", "end_date", "result", "assessed_on", "assessor", "remarks", "created_at",
                          "updated_at", "created_by_id", "withdrawn_at", "withdrawal_reason",
                          "region_id"]  # fmt: skip
        new_persons = [
            sum(region_count if k == 0 else region_count - int(region_count * 0.08) for k in range(plan.years))
            for region_count in per_region
        ]
        person_id = reserve_ids(self.cursor, Person, sum(new_persons))
        # Records: at most 3 per person and year, plus one withdrawn copy; reserve generously, give back nothing.
        record_id = reserve_ids(self.cursor, ProbationRecord, sum(per_region) * plan.years * 4 + 10)
        persons_written = records_written = 0
        person_seconds = record_seconds = 0.0
        for region, region_count in zip(self.regions, per_region, strict=True):
            if region_count == 0:
                continue
            _root, _prefectures, counties = self.region_offices[region.pk]
            addresses = [c["code"] for c in counties if c["code"]] or [region.division_code[:2] + "0102"]
            short = region.name.removesuffix("考区")
            schools = [pattern.format(p=short) for pattern in SCHOOL_PATTERNS] + SCHOOLS_NATIONAL
            made = [i for i in self.institutions_by_region[region.pk] if i[3]]  # complete profiles only
            if not made:
                continue
            inst_ids = [i[0] for i in made]
            inst_cum, acc = [], 0.0
            for i in made:
                acc += i[2]
                inst_cum.append(acc)
            index = 0  # per-region person serial, which makes ID numbers unique
            previous: list = []  # (person id, [(institution, start, end, result)], category, fresh) of last year
            for k, year in enumerate(self.year_numbers):
                exam_year = self.exam_years[(region.pk, year)]
                cutoff = exam_year.cutoff
                reference = plan.today if exam_year.is_current else cutoff + datetime.timedelta(days=60)
                entry_days = max((min(plan.today, exam_year.entry_closes) - exam_year.entry_opens).days, 1)
                retakers = rng.sample(previous, min(int(region_count * 0.08), len(previous))) if k else []
                fresh_count = region_count - len(retakers)
                persons, people = [], []
                for _n in range(fresh_count):
                    pid, index = person_id, index + 1
                    person_id += 1
                    code, share, major, departments, schooling = CATEGORY_MIX[
                        min(_bisect(category_cum, rng.random() * total), len(CATEGORY_MIX) - 1)
                    ]
                    j = index // len(addresses)
                    birth = births_start + datetime.timedelta(days=j * 2797 % births_days)  # 2797 is prime
                    sex_bit = rng.random() < 0.5
                    sequence = (j // births_days) * 2 + (1 if sex_bit else 0)
                    if rng.random() < 0.003:
                        id_type, number = "hk_macao_taiwan", f"H{region.division_code[:2]}{index:07d}"
                    else:
                        id_type, number = "resident", resident_id(addresses[index % len(addresses)], birth, sequence)
                    sex = "M" if sex_bit else "F"
                    given = GIVEN_MALE if sex == "M" else GIVEN_FEMALE
                    name = rng.choices(SURNAMES, SURNAME_WEIGHTS)[0] + rng.choice(given) + (
                        rng.choice(given) if rng.random() < 0.7 else "")  # fmt: skip
                    fresh = rng.random() < 0.3
                    education = schooling
                    if schooling == "bachelor":
                        roll = rng.random()
                        education = "master" if roll < 0.15 else ("doctorate" if roll < 0.18 else "bachelor")
                    elif rng.random() < 0.2:
                        education = "secondary"
                    graduated = datetime.date(year - 1 if fresh else year - 2 - (rng.random() < 0.3), 6, 30)
                    persons.append((pid, uuid.uuid4(), id_type, number, name, sex, birth, education,
                                    rng.choice(schools), major, graduated, self.now))  # fmt: skip
                    people.append((pid, code, departments, fresh))
                started = time.perf_counter()
                persons_written += copy_rows(self.cursor, Person, person_columns, persons)
                person_seconds += time.perf_counter() - started
                rows, this_year = [], []
                for pid, code, departments, fresh in people:
                    periods = self._periods(cutoff, reference, fresh, made, inst_ids, inst_cum)
                    this_year.append((pid, periods, code, departments, fresh))
                for pid, periods, code, departments, fresh in retakers:
                    # A re-taker's certificate covers the same time again, at the same institutions.
                    this_year.append((pid, periods, code, departments, fresh))
                for pid, periods, code, departments, fresh in this_year:
                    for institution_id, start, end, result in periods:
                        entered = aware(exam_year.entry_opens + datetime.timedelta(
                            days=int(entry_days * rng.random() ** 0.6)), rng)  # fmt: skip
                        if end is not None and result != "in_progress" and entered.date() < end:
                            entered = aware(min(end + datetime.timedelta(days=rng.randint(1, 30)), reference), rng)
                        entered = min(entered, self.now)
                        assessed = None if result == "in_progress" else min(
                            end + datetime.timedelta(days=rng.randint(0, 10)), reference)  # fmt: skip
                        rid, record_id = record_id, record_id + 1
                        row = (rid, uuid.uuid4(), pid, institution_id, exam_year.pk, categories[code],
                               fresh and result == "in_progress", departments, CONTENT,
                               rng.choices(SURNAMES, SURNAME_WEIGHTS)[0] + rng.choice(GIVEN_MALE + GIVEN_FEMALE),
                               f"1{rng.choice('12')}0{region.division_code[:2]}{rng.randrange(10**9):09d}"[:15],
                               start, end, result, assessed, "" if assessed is None else "医务科", "",
                               entered, entered, self.master_account[institution_id], None, "",
                               region.pk)  # fmt: skip
                        rows.append(row)
                        if rng.random() < 0.01:  # entered twice by mistake, the first copy withdrawn
                            wid, record_id = record_id, record_id + 1
                            rows.append((wid, uuid.uuid4(), *row[2:17], entered - datetime.timedelta(hours=2),
                                         entered, row[19], entered, "录入错误，重复录入", region.pk))  # fmt: skip
                started = time.perf_counter()
                records_written += copy_rows(self.cursor, ProbationRecord, record_columns, rows)
                record_seconds += time.perf_counter() - started
                # Who can re-take next year: failed or short this year.
                previous = [p for p in this_year if any(r != "passed" for _i, _s, _e, r in p[1])
                            or sum((e - s).days + 1 for _i, s, e, _r in p[1] if e) < 365] or this_year  # fmt: skip
        self.timings.add("persons (COPY)", person_seconds, persons_written)
        self.timings.add("records (COPY)", record_seconds, records_written)
        self.say(f"  {'persons (COPY)':<28} {persons_written:>10,} rows {person_seconds:8.1f} s")
        self.say(f"  {'records (COPY)':<28} {records_written:>10,} rows {record_seconds:8.1f} s")

    def _periods(self, cutoff, reference, fresh, made, inst_ids, inst_cum):
        """[(institution id, start, end, result)]: consecutive, at distinct institutions."""
        rng = self.rng
        if fresh:  # graduated in June of the previous year, started right after
            start = datetime.date(cutoff.year - 1, 7, 1) + datetime.timedelta(days=rng.randrange(62))
        else:  # graduated earlier; most are through by the filing window, some still finishing
            start = cutoff - datetime.timedelta(days=790 - rng.randrange(150))
        # A full year ends on the same date a year on, less a day (the length counts 29 February when it comes);
        # some fall short of a year.
        year_on = start.replace(year=start.year + 1, day=28 if (start.month, start.day) == (2, 29) else start.day)
        length = (year_on - start).days if rng.random() > 0.08 else rng.randint(150, 330)
        roll = rng.random()
        parts = 1 if roll < 0.85 else (2 if roll < 0.97 else 3)
        picks: list[int] = []
        while len(picks) < parts:
            candidate = inst_ids[min(_bisect(inst_cum, rng.random() * inst_cum[-1]), len(inst_ids) - 1)]
            if candidate not in picks:
                picks.append(candidate)
            elif len(inst_ids) <= parts:
                break
        periods = []
        each = length // len(picks)
        failed_part = len(picks) - 1 if rng.random() < 0.03 else -1
        for position, institution_id in enumerate(picks):
            part_start = start + datetime.timedelta(days=position * each)
            part_end = (start + datetime.timedelta(days=length - 1)) if position == len(picks) - 1 else (
                part_start + datetime.timedelta(days=each - 1))  # fmt: skip
            if part_end + datetime.timedelta(days=3) >= reference:
                # Not over yet: under assessment, with the planned end or none.
                periods.append((institution_id, part_start, part_end if rng.random() < 0.4 else None, "in_progress"))
                break
            periods.append((institution_id, part_start, part_end, "failed" if position == failed_part else "passed"))
        return periods

    # rosters -------------------------------------------------------------------------------------------------------

    def rosters(self):
        rng = self.rng
        with self.step("rosters") as step:
            self.cursor.execute(
                """SELECT institution_id, exam_year_id, MAX(created_at), COUNT(*)
                   FROM trainees_probationrecord
                   WHERE withdrawn_at IS NULL AND (result = 'passed' OR (result = 'in_progress' AND is_fresh_graduate))
                   GROUP BY institution_id, exam_year_id"""
            )
            qualifying = self.cursor.fetchall()
            years = {y.pk: y for y in self.exam_years.values()}
            institutions = {i[0]: i for made in self.institutions_by_region.values() for i in made}
            office_by_id = {o["id"]: o for o in self.office_rows}
            details = dict(
                Institution.objects.filter(pk__in=institutions).values_list("pk", "uscc").iterator(chunk_size=10000)
            )
            licence = dict(Institution.objects.filter(pk__in=institutions).values_list("pk", "licence_number"))
            heads = dict(Institution.objects.filter(pk__in=institutions).values_list("pk", "head_name"))
            rows = []
            for institution_id, exam_year_id, last_entry, _count in qualifying:
                year = years[exam_year_id]
                _pk, office, _weight, _complete, name, _category = institutions[institution_id]
                if year.is_current:
                    roll = rng.random()
                    # The rush: a third have not finalised yet, the rest in every state.
                    history = ([] if roll < 0.32 else [["finalised"]] if roll < 0.44 else [["submitted"]]
                               if roll < 0.72 else [["accepted"]] if roll < 0.88 else [["returned"]]
                               if roll < 0.93 else [["returned"], ["submitted"]] if roll < 0.97
                               else [["cancelled"], ["submitted"]])  # fmt: skip
                else:
                    roll = rng.random()
                    history = [["accepted"]] if roll < 0.9 else [["returned"], ["accepted"]] if roll < 0.97 else []
                if not history:
                    continue
                decider = self.office_account[office["id"]]
                master = self.master_account[institution_id]
                window_open = timezone.make_aware(datetime.datetime.combine(year.filing_opens, datetime.time(9)))
                latest = max(last_entry, window_open)
                ceiling = self.now if year.is_current else window_open + datetime.timedelta(days=30)
                span = max((ceiling - latest).total_seconds(), 3600)
                moments = sorted(latest + datetime.timedelta(seconds=rng.random() * span) for _h in history)
                for version, ((status,), finalised) in enumerate(zip(history, moments, strict=True), start=1):
                    submitted = decided = None
                    if status in ("submitted", "accepted", "returned"):
                        submitted = finalised + datetime.timedelta(hours=rng.randint(1, 48))
                    if status in ("accepted", "returned"):
                        decided = submitted + datetime.timedelta(hours=rng.randint(2, 72))
                    submitted = min(submitted, self.now) if submitted else None
                    decided = min(decided, self.now) if decided else None
                    rows.append((
                        uuid.uuid4(), institution_id, exam_year_id, version, status, verification_code(rng), 0, name,
                        details[institution_id], licence[institution_id], heads[institution_id],
                        office_by_id[office["id"]]["name"], finalised, master, submitted,
                        master if submitted else None, decided, decider if decided else None,
                        "盖章不清晰，请重新上传" if status == "returned" else "", "queued",
                    ))  # fmt: skip
            step.rows = copy_rows(
                self.cursor,
                Roster,
                [
                    "public_id",
                    "institution_id",
                    "exam_year_id",
                    "version",
                    "status",
                    "verification_code",
                    "row_count",
                    "institution_name",
                    "institution_uscc",
                    "institution_licence",
                    "institution_head",
                    "office_name",
                    "finalised_at",
                    "finalised_by_id",
                    "submitted_at",
                    "submitted_by_id",
                    "decided_at",
                    "decided_by_id",
                    "return_reason",
                    "pdf_state",
                ],  # fmt: skip
                rows,
            )

    def roster_entries(self):
        with self.step("roster rows (INSERT SELECT)") as step:
            # Each version holds the qualifying records entered before it was finalised, ordered by name.
            self.cursor.execute(
                """
                INSERT INTO reports_rosterentry (roster_id, position, record_id, name, sex, id_type, id_number,
                    category, departments, start_date, end_date, result, is_fresh_graduate, flagged)
                SELECT ro.id,
                       row_number() OVER (PARTITION BY ro.id ORDER BY p.name, r.id),
                       r.id, p.name, p.sex, p.id_type, p.id_number, c.name, r.departments, r.start_date, r.end_date,
                       r.result, r.is_fresh_graduate,
                       ro.status = 'returned' AND random() < 0.05
                FROM reports_roster ro
                JOIN trainees_probationrecord r
                  ON r.institution_id = ro.institution_id AND r.exam_year_id = ro.exam_year_id
                 AND r.withdrawn_at IS NULL AND r.created_at <= ro.finalised_at
                 AND (r.result = 'passed' OR (r.result = 'in_progress' AND r.is_fresh_graduate))
                JOIN trainees_person p ON p.id = r.person_id
                JOIN trainees_examcategory c ON c.id = r.category_id
                """
            )
            step.rows = self.cursor.rowcount
            self.cursor.execute(
                """UPDATE reports_roster ro SET row_count = n.count
                   FROM (SELECT roster_id, COUNT(*) AS count FROM reports_rosterentry GROUP BY roster_id) n
                   WHERE n.roster_id = ro.id"""
            )


def _bisect(cumulative, value):
    low, high = 0, len(cumulative)
    while low < high:
        middle = (low + high) // 2
        if cumulative[middle] < value:
            low = middle + 1
        else:
            high = middle
    return low


def _chinese_number(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")


# --- wiping -------------------------------------------------------------------------------------------------------

#: What --force empties (TRUNCATE ... CASCADE also empties every table that refers to these, e.g. imports).
WIPED_MODELS = ("institutions.Region", "accounts.User", "accounts.AuditEvent", "sessions.Session",
                "pghistory.Context")  # fmt: skip


def wipe() -> list[str]:
    """Empty the hierarchy, accounts, persons, records and rosters (TRUNCATE bypasses the row-level triggers that
    forbid deleting persons, records and audit events: this is for benchmark databases only)."""
    tables = [apps.get_model(label)._meta.db_table for label in WIPED_MODELS]
    tables += [m._meta.db_table for m in apps.get_models() if hasattr(m, "pgh_tracked_model")]
    tables += [m._meta.db_table for m in (Person, ProbationRecord, ExamYear, Roster, RosterEntry)]
    with connection.cursor() as cursor:
        quoted = ", ".join(f'"{t}"' for t in tables)
        cursor.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
    return tables


def database_is_empty() -> bool:
    return not (Region.objects.exists() or User.objects.exists() or Person.objects.exists())
