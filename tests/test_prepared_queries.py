"""Parameters bound by the server and queries prepared per connection (hbwsrc.db, DATABASE_PREPARE_THRESHOLD)."""

import os
import subprocess
import sys

import pghistory
import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from pghistory.models import Events

from accounts import audit
from accounts.models import AuditEvent
from hbwsrc.db import get_or_404, scoped_row_or_404
from hbwsrc.search import text_contains
from institutions.models import Institution
from institutions.scope import scope_for
from institutions.views import _institution_in_scope

from .test_production import ROOT


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_query_a_connection_repeats_is_prepared_once_its_threshold_is_passed(world):
    threshold = settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"]

    def name_of(institution):
        return Institution.objects.filter(pk=institution.pk).values_list("name", flat=True).get()

    def prepared():
        return [s for s in prepared_statements() if s.startswith('SELECT "institutions_institution"."name" AS')]

    for _ in range(threshold):
        assert name_of(world.wuchang_hospital) == "武汉市武昌医院"
    assert prepared() == []
    assert name_of(world.yichang_hospital) == "宜昌市第一人民医院"  # the same statement, another parameter
    [statement] = prepared()
    assert '"institutions_institution"."id" = $1' in statement
    assert name_of(world.wuchang_hospital) == "武汉市武昌医院"
    assert len(prepared()) == 1


def test_a_query_whose_plan_depends_on_a_pattern_is_planned_for_its_values_every_time(world):
    """A generic plan guesses the rows a LIKE pattern or a name's grams keep: a county's search by a two-character
    name took 21 ms with one, 2 ms planned for the name typed."""
    threshold = settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"]
    for text in ["人民", "武昌"] * threshold:
        assert Institution.objects.filter(text_contains("name", text)).exists()
        assert Institution.objects.filter(path__startswith=world.wuhan.path).exists()
    statements = prepared_statements()
    assert not [s for s in statements if "trainees_search_grams" in s or "LIKE" in s], statements


def test_a_row_read_by_its_unique_key_in_a_whole_region_is_prepared_all_the_same(world):
    """get_or_404: a region office's scope is its region, compared as a value, so the read by the unique key is
    prepared and planned once; its pages on an office or an institution would otherwise plan it on every request."""
    threshold = settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"]
    in_scope = scope_for(world.region_user).institutions()
    for _ in range(threshold + 1):
        assert get_or_404(in_scope, public_id=world.wuchang_hospital.public_id) == world.wuchang_hospital
    [statement] = [s for s in prepared_statements() if '"institutions_institution"."public_id" = $2' in s]
    assert '"institutions_institution"."region_id" = $1' in statement
    assert Institution.objects.filter(path__startswith=world.hubei_office.path).count() == 4  # planned each time
    assert not [s for s in prepared_statements() if "LIKE" in s]


def test_a_county_offices_record_list_prepares_its_count_its_page_of_ids_and_its_rows(spread):
    """A subtree beneath a region office is a range (institutions.models.Subtree): each of the list's reads is
    planned once for the connection, not for the subtree on every request."""
    world = spread.world
    client = world.client_for(world.wuchang_user)
    threshold = settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"]
    for _ in range(threshold + 1):
        # A page past its end has it counted; known under the cap then, its ids come with their count
        # (hbwsrc.pagination).
        for number in (2, 1):
            page = client.get(reverse("trainees:list"), {"page": number})
            assert page.status_code == 200 and len(page.context["page"].object_list) == 3

    statements = [
        s for s in prepared_statements() if s.startswith(("SELECT", "WITH")) and '"trainees_probationrecord"' in s
    ]
    assert not [s for s in statements if "LIKE" in s]
    ranged = [s for s in statements if '"institutions_institution"."path" ~>=~ $1' in s]
    assert sum(s.startswith("SELECT COUNT(*)") for s in ranged) == 1
    assert sum("COUNT(*) OVER ()" in s and s.endswith("LIMIT $3 OFFSET $4") for s in ranged) == 1
    # The page's rows are read by the ids the scoped list gave, as one array: no range, so the prepared plan serves
    # any subtree and any number of ids.
    [rows] = [s for s in statements if '"trainees_probationrecord"."id" = ANY($1::bigint[])' in s]
    assert rows not in ranged and "$2" not in rows


def test_a_row_outside_the_subtree_is_not_found_by_the_prepared_read(world):
    from django.http import Http404

    in_scope = scope_for(world.wuchang_user).institutions()
    threshold = settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"]
    for _ in range(threshold + 1):
        get_or_404(in_scope, public_id=world.wuchang_hospital.public_id)
    with pytest.raises(Http404):
        get_or_404(in_scope, public_id=world.yichang_hospital.public_id)


