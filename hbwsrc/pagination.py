"""Paging for lists that can hold a whole region's rows (records, audit events, data changes)."""

from django.conf import settings
from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    """A paginator that counts at most ``cap`` rows (default: settings.LIST_COUNT_CAP).

    An exact COUNT(*) over a region office's 200,000 records reads all of them on every page view; counting
    ``SELECT ... LIMIT cap + 1`` stops early. Past the cap the list tells the user to narrow it with the filters
    (or to export it: exports are not capped).
    """

    def __init__(self, object_list, per_page, *, cap: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap or settings.LIST_COUNT_CAP

    @cached_property
    def _bounded_count(self) -> int:
        return self.object_list.order_by()[: self.cap + 1].count()  # the order does not change the count

    @cached_property
    def count(self) -> int:
        return min(self._bounded_count, self.cap)

    @property
    def capped(self) -> bool:
        """More rows match than were counted."""
        return self._bounded_count > self.cap


def rows_as_values(page, *columns, **annotations):
    """``page`` with its rows read as dicts of ``columns`` (and ``annotations``), no model instance made: the list is
    counted, by the paginator, without the joins and annotations its rows need."""
    page.object_list = page.object_list.values(*columns, **annotations)
    return page
