"""A small named world shared by the tests.

Hubei (湖北考区) with two prefectures (武汉市, 宜昌市), two counties under 武汉 (武昌区, 洪山区), institutions under
武昌, 洪山, 宜昌 and one 部省属 hospital under the region office; and a second region (湖南考区) with its own office and
institution. Every node has one account named after it.
"""

import datetime
from dataclasses import dataclass

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from guardian.shortcuts import assign_perm

from accounts import two_factor
from accounts.models import User
from hbwsrc import identifiers
from institutions.models import Institution, Office, Region
from institutions.scope import INSTITUTION_PERMISSIONS, MANAGE_RECORDS, OFFICE_PERMISSIONS, VIEW_INSTITUTION
from trainees.models import ExamCategory, ExamYear

PASSWORD = "Correct-Horse-2026"


def make_account(username, node, *, master=False, perms=None, **fields) -> User:
    user = User(username=username, is_master=master, **fields)
    if isinstance(node, Office):
        user.office = node
        perms = OFFICE_PERMISSIONS if perms is None else perms
    else:
        user.institution = node
        perms = (INSTITUTION_PERMISSIONS if master else (VIEW_INSTITUTION, MANAGE_RECORDS)) if perms is None else perms
    user.set_password(PASSWORD)
    user.save()
    for perm in perms:
        assign_perm(perm, user, node)
    return user


@dataclass
class World:
    hubei: Region
    hunan: Region
    hubei_office: Office
    wuhan: Office
    wuchang: Office
    hongshan: Office
    yichang: Office
    hunan_office: Office
    wuchang_hospital: Institution
    hongshan_centre: Institution
    yichang_hospital: Institution
    provincial_hospital: Institution
    hunan_hospital: Institution
    region_user: User
    wuhan_user: User
    wuchang_user: User
    hongshan_user: User
    yichang_user: User
    hunan_user: User
    master: User
    staff: User
    hongshan_master: User
    yichang_master: User
    hunan_master: User

    @classmethod
    def build(cls) -> "World":
        hubei = Region.objects.create(name="湖北考区", division_code="420000")
        hunan = Region.objects.create(name="湖南考区", division_code="430000")
        hubei_office = Office.objects.create(region=hubei, name="湖北考区", kind="region", division_code="420000")
        wuhan = Office.objects.create(
            region=hubei, parent=hubei_office, name="武汉市", kind="prefecture", division_code="420100"
        )
        wuchang = Office.objects.create(
            region=hubei, parent=wuhan, name="武昌区", kind="county", division_code="420106"
        )
        hongshan = Office.objects.create(
            region=hubei, parent=wuhan, name="洪山区", kind="county", division_code="420111"
        )
        yichang = Office.objects.create(
            region=hubei, parent=hubei_office, name="宜昌市", kind="prefecture", division_code="420500"
        )
        hunan_office = Office.objects.create(region=hunan, name="湖南考区", kind="region", division_code="430000")
        wuchang_hospital = Institution.objects.create(office=wuchang, name="武汉市武昌医院")
        hongshan_centre = Institution.objects.create(office=hongshan, name="洪山街社区卫生服务中心")
        yichang_hospital = Institution.objects.create(office=yichang, name="宜昌市第一人民医院")
        provincial_hospital = Institution.objects.create(office=hubei_office, name="湖北省人民医院")
        hunan_hospital = Institution.objects.create(office=hunan_office, name="湖南省人民医院")
        return cls(
            hubei=hubei,
            hunan=hunan,
            hubei_office=hubei_office,
            wuhan=wuhan,
            wuchang=wuchang,
            hongshan=hongshan,
            yichang=yichang,
            hunan_office=hunan_office,
            wuchang_hospital=wuchang_hospital,
            hongshan_centre=hongshan_centre,
            yichang_hospital=yichang_hospital,
            provincial_hospital=provincial_hospital,
            hunan_hospital=hunan_hospital,
            region_user=make_account("hubei", hubei_office),
            wuhan_user=make_account("wuhan", wuhan),
            wuchang_user=make_account("wuchang", wuchang),
            hongshan_user=make_account("hongshan", hongshan),
            yichang_user=make_account("yichang", yichang),
            hunan_user=make_account("hunan", hunan_office),
            master=make_account("wcyy", wuchang_hospital, master=True),
            staff=make_account("wcyy_staff", wuchang_hospital),
            hongshan_master=make_account("hsz", hongshan_centre, master=True),
            yichang_master=make_account("ycyy", yichang_hospital, master=True),
            hunan_master=make_account("hnyy", hunan_hospital, master=True),
        )

    def client_for(self, user) -> Client:
        return logged_in(user)