def test_a_row_read_by_its_key_composed_once_per_scope_is_what_the_scope_holds_for_every_account(world):
    """scoped_row_or_404 keeps one composed read per scope seen: each account, in turn and again, finds exactly
    the institutions its scope holds, never one composed for another account's scope."""
    from django.http import Http404

    accounts = [world.region_user, world.wuchang_user, world.yichang_user, world.hunan_user, world.wuhan_user]
    institutions = list(Institution.objects.order_by("pk"))
    for _ in range(2):
        for account in accounts:
            scope = scope_for(account)
            seen = set(scope.institutions())
            for institution in institutions:
                if institution in seen:
                    read = scoped_row_or_404(_institution_in_scope, scope, public_id=institution.public_id)
                    assert (read, read.office) == (institution, institution.office)
                else:
                    with pytest.raises(Http404):
                        scoped_row_or_404(_institution_in_scope, scope, public_id=institution.public_id)
    assert len({scope_for(account).seen() for account in accounts}) == len(accounts)


def test_a_row_read_by_its_key_in_a_whole_region_is_prepared(world):
    threshold = settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"]
    scope = scope_for(world.region_user)
    for _ in range(threshold + 1):
        read = scoped_row_or_404(_institution_in_scope, scope, public_id=world.wuchang_hospital.public_id)
        assert read == world.wuchang_hospital
    [statement] = [s for s in prepared_statements() if '"institutions_institution"."public_id" = $2' in s]
    assert '"institutions_institution"."region_id" = $1' in statement


def test_a_write_with_history_context_keeps_its_context(world):
    """django-pghistory puts its context before the write in one string, which a prepared statement cannot hold:
    the cursor sends it first, on its own."""
    with pghistory.context(user=world.wuchang_user.pk, note="renamed"):
        Institution.objects.filter(pk=world.wuchang_hospital.pk).update(name="武汉市武昌医院（新址）")
    event = Events.objects.filter(pgh_model="institutions.InstitutionEvent").order_by("pgh_id").last()
    assert event.pgh_data["name"] == "武汉市武昌医院（新址）"
    assert event.pgh_context == {"user": world.wuchang_user.pk, "note": "renamed"}


def history_context_set() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('pghistory.context_id', true)")
        return bool(cursor.fetchone()[0])


def test_only_writes_to_tracked_tables_carry_the_history_context(world):
    """The context is local to the transaction (the test's, here): a write to a table without history triggers
    (the audit trail's) is sent alone, one round trip; a tracked table's gets its context."""
    with pghistory.context(user=world.wuchang_user.pk):
        audit.record(AuditEvent.Kind.ELIGIBILITY_LOOKUP, actor=world.wuchang_user, changes={"found": False})
        assert not history_context_set()
        Institution.objects.filter(pk=world.wuchang_hospital.pk).update(contact_person="李四")
        assert history_context_set()


@pytest.mark.django_db(transaction=True)
def test_a_tracked_write_outside_a_transaction_keeps_its_context(world):
    """Outside Django's transactions the context and the write are sent in one transaction of their own: each
    alone, the context would have ended with its own before the write ran."""
    with pghistory.context(user=world.wuchang_user.pk, note="renamed"):
        Institution.objects.filter(pk=world.wuchang_hospital.pk).update(name="武汉市武昌医院（新址）")
    event = Events.objects.filter(pgh_model="institutions.InstitutionEvent").order_by("pgh_id").last()
    assert event.pgh_data["name"] == "武汉市武昌医院（新址）"
    assert event.pgh_context == {"user": world.wuchang_user.pk, "note": "renamed"}
    assert Institution.objects.get(pk=world.wuchang_hospital.pk).name == "武汉市武昌医院（新址）"  # committed


def test_values_can_still_be_quoted_into_sql_text(db):
    with connection.cursor() as cursor:
        assert cursor.cursor.mogrify("SELECT %s", ["O'Neil"]) == "SELECT 'O''Neil'"


def options_with(threshold: str) -> str:
    env = {**os.environ, "DATABASE_PREPARE_THRESHOLD": threshold, "DJANGO_SETTINGS_MODULE": "hbwsrc.settings"}
    code = "from django.conf import settings; o = settings.DATABASES['default']['OPTIONS']; print(sorted(o.items()))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_preparing_can_be_turned_off_for_a_pooler_that_cannot_keep_prepared_statements():
    assert "'prepare_threshold', 2" in options_with("2") and "'server_side_binding', True" in options_with("2")
    assert options_with("off").strip() == "[]"
