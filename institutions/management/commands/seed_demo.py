"""Load the demo: Hubei's real office structure, a dozen institutions and one account per role. Idempotent."""

from django.core.management.base import BaseCommand
from django.db import transaction
from guardian.shortcuts import assign_perm

from accounts.models import User
from institutions.models import Institution, Office, Region
from institutions.scope import INSTITUTION_PERMISSIONS, MANAGE_RECORDS, OFFICE_PERMISSIONS, VIEW_INSTITUTION

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
# username, node (division code or institution name), full name, master?
ACCOUNTS = [
    ("hubei", "420000", "湖北考区管理员", False),
    ("wuhan", "420100", "武汉市考试管理机构", False),
    ("wuchang", "420106", "武昌区考试管理机构", False),
    ("wcyy", "武汉市武昌医院", "武昌医院主帐号", True),
    ("wcyy_staff", "武汉市武昌医院", "武昌医院医务科", False),
]


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
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded. Accounts (password {DEMO_PASSWORD}):"))
        for username, _node_key, full_name, _master in ACCOUNTS:
            self.stdout.write(f"  {username:<12} {full_name}")

    def _office(self, region, parent, code, name, kind):
        office = Office.objects.filter(region=region, division_code=code).first()
        if office is None:
            office = Office.objects.create(region=region, parent=parent, division_code=code, name=name, kind=kind)
        return office

    def _account(self, username, node, full_name, master):
        if User.objects.filter(username=username).exists():
            return
        user = User(username=username, full_name=full_name, is_master=master)
        if isinstance(node, Office):
            user.office = node
            perms = OFFICE_PERMISSIONS
        else:
            user.institution = node
            perms = INSTITUTION_PERMISSIONS if master else (VIEW_INSTITUTION, MANAGE_RECORDS)
        user.set_password(DEMO_PASSWORD)
        user.save()
        for perm in perms:
            assign_perm(perm, user, node)
