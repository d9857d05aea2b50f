"""Sessions: 30 minutes idle and 12 hours in all at most, the registry keeps only hashes of session keys, a
password change or a disabled account ends the other sessions, and a user sees and ends his own sessions."""

import datetime

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import sessions
from accounts.models import AuditEvent, UserSession
from accounts.session_store import SessionStore
from tests.auth_helpers import client_logged_in
from tests.world import PASSWORD

NEW_PASSWORD = "Lotus-Yellow-Crane-77"
LOGIN = reverse("accounts:login")


def row_of(client) -> UserSession:
    return UserSession.objects.get(key_hash=sessions.key_hash(client.cookies["sessionid"].value))


def is_logged_out(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_a_login_registers_the_session_with_its_address_and_browser_but_only_a_hash_of_its_key(world):
    client = client_logged_in("wcyy", PASSWORD, REMOTE_ADDR="10.8.0.1", HTTP_USER_AGENT="Firefox/140")
    key = client.cookies["sessionid"].value
    row = row_of(client)
    assert row.user == world.master
    assert row.ip_address == "10.8.0.1"
    assert row.user_agent == "Firefox/140"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM accounts_usersession WHERE accounts_usersession::text LIKE %s", [f"%{key}%"]
        )
        assert cursor.fetchone()[0] == 0


def test_a_session_idle_for_more_than_30_minutes_ends(world):
    client = client_logged_in("wcyy", PASSWORD)
    UserSession.objects.update(last_seen=timezone.now() - datetime.timedelta(minutes=31))
    assert is_logged_out(client.get(world.wuchang_hospital.get_absolute_url()))
    assert not UserSession.objects.exists()
    page = client.get(LOGIN).content.decode()
    assert 'class="info"' in page  # "you were logged out after 30 minutes without activity"


def test_activity_keeps_a_session_alive_and_is_recorded_at_most_once_a_minute(world):
    client = client_logged_in("wcyy", PASSWORD)
    UserSession.objects.update(last_seen=timezone.now() - datetime.timedelta(minutes=29))
    assert client.get(world.wuchang_hospital.get_absolute_url()).status_code == 200
    seen = row_of(client).last_seen
    assert timezone.now() - seen < datetime.timedelta(seconds=5)
    client.get(world.wuchang_hospital.get_absolute_url())
    assert row_of(client).last_seen == seen


def test_a_session_ends_12_hours_after_the_login_however_active(world):
    client = client_logged_in("wcyy", PASSWORD)
    UserSession.objects.update(created_at=timezone.now() - datetime.timedelta(hours=12, minutes=1))
    assert is_logged_out(client.get(world.wuchang_hospital.get_absolute_url()))


def test_the_timeouts_are_settings(world, settings):
    settings.SESSION_IDLE_SECONDS = 60
    client = client_logged_in("wcyy", PASSWORD)
    UserSession.objects.update(last_seen=timezone.now() - datetime.timedelta(seconds=90))
    assert is_logged_out(client.get(world.wuchang_hospital.get_absolute_url()))


def test_a_session_unknown_to_the_registry_is_refused(world):
    client = client_logged_in("wcyy", PASSWORD)
    UserSession.objects.all().delete()
    assert is_logged_out(client.get(world.wuchang_hospital.get_absolute_url()))


def test_logging_out_removes_the_registry_row(world):
    client = client_logged_in("wcyy", PASSWORD)
    client.post(reverse("accounts:logout"))
    assert not UserSession.objects.exists()


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(world):
    here = client_logged_in("wcyy", PASSWORD)
    there = client_logged_in("wcyy", PASSWORD)
    response = here.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert here.get(world.wuchang_hospital.get_absolute_url()).status_code == 200
    assert is_logged_out(there.get(world.wuchang_hospital.get_absolute_url()))
    assert UserSession.objects.filter(user=world.master).count() == 1
    assert row_of(here)  # the registry followed the new session key
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.PASSWORD_CHANGE)
    assert event.changes == {"other_sessions_ended": 1}


def test_django_alone_already_refuses_a_session_made_with_the_old_password(world):
    # The session auth hash: even with its registry row in place, the old session is refused.
    there = client_logged_in("wcyy", PASSWORD)
    world.master.set_password(NEW_PASSWORD)
    world.master.save()
    assert is_logged_out(there.get(world.wuchang_hospital.get_absolute_url()))


