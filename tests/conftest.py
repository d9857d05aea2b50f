import os

import pytest
from django.core.cache import cache

# Playwright's sync API runs an event loop in the test thread; Django must still allow ORM calls there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from accounts.models import User  # noqa: E402
from institutions.scope import VIEW_OFFICE  # noqa: E402
from tests import import_files  # noqa: E402
from tests.record_helpers import make_record  # noqa: E402
from tests.world import PASSWORD, RecordsWorld, World, make_account  # noqa: E402


@pytest.fixture
def world(db) -> World:
    return World.build()


@pytest.fixture
def rworld(world) -> RecordsWorld:
    return RecordsWorld.build(world)


@pytest.fixture
def auditor(world):
    """An auditor of 湖北: a staff account of the region office that may only view it."""
    return make_account("hubei_audit", world.hubei_office, perms=(VIEW_OFFICE,), is_staff=True)


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", password=PASSWORD)


@pytest.fixture
def spread(rworld):
    """Records at four institutions in three subtrees of 湖北 and one in 湖南; persons numbered from 1
    (tests/import_files.py's persons, so an export of them imports back)."""
    world = rworld.world
    places = [
        (world.wuchang_hospital, rworld.year, 3),
        (world.hongshan_centre, rworld.year, 2),
        (world.yichang_hospital, rworld.year, 2),
        (world.provincial_hospital, rworld.year, 1),
        (world.hunan_hospital, rworld.hunan_year, 1),
    ]
    serial = 0
    for institution, year, count in places:
        for _ in range(count):
            serial += 1
            make_record(
                import_files.make_person(serial), institution, year, rworld.clinical, "2024-07-01", "2025-06-30"
            )
    return rworld


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def tasks_run_immediately(settings):
    """Background tasks run at once (on commit) in tests; the demo and production use the database queue."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def empty_cache():
    """Rate-limit counters live in the cache: one test's requests must not count against the next one's."""
    cache.clear()
    yield
    cache.clear()


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for every browser test (Playwright cannot download browsers here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN")
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()
