"""Load the demo: Hubei's real office structure, a dozen institutions and one account per role. Idempotent."""

import datetime

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from accounts.models import User
from hbwsrc import identifiers
from institutions.models import Institution, Office, Region
from institutions.scope import (
    INSTITUTION_PERMISSIONS,
    MANAGE_RECORDS,
    OFFICE_PERMISSIONS,
    VIEW_INSTITUTION,
    VIEW_OFFICE,
)
from trainees.models import ExamCategory, ExamYear, Person, ProbationRecord

DEMO_PASSWORD = "Hubei-Demo-2026"

K = Office.Kind
PREFECTURES = [
    ("420100", "武汉市", K.PREFECTURE),
    ("420200", "黄石市", K.PREFECTURE),
    ("420300", "十堰市", K.PREFECTURE),
    ("420500", "宜昌市", K.PREFECTURE),
    ("420600", "襄阳市", K.PREFECTURE),
    ("420700", "鄂州市", K.PREFECTURE),
    ("420800", "荆门市", K.PREFECTURE),
    ("420900", "孝感市", K.PREFECTURE),
    ("421000", "荆州市", K.PREFECTURE),
    ("421100", "黄冈市", K.PREFECTURE),
    ("421200", "咸宁市", K.PREFECTURE),
    ("421300", "随州市", K.PREFECTURE),
    ("422800", "恩施土家族苗族自治州", K.PREFECTURE),
    ("429004", "仙桃市", K.DIRECT_CITY),
    ("429005", "潜江市", K.DIRECT_CITY),
    ("429006", "天门市", K.DIRECT_CITY),
    ("429021", "神农架林区", K.FORESTRY_DISTRICT),
]
WUHAN_DISTRICTS = [
    ("420102", "江岸区"),
    ("420103", "江汉区"),
    ("420104", "硚口区"),
    ("420105", "汉阳区"),
    ("420106", "武昌区"),
    ("420107", "青山区"),
    ("420111", "洪山区"),
    ("420112", "东西湖区"),
    ("420113", "汉南区"),
    ("420114", "蔡甸区"),
    ("420115", "江夏区"),
    ("420116", "黄陂区"),
    ("420117", "新洲区"),
]
# (supervising office division code, institution name); "420000" is the region office itself (部省属).
INSTITUTIONS = [
    ("420000", "湖北省人民医院"),
    ("420000", "湖北中医药高等专科学校"),
    ("420106", "武汉市武昌医院"),
    ("420106", "武昌区首义路街社区卫生服务中心"),
    ("420102", "武汉市第一医院"),
    ("420111", "洪山区洪山街社区卫生服务中心"),
    ("420100", "武汉市中心医院"),
    ("420200", "黄石市中心医院"),
    ("420500", "宜昌市第一人民医院"),
    ("420600", "襄阳市中心医院"),
    ("422800", "恩施土家族苗族自治州中心医院"),
    ("429004", "仙桃市第一人民医院"),
]
DEMO_TRAINEES = ["陈明", "林晓", "王浩然", "刘思雨", "张伟", "杨静", "黄磊", "周敏", "吴昊", "徐丽", "孙杰", "马琳"]
# username, node (division code or institution name), full name, master?
ACCOUNTS = [
    ("hubei", "420000", "湖北考区管理员", False),
    ("wuhan", "420100", "武汉市考试管理机构", False),
    ("wuchang", "420106", "武昌区考试管理机构", False),
    ("wcyy", "武汉市武昌医院", "武昌医院主帐号", True),
    ("wcyy_staff", "武汉市武昌医院", "武昌医院医务科", False),
    ("hubei_audit", "420000", "湖北考区审计员", False),
]
# Auditors: staff accounts of the region office that may only view it; they read the region in /admin/.
AUDITORS = {"hubei_audit"}