def test_disabling_an_account_removes_its_sessions_from_the_registry(world):
    client_logged_in("wcyy_staff", PASSWORD)
    client_logged_in("wcyy_staff", PASSWORD)
    assert UserSession.objects.filter(user=world.staff).count() == 2
    world.client_for(world.master).post(reverse("accounts:disable", args=[world.staff.public_id]))
    assert not UserSession.objects.filter(user=world.staff).exists()


def test_my_sessions_lists_my_sessions_only_and_marks_this_one(world):
    here = client_logged_in("wcyy", PASSWORD, HTTP_USER_AGENT="Here/1")
    client_logged_in("wcyy", PASSWORD, HTTP_USER_AGENT="There/2")
    client_logged_in("wcyy_staff", PASSWORD, HTTP_USER_AGENT="Staff/3")
    response = here.get(reverse("accounts:sessions"))
    page = response.content.decode()
    assert "Here/1" in page and "There/2" in page and "Staff/3" not in page
    assert page.count("data-session=") == 2
    assert "no-store" in response["Cache-Control"]


def test_ending_another_of_my_sessions_logs_it_out_and_is_audited(world):
    here = client_logged_in("wcyy", PASSWORD)
    there = client_logged_in("wcyy", PASSWORD)
    other = row_of(there)
    response = here.post(reverse("accounts:session_end", args=[other.public_id]))
    assert response.status_code == 302
    assert is_logged_out(there.get(world.wuchang_hospital.get_absolute_url()))
    assert here.get(world.wuchang_hospital.get_absolute_url()).status_code == 200
    [event] = AuditEvent.objects.filter(kind=AuditEvent.Kind.SESSION_END)
    assert event.actor == world.master
    assert event.changes["session"] == str(other.public_id)


def test_ending_every_other_session(world):
    here = client_logged_in("wcyy", PASSWORD)
    others = [client_logged_in("wcyy", PASSWORD) for _n in range(2)]
    assert here.post(reverse("accounts:sessions_end_others")).status_code == 302
    assert all(is_logged_out(c.get(world.wuchang_hospital.get_absolute_url())) for c in others)
    assert UserSession.objects.filter(user=world.master).count() == 1


def test_this_session_is_not_ended_from_the_list_and_nobody_ends_someone_elses(world):
    here = client_logged_in("wcyy", PASSWORD)
    assert here.post(reverse("accounts:session_end", args=[row_of(here).public_id])).status_code == 403
    staff = client_logged_in("wcyy_staff", PASSWORD)
    response = here.post(reverse("accounts:session_end", args=[row_of(staff).public_id]))
    assert response.status_code == 404
    assert staff.get(world.wuchang_hospital.get_absolute_url()).status_code == 200


def test_ending_a_session_refuses_get(world):
    here = client_logged_in("wcyy", PASSWORD)
    there = client_logged_in("wcyy", PASSWORD)
    assert here.get(reverse("accounts:session_end", args=[row_of(there).public_id])).status_code == 405
    assert there.get(world.wuchang_hospital.get_absolute_url()).status_code == 200


def test_an_anonymous_visitor_gets_no_session_row(world, db):
    Client().get(LOGIN)
    assert not UserSession.objects.exists()


def test_the_session_and_its_registry_row_are_read_in_one_query(world):
    client = client_logged_in("wcyy", PASSWORD)
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("accounts:sessions")).status_code == 200
    reads = [q["sql"] for q in queries.captured_queries if "accounts_usersession" in q["sql"]]
    assert "django_session" in reads[0]  # the middleware's check came with the session
    assert not any("django_session" not in sql and "key_hash" in sql and "LIMIT 1" in sql for sql in reads)


def test_a_registry_row_deleted_after_the_session_was_read_still_ends_the_session(world):
    """The row read with the session is the one of that moment: ending the session elsewhere between two requests
    is seen by the next one."""
    client = client_logged_in("wcyy", PASSWORD)
    assert client.get(reverse("trainees:list")).status_code == 200
    row_of(client).delete()
    assert is_logged_out(client.get(reverse("trainees:list")))


def test_a_new_session_key_is_looked_up_again_not_taken_from_the_earlier_read(world, rf):
    client = client_logged_in("wcyy", PASSWORD)
    store = SessionStore(client.cookies["sessionid"].value)
    store.load()
    key, row = store.registry_read
    assert key == store.session_key and row.user_id == world.master.pk
    request = rf.get("/")
    request.session = store
    store.cycle_key()  # e.g. the second factor: the registry follows the key with sessions.rekey
    sessions.rekey(key, store.session_key)
    assert sessions.current(request).pk == row.pk
