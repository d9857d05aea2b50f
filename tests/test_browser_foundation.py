"""The foundation walked through a real browser: region office -> prefecture office -> institution.

The interface is zh-hans and its catalogue is still being written, so nothing here depends on visible text of
buttons or labels: inputs are found by their name attribute and forms are submitted with the submit button of
the form inside ``main`` (the header holds the logout form).
"""

import base64
import re
import time

import pytest
from django.urls import reverse
from django_otp.oath import TOTP

from accounts.models import AuditEvent, User
from institutions.models import Institution, Office, Region
from tests.world import PASSWORD, make_account

pytestmark = pytest.mark.browser

WUHAN_PASSWORD = "Wuhan-Office-Pass-2026"
HOSPITAL_PASSWORD = "Hospital-Own-Pass-2026"
HOSPITAL = "武汉市第一医院"


def path_of(page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url)


def submit_main_form(page):
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").click()


def log_in(page, base_url, username, password):
    page.goto(base_url + reverse("accounts:login"))
    page.locator("main input[name=username]").fill(username)
    page.locator("main input[name=password]").fill(password)
    submit_main_form(page)
    assert path_of(page) != reverse("accounts:login"), f"login of {username} failed"


def set_up_two_factor(page):
    """A region-office account must set up an authenticator: read the key off the page as an app would."""
    assert path_of(page).startswith(reverse("accounts:two_factor_setup"))
    assert page.locator("#otp-qr svg").count() == 1
    key = base64.b32decode(page.locator("#otp-secret").inner_text().replace(" ", ""))
    totp = TOTP(key)
    totp.time = time.time()
    page.locator("main input[name=token]").fill(f"{totp.token():06d}")
    submit_main_form(page)
    assert page.locator("#recovery-codes li").count() == 10
    with page.expect_navigation():
        page.locator("main a.button.primary").click()


def log_out(page):
    with page.expect_navigation():
        page.locator(f"header form[action='{reverse('accounts:logout')}'] button[type=submit]").click()
    assert path_of(page).startswith(reverse("accounts:login"))


def change_one_time_password(page, one_time_password, new_password):
    assert path_of(page) == reverse("accounts:password_change")
    page.locator("main input[name=old_password]").fill(one_time_password)
    page.locator("main input[name=new_password1]").fill(new_password)
    page.locator("main input[name=new_password2]").fill(new_password)
    submit_main_form(page)
    assert path_of(page) != reverse("accounts:password_change"), page.locator("main").inner_text()


def issue_account_from(page, link_selector, username, full_name) -> tuple[str, str]:
    with page.expect_navigation():
        page.locator(link_selector).click()
    page.locator("main input[name=username]").fill(username)
    page.locator("main input[name=full_name]").fill(full_name)
    submit_main_form(page)
    slip_username = page.locator("#slip-username").inner_text().strip()
    slip_password = page.locator("#slip-password").inner_text().strip()
    assert slip_username == username
    assert len(slip_password) >= 12
    return slip_username, slip_password


def test_region_office_issues_a_prefecture_account_which_creates_an_institution_which_sees_only_itself(
    live_server, transactional_db, page
):
    base = live_server.url
    hubei = Region.objects.create(name="湖北考区", division_code="420000")
    root = Office.objects.create(region=hubei, name="湖北考区", kind="region", division_code="420000")
    wuhan = Office.objects.create(region=hubei, parent=root, name="武汉市", kind="prefecture", division_code="420100")
    yichang = Office.objects.create(region=hubei, parent=root, name="宜昌市", kind="prefecture", division_code="420500")
    make_account("hubei", root)

    # 1. The region office logs in, sets up its second factor, opens 武汉市 and issues its office account.
    log_in(page, base, "hubei", PASSWORD)
    set_up_two_factor(page)
    assert path_of(page) == root.get_absolute_url()
    with page.expect_navigation():
        page.locator("main").get_by_role("link", name="武汉市", exact=True).click()
    assert path_of(page) == wuhan.get_absolute_url()
    assert page.locator("main h1").inner_text().strip() == "武汉市"
    wuhan_username, wuhan_otp = issue_account_from(
        page, f"main a[href='{reverse('accounts:issue_office', args=[wuhan.public_id])}']", "wuhan_office", "李四"
    )
    log_out(page)

    wuhan_account = User.objects.get(username=wuhan_username)
    assert wuhan_account.office == wuhan
    assert wuhan_account.must_change_password
    assert wuhan_account.issued_by.username == "hubei"

    # 2. 武汉市 logs in with the one-time password, is forced to change it, creates an institution and issues
    #    its master account.
    log_in(page, base, wuhan_username, wuhan_otp)
    assert path_of(page) == reverse("accounts:password_change")
    page.goto(base + reverse("institutions:office_list"))
    assert path_of(page) == reverse("accounts:password_change"), "the one-time password must be changed first"
    change_one_time_password(page, wuhan_otp, WUHAN_PASSWORD)
    assert path_of(page) == wuhan.get_absolute_url()
    wuhan_account.refresh_from_db()
    assert not wuhan_account.must_change_password

    with page.expect_navigation():
        page.locator(f"main a[href='{reverse('institutions:institution_create', args=[wuhan.public_id])}']").click()
    page.locator("main input[name=name]").fill(HOSPITAL)
    assert page.locator("main select[name=office]").input_value() == str(wuhan.pk)
    submit_main_form(page)
    institution = Institution.objects.get(name=HOSPITAL)
    assert institution.office == wuhan
    assert path_of(page) == institution.get_absolute_url()

    master_username, master_otp = issue_account_from(
        page,
        f"main a[href='{reverse('accounts:issue_institution', args=[institution.public_id])}']",
        "wsdyy",
        "王五",
    )
    log_out(page)
    master = User.objects.get(username=master_username)
    assert master.is_master and master.institution == institution

    # 3. The institution logs in, changes its one-time password and sees only itself.
    log_in(page, base, master_username, master_otp)
    change_one_time_password(page, master_otp, HOSPITAL_PASSWORD)
    assert path_of(page) == institution.get_absolute_url()
    assert page.locator("main h1").inner_text().strip() == HOSPITAL
    assert page.locator(f"a[href='{reverse('institutions:office_list')}']").count() == 0
    assert page.locator(f"a[href='{wuhan.get_absolute_url()}']").count() == 0

    response = page.goto(base + reverse("institutions:office_list"))
    assert response.status == 200
    assert page.locator("main table.list tbody a").count() == 0, "an institution must not see any office"
    response = page.goto(base + reverse("institutions:institution_list"))
    assert response.status == 200
    listed = page.locator("main table.list tbody a").all_inner_texts()
    assert listed == [HOSPITAL]
    for other in (wuhan, yichang, root):
        assert page.goto(base + other.get_absolute_url()).status == 404

    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.ACCOUNT_ISSUE).count() == 2
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.PASSWORD_CHANGE).count() == 2
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.INSTITUTION_CREATE, actor=wuhan_account).count() == 1
