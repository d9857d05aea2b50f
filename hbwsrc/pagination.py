"""Paging for lists that can hold a whole region's rows (records, audit events, data changes)."""

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.utils.functional import cached_property

PAST_CAP_SECONDS = 60


class CappedPaginator(Paginator):
    """A paginator that counts at most ``cap`` rows (default: settings.LIST_COUNT_CAP), and only when the page asked
    for does not tell how many there are.

    An exact COUNT(*) over a region office's 200,000 records reads all of them on every page view; counting
    ``SELECT ... LIMIT cap + 1`` stops early. Past the cap the list tells the user to narrow it with the filters
    (or to export it: exports are not capped).

    ``get_page`` reads its page first, one row past its end: a page that ends the list (a search's only page, the
    last page of any list) gives the count, the rows before it and on it, and no count query is run. Otherwise the
    count runs when the page's template asks for it, as with Django's paginator.

    A list found past the cap is remembered as such for PAST_CAP_SECONDS under ``past_cap_key`` (which names the
    list: its account and filters), so that paging through it, or coming back to it, does not count those rows
    again (a region office's unfiltered list: its largest read, 1.4 ms of PostgreSQL's execution). Past the cap the list
    shows no number that could go stale; a count under the cap is never kept.
    """

    def __init__(self, object_list, per_page, *, cap: int | None = None, past_cap_key: str | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap or settings.LIST_COUNT_CAP
        self.past_cap_key = past_cap_key

    @cached_property
    def _bounded_count(self) -> int:
        if self.past_cap_key and cache.get(self.past_cap_key):
            return self.cap + 1
        count = self.object_list.order_by()[: self.cap + 1].count()  # the order does not change the count
        if count > self.cap and self.past_cap_key:
            cache.set(self.past_cap_key, True, PAST_CAP_SECONDS)
        return count

    @cached_property
    def count(self) -> int:
        return min(self._bounded_count, self.cap)

    @property
    def capped(self) -> bool:
        """More rows match than were counted."""
        return self._bounded_count > self.cap

    def get_page(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError):
            number = 1
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if number < 1 or top > self.cap or self.orphans:
            return super().get_page(number)  # Django's answers (the first or the last page), and pages at the cap
        rows = list(self.object_list[bottom : top + 1])
        if len(rows) > self.per_page:  # more follow: the page exists, the count is read if asked for
            return self._get_page(rows[: self.per_page], number, self)
        if rows or (number == 1 and self.allow_empty_first_page):
            self.__dict__["_bounded_count"] = bottom + len(rows)
            return self._get_page(rows, number, self)
        return super().get_page(number)  # past the end: counted, then the last page


def rows_as_values(page, *columns, **annotations):
    """``page`` with its rows read as dicts of ``columns`` (and ``annotations``), no model instance made: the list is
    counted, by the paginator, without the joins and annotations its rows need."""
    page.object_list = page.object_list.values(*columns, **annotations)
    return page
