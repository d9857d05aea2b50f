"""The exam years, categories and offices as options of a select, kept in the cache.

Every record list offers the years and categories in its filters, an office's list its sub-offices too, and the
record form the years and categories in its fields: a query a select (the years and categories a sixth of an
institution's record list in-process, bench/README.md stop 22; the offices a twentieth of a county office's, stop
23), for tables that change a few times a year. What a select shows (id, label, and what picks the rows: region,
current, active, path) is kept in the cache for ``SECONDS`` and dropped whenever a row of the table is saved or
deleted. The cache is shared by every worker where CACHE_URL points at Redis; without it each process keeps its
own, and another process may show a changed list up to ``SECONDS`` late. A record's fields still check a submitted
choice against their queryset, in the database; the record list's filters check theirs against the options offered
(trainees.forms.OfferedChoiceField): a filter only narrows what the account's scope already allows.
"""

from functools import partial

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils.choices import BaseChoiceIterator

from institutions.models import Office
from trainees.models import ExamCategory, ExamYear

CATEGORIES_KEY = "options:exam-categories"
YEARS_KEY = "options:exam-years"
OFFICES_KEY = "options:offices:{region}"  # a region's offices; a whole country's would cost more to unpickle
SECONDS = 300


def _kept(key, read):
    rows = cache.get(key)
    if rows is None:
        rows = read()
        cache.set(key, rows, SECONDS)
    return rows


def category_options(*, active_only: bool = False) -> list[tuple[int, str]]:
    """(id, label) of the exam categories, in code order."""
    rows = _kept(CATEGORIES_KEY, lambda: [(c.pk, str(c), c.is_active) for c in ExamCategory.objects.all()])
    return [(pk, label) for pk, label, active in rows if active or not active_only]


def exam_year_options(region_ids, *, current_only: bool = False) -> list[tuple[int, str]]:
    """(id, label) of the exam years of ``region_ids``, by region and latest first. The label is made here, in the
    request's language; the cache keeps the year."""
    rows = _kept(YEARS_KEY, lambda: list(ExamYear.objects.values_list("pk", "region_id", "year", "is_current")))
    return [
        (pk, ExamYear.label(year))
        for pk, region_id, year, current in rows
        if region_id in region_ids and (current or not current_only)
    ]


def office_rows(scope) -> list[tuple[int, str, str]]:
    """(id, name, path) of the offices ``scope`` sees, in tree order (the paths compared byte by byte, as
    ``Institution.objects.in_tree_order()``)."""
    paths = tuple(scope.office_paths())
    rows = []
    for region_id in {office.region_id for office in scope.offices_granted if office.path in paths}:
        rows += _kept(OFFICES_KEY.format(region=region_id), partial(_region_offices, region_id))
    return [row for row in sorted(rows, key=lambda row: row[2]) if row[2].startswith(paths)]


def _region_offices(region_id) -> list[tuple[int, str, str]]:
    return list(Office.objects.filter(region_id=region_id).values_list("pk", "name", "path"))


class Offered(BaseChoiceIterator):
    """Options that are already (value, label) pairs. Django normalises choices whenever they are set, pair by pair,
    once for the field and again for its widget: some 300 pairs, 0.6 ms of a region office's record list. Choice
    iterators are taken as they are."""

    def __init__(self, pairs):
        self.pairs = pairs

    def __iter__(self):
        return iter(self.pairs)


def offer(field, options):
    """Let a ModelChoiceField render ``options`` instead of reading its queryset for them."""
    field.choices = Offered(([("", field.empty_label)] if field.empty_label is not None else []) + options)


def _forget(sender, instance, **kwargs):
    if sender is Office:
        key = OFFICES_KEY.format(region=instance.region_id)
    else:
        key = CATEGORIES_KEY if sender is ExamCategory else YEARS_KEY
    cache.delete(key)
    # Again once the change is committed: a request between the two may have kept the rows it replaces.
    transaction.on_commit(lambda: cache.delete(key))


for model in (ExamCategory, ExamYear, Office):
    post_save.connect(_forget, sender=model, dispatch_uid=f"options-{model.__name__}-saved")
    post_delete.connect(_forget, sender=model, dispatch_uid=f"options-{model.__name__}-deleted")