class Command(BaseCommand):
    help = "Load Hubei's demo structure and one account per role (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        region, _created = Region.objects.get_or_create(division_code="420000", defaults={"name": "湖北考区"})
        root = self._office(region, None, "420000", "湖北考区", K.REGION)
        offices = {"420000": root}
        for code, name, kind in PREFECTURES:
            offices[code] = self._office(region, root, code, name, kind)
        for code, name in WUHAN_DISTRICTS:
            offices[code] = self._office(region, offices["420100"], code, name, K.COUNTY)
        institutions = {}
        for code, name in INSTITUTIONS:
            institutions[name], _created = Institution.objects.get_or_create(
                region=region, name=name, defaults={"office": offices[code]}
            )
        for username, node_key, full_name, master in ACCOUNTS:
            node = offices.get(node_key) or institutions[node_key]
            self._account(username, node, full_name, master)
        exam_year = self._exam_year(region)
        for serial, institution in enumerate(institutions.values(), start=1):
            self._profile(institution, serial)
        self._records(institutions["武汉市武昌医院"], institutions["武汉市中心医院"], exam_year)
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded. Accounts (password {DEMO_PASSWORD}):"))
        for username, _node_key, full_name, _master in ACCOUNTS:
            self.stdout.write(f"  {username:<12} {full_name}")

    def _exam_year(self, region):
        """The next exam: entry open now, filing window open for the coming weeks."""
        today = timezone.localdate()
        year = today.year + 1
        exam_year, _created = ExamYear.objects.get_or_create(
            region=region,
            year=year,
            defaults={
                "cutoff": ExamYear.default_cutoff(year),
                "entry_opens": today - datetime.timedelta(days=60),
                "entry_closes": datetime.date(year, 8, 31),
                "filing_opens": today - datetime.timedelta(days=7),
                "filing_closes": today + datetime.timedelta(days=45),
                "is_current": not ExamYear.objects.filter(region=region, is_current=True).exists(),
            },
        )
        return exam_year

    def _profile(self, institution, serial):
        if institution.profile_complete:
            return
        division = institution.office.division_code or "420000"
        organisation = f"{70000000 + serial:08d}"
        first17 = "12" + division + organisation + identifiers.organisation_code_check_character(organisation)
        institution.uscc = first17 + identifiers.uscc_check_character(first17)
        institution.licence_number = f"{organisation}{division}11A1001"[:22].ljust(22, "0")
        institution.licence_valid_until = datetime.date(2030, 12, 31)
        institution.category, institution.category_code = "A", "A100"
        institution.level, institution.grade = "3", "A"
        institution.ownership, institution.profit_status = "public", "non_profit"
        institution.address = f"湖北省{institution.office.name}示范路{serial}号"
        institution.head_name, institution.contact_person, institution.contact_phone = (
            "张院长",
            "李科长",
            "027-87654321",
        )
        institution.departments = ["内科", "外科", "妇产科", "儿科", "口腔科", "中医科", "急诊医学科"]
        institution.save()

    def _records(self, hospital, other, exam_year):
        """A dozen trainees at 武昌医院 (passed, under assessment, failed) and two at 武汉市中心医院."""
        if ProbationRecord.objects.filter(institution=hospital).exists():
            return
        clinical = ExamCategory.objects.get(code="110")
        dental = ExamCategory.objects.get(code="120")
        staff = User.objects.filter(institution=hospital).first()
        start = datetime.date(exam_year.year - 2, 9, 1)
        for i, name in enumerate(DEMO_TRAINEES):
            birth = datetime.date(1998 + i % 4, 1 + i % 12, 1 + i % 27)
            sex = "M" if i % 2 == 0 else "F"
            first17 = f"420106{birth:%Y%m%d}{(i * 2 + (1 if sex == 'M' else 0)) % 1000:03d}"
            person, _created = Person.objects.get_or_create(
                id_type="resident",
                id_number=first17 + identifiers.resident_id_check_character(first17),
                defaults={
                    "name": name,
                    "sex": sex,
                    "birth_date": birth,
                    "education": "bachelor",
                    "school": "华中科技大学" if i % 2 else "武汉大学",
                    "major": "口腔医学" if i == 3 else "临床医学",
                    "graduation_date": datetime.date(exam_year.year - 2, 6, 30),
                },
            )
            result = "failed" if i == 5 else ("in_progress" if i >= 9 else "passed")
            institution = other if i >= 11 else hospital
            ProbationRecord.objects.create(
                person=person,
                institution=institution,
                exam_year=exam_year,
                category=dental if i == 3 else clinical,
                is_fresh_graduate=i == 10,
                departments="口腔科" if i == 3 else "内科、外科、儿科",
                content="病史采集、体格检查、病历书写、常见病诊疗",
                supervisor_name="赵医生",
                supervisor_licence=f"11042010000{i:04d}",
                start_date=start,
                end_date=None
                if result == "in_progress"
                else start.replace(year=start.year + 1) - datetime.timedelta(days=1),
                result=result,
                assessed_on=None if result == "in_progress" else start.replace(year=start.year + 1),
                assessor="" if result == "in_progress" else "医务科",
                created_by=staff,
            )

    def _office(self, region, parent, code, name, kind):
        office = Office.objects.filter(region=region, division_code=code).first()
        if office is None:
            office = Office.objects.create(region=region, parent=parent, division_code=code, name=name, kind=kind)
        return office

    def _account(self, username, node, full_name, master):
        if User.objects.filter(username=username).exists():
            return
        user = User(username=username, full_name=full_name, is_master=master, is_staff=username in AUDITORS)
        if isinstance(node, Office):
            user.office = node
            perms = (VIEW_OFFICE,) if username in AUDITORS else OFFICE_PERMISSIONS
        else:
            user.institution = node
            perms = INSTITUTION_PERMISSIONS if master else (VIEW_INSTITUTION, MANAGE_RECORDS)
        user.set_password(DEMO_PASSWORD)
        user.save()
        for perm in perms:
            assign_perm(perm, user, node)