def logged_in(user, client: Client | None = None) -> Client:
    """A client logged in as ``user``, past the second factor when his account needs one (as force_login skips
    the password, this skips the code; tests/test_two_factor.py covers the real steps)."""
    client = client or Client()
    if user is not None:
        client.force_login(user)
        if two_factor.required_for(user):
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
            device = device or TOTPDevice.objects.create(user=user, name="tests", confirmed=True)
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
    return client


def make_uscc(serial: int, division: str = "420106") -> str:
    """A valid unified social credit code for a public institution (12...)."""
    organisation = f"{serial:08d}"
    first17 = "12" + division + organisation + identifiers.organisation_code_check_character(organisation)
    return first17 + identifiers.uscc_check_character(first17)


def make_resident_id(birth: datetime.date, serial: int = 1, *, sex: str = "M", region: str = "420106") -> str:
    sequence = serial * 2 + (1 if sex == "M" else 0)
    first17 = f"{region}{birth:%Y%m%d}{sequence % 1000:03d}"
    return first17 + identifiers.resident_id_check_character(first17)


def complete_profile(institution: Institution, serial: int) -> Institution:
    institution.uscc = make_uscc(serial)
    institution.licence_number = f"PDY{serial:05d}842010617A1001"[:22]
    institution.licence_valid_until = datetime.date(2030, 12, 31)
    institution.category = "A"
    institution.category_code = "A100"
    institution.level = "3"
    institution.grade = "A"
    institution.ownership = "public"
    institution.profit_status = "non_profit"
    institution.address = "武汉市武昌区解放路1号"
    institution.head_name = "王院长"
    institution.contact_person = "李主任"
    institution.contact_phone = "027-88888888"
    institution.departments = ["内科", "外科", "儿科", "口腔科", "中医科"]
    institution.save()
    return institution


def current_exam_year(region: Region) -> ExamYear:
    """The region's current exam year, open for entries around today whatever day the tests run."""
    today = datetime.date.today()
    year = max(2027, today.year + 1)
    return ExamYear.objects.create(
        region=region,
        year=year,
        cutoff=datetime.date(year, 8, 31),
        entry_opens=today - datetime.timedelta(days=300),
        entry_closes=today + datetime.timedelta(days=300),
        filing_opens=today - datetime.timedelta(days=30),
        filing_closes=today + datetime.timedelta(days=30),
        is_current=True,
    )


@dataclass
class RecordsWorld:
    """The World with complete profiles, a current exam year per region and the exam categories."""

    world: World
    year: ExamYear
    hunan_year: ExamYear
    clinical: ExamCategory
    dental: ExamCategory

    @classmethod
    def build(cls, world: World) -> "RecordsWorld":
        for serial, institution in enumerate(
            [
                world.wuchang_hospital,
                world.hongshan_centre,
                world.yichang_hospital,
                world.provincial_hospital,
                world.hunan_hospital,
            ],
            start=1,
        ):
            complete_profile(institution, serial)
        return cls(
            world=world,
            year=current_exam_year(world.hubei),
            hunan_year=current_exam_year(world.hunan),
            clinical=ExamCategory.objects.get(code="110"),
            dental=ExamCategory.objects.get(code="120"),
        )

    def record_data(self, **overrides) -> dict:
        """POST data for a valid passed one-year probation of a man born on 1 March 1998."""
        birth = datetime.date(1998, 3, 1)
        data = {
            "id_type": "resident",
            "id_number": make_resident_id(birth),
            "name": "张三",
            "sex": "M",
            "birth_date": birth.isoformat(),
            "education": "bachelor",
            "school": "武汉大学",
            "major": "临床医学",
            "graduation_date": "2024-06-30",
            "exam_year": self.year.pk,
            "category": self.clinical.pk,
            "departments": "内科、外科、儿科",
            "content": "病史采集、体格检查",
            "supervisor_name": "李医生",
            "supervisor_licence": "110420100001234",
            "start_date": "2024-07-01",
            "end_date": "2025-06-30",
            "result": "passed",
            "assessed_on": "2025-07-05",
            "assessor": "王主任",
            "remarks": "",
        }
        data.update(overrides)
        return data
