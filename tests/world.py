"""A small named world shared by the tests.

Hubei (湖北考区) with two prefectures (武汉市, 宜昌市), two counties under 武汉 (武昌区, 洪山区), institutions under
武昌, 洪山, 宜昌 and one 部省属 hospital under the region office; and a second region (湖南考区) with its own office and
institution. Every node has one account named after it.
"""

from dataclasses import dataclass

from django.test import Client
from guardian.shortcuts import assign_perm

from accounts.models import User
from institutions.models import Institution, Office, Region
from institutions.scope import INSTITUTION_PERMISSIONS, MANAGE_RECORDS, OFFICE_PERMISSIONS, VIEW_INSTITUTION

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
        client = Client()
        if user is not None:
            client.force_login(user)
        return client
