"""Running on several machines: the read-replica router and where generated files are stored.

The router is tested with a second alias, "replica", on the same test database (what DATABASE_REPLICA_URL's TEST
MIRROR setting gives): the data is committed (transactional tests) so that the second connection sees it, and the
queries each connection ran tell which database served what.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hbwsrc import routers
from reports.models import Roster
from tests.record_helpers import ensure_categories, make_person, make_record
from tests.world import RecordsWorld, World, logged_in

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module", autouse=True)
def replica_alias(django_db_setup):
    """The "replica" alias, pointing at the test database, for this module's tests (added once the test database
    exists, so that it never points at a real one)."""
    connections.settings[routers.REPLICA] = dict(connections["default"].settings_dict)
    yield routers.REPLICA
    connections[routers.REPLICA].close()
    del connections[routers.REPLICA]
    del connections.settings[routers.REPLICA]


BOTH = pytest.mark.django_db(transaction=True, databases=["default", routers.REPLICA])


@pytest.fixture
def committed_world():
    ensure_categories()
    rworld = RecordsWorld.build(World.build())
    record = make_record(
        make_person(1, name="王明"),
        rworld.world.wuchang_hospital,
        rworld.year,
        rworld.clinical,
        "2025-07-01",
        "2026-06-30",
    )
    return rworld, record


def _run(client_call):
    """Run a request; return its response and the SQL each database served."""
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[routers.REPLICA]) as replica,
    ):
        response = client_call()
    return response, [q["sql"] for q in primary.captured_queries], [q["sql"] for q in replica.captured_queries]


def test_without_a_replica_everything_reads_the_primary():
    router = routers.ReplicaRouter()
    replica = connections.settings.pop(routers.REPLICA)
    try:
        assert not routers.replica_configured()
        seen = []
        routers.read_only(lambda: seen.append(router.db_for_read(Roster)))()
        assert seen == ["default"]
        assert router.db_for_write(Roster) == "default"
    finally:
        connections.settings[routers.REPLICA] = replica


@BOTH
def test_read_only_pages_read_the_replica(committed_world):
    rworld, _record = committed_world
    client = logged_in(rworld.world.wuchang_user)
    response, primary, replica_sql = _run(lambda: client.get(reverse("trainees:list")))
    assert response.status_code == 200
    assert "王明" in response.content.decode()
    assert any("trainees_probationrecord" in sql for sql in replica_sql)
    # The primary served only what runs around the view: the session, the account, the session registry.
    assert not any("trainees_probationrecord" in sql for sql in primary)
    assert any("django_session" in sql for sql in primary)


@BOTH
@pytest.mark.parametrize("name", ["institutions:office_list", "institutions:institution_list", "reports:filing_list"])
def test_other_marked_lists_read_the_replica(committed_world, name):
    rworld, _record = committed_world
    client = logged_in(rworld.world.wuhan_user)
    response, primary, replica_sql = _run(lambda: client.get(reverse(name)))
    assert response.status_code == 200
    assert replica_sql
    # The primary loads the account with its own office or institution (the layout names it); every list query
    # goes to the replica.
    listing = [sql for sql in primary if 'FROM "accounts_user"' not in sql]
    assert not any("institutions_institution" in sql.split(" WHERE ")[0] for sql in listing)
    assert any("institutions_institution" in sql for sql in replica_sql)


@BOTH
def test_pages_that_write_use_only_the_primary(committed_world):
    """The record page writes an audit event, the record form saves: neither reads the replica at all."""
    rworld, record = committed_world
    client = logged_in(rworld.world.master)
    response, primary, replica_sql = _run(lambda: client.get(record.get_absolute_url()))
    assert response.status_code == 200
    assert replica_sql == []
    data = rworld.record_data(id_number=record.person.id_number, name="王明", start_date="2026-07-01")
    data.update(end_date="", result="in_progress", assessed_on="", assessor="")
    response, primary, replica_sql = _run(lambda: client.post(reverse("trainees:create"), data))
    assert response.status_code in (200, 302)
    assert replica_sql == []


def test_writes_inside_a_read_only_view_still_go_to_the_primary():
    router = routers.ReplicaRouter()
    decisions = []

    @routers.read_only
    def view():
        decisions.append((router.db_for_read(Roster), router.db_for_write(Roster)))

    view()
    assert decisions == [("replica", "default")]
    assert router.db_for_read(Roster) == "default"  # after the view: the primary again
    assert router.allow_migrate("replica", "reports") is False


# --- where files are stored ---------------------------------------------------------------------------------------


def test_files_are_stored_on_local_disk_by_default(settings, tmp_path):
    assert settings.STORAGES["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert Roster._meta.get_field("pdf").storage is default_storage
    name = default_storage.save("rosters/pdf/2027/roster.pdf", ContentFile(b"%PDF-1.7 test\n%%EOF"))
    assert isinstance(default_storage._wrapped, FileSystemStorage)
    assert (Path(settings.MEDIA_ROOT) / name).read_bytes() == b"%PDF-1.7 test\n%%EOF"
    with default_storage.open(name, "rb") as handle:
        assert handle.read().startswith(b"%PDF")


def _settings_with(**env) -> subprocess.CompletedProcess:
    code = "import django, json; django.setup(); from django.conf import settings; print(json.dumps(settings.STORAGES))"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIA_STORAGE", "AWS_"))}
    environment.update(DJANGO_SETTINGS_MODULE="hbwsrc.settings", **env)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True)


def test_s3_compatible_storage_is_configured_from_the_environment():
    """Configuration only: no object store runs here (the local backend is the one exercised above)."""
    completed = _settings_with(
        MEDIA_STORAGE="s3", AWS_STORAGE_BUCKET_NAME="hbwsrc-media", AWS_S3_ENDPOINT_URL="http://minio.internal:9000"
    )
    assert completed.returncode == 0, completed.stderr
    storage = json.loads(completed.stdout.strip().splitlines()[-1])["default"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["bucket_name"] == "hbwsrc-media"
    assert storage["OPTIONS"]["endpoint_url"] == "http://minio.internal:9000"
    assert storage["OPTIONS"]["default_acl"] is None


@pytest.mark.parametrize("env", [{"MEDIA_STORAGE": "s3"}, {"MEDIA_STORAGE": "ftp"}])
def test_a_wrong_storage_setting_stops_the_start(env):
    completed = _settings_with(**env)
    assert completed.returncode != 0
    assert "ImproperlyConfigured" in completed.stderr
    assert settings.STORAGES["default"]["BACKEND"].endswith("FileSystemStorage")
