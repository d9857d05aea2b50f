"""Paging for lists that can hold a whole region's rows (records, audit events, data changes)."""

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

SIZE_SECONDS = 60
PAST_CAP, UNDER_CAP = "past", "under"


class CappedPaginator(Paginator):
    """A paginator that counts at most ``cap`` rows (default: settings.LIST_COUNT_CAP), and only when the page asked
    for does not tell how many there are.

    An exact COUNT(*) over a region office's 200,000 records reads all of them on every page view; counting
    ``SELECT ... LIMIT cap + 1`` stops early. Past the cap the list tells the user to narrow it with the filters
    (or to export it: exports are not capped).

    ``get_page`` reads its page first, one row past its end: a page that ends the list (a search's only page, the
    last page of any list) gives the count, the rows before it and on it, and no count query is run. Otherwise the
    count runs when the page's template asks for it, as with Django's paginator.

    A list named by ``size_key`` (its account and filters) is remembered for SIZE_SECONDS as past the cap or under
    it; never its count, which could go stale. Past the cap, paging through the list or coming back to it does not
    count its rows again (a region office's unfiltered list: its largest read, 1.4 ms of PostgreSQL's execution).
    Under it, where ``counted_list`` (``CountedRows``) gives the same rows each paired with the number of all of them,
    the page and its count are read in one query instead of two. A list not known yet, or grown past the cap
    meanwhile, is counted apart, as the cap bounds that count and ``CountedRows`` reads every row.
    """

    def __init__(
        self, object_list, per_page, *, cap: int | None = None, size_key: str | None = None, counted_list=None, **kwargs
    ):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap or settings.LIST_COUNT_CAP
        self.size_key = size_key
        self.counted_list = counted_list

    @cached_property
    def _size(self) -> str | None:
        """PAST_CAP or UNDER_CAP as last found, or None."""
        return cache.get(self.size_key) if self.size_key else None

    def _remember(self, count: int) -> None:
        if self.size_key:
            cache.set(self.size_key, PAST_CAP if count > self.cap else UNDER_CAP, SIZE_SECONDS)

    @cached_property
    def _bounded_count(self) -> int:
        if self._size == PAST_CAP:
            return self.cap + 1
        count = self.object_list.order_by()[: self.cap + 1].count()  # the order does not change the count
        self._remember(count)
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
        rows = self._rows(bottom, top + 1)
        if len(rows) > self.per_page:  # more follow: the page exists, the count is read if asked for
            return self._get_page(rows[: self.per_page], number, self)
        if rows or (number == 1 and self.allow_empty_first_page):
            self.__dict__["_bounded_count"] = bottom + len(rows)
            return self._get_page(rows, number, self)
        return super().get_page(number)  # past the end: counted, then the last page

    def _rows(self, start: int, stop: int) -> list:
        if self.counted_list is None or self._size != UNDER_CAP:
            return list(self.object_list[start:stop])
        counted = list(self.counted_list[start:stop])
        if counted:
            total = counted[0][1]
            self.__dict__["_bounded_count"] = min(total, self.cap + 1)
            if total > self.cap:
                self._remember(total)
        return [row for row, _total in counted]


class CountedRows:
    """The values of a one-column ``values_list`` queryset, ordered by fields (of its own table or of a related row),
    each paired with the number of all its rows: a slice is one query,

        WITH listed AS MATERIALIZED (the rows, unordered) SELECT value, COUNT(*) OVER () FROM listed ORDER BY ...

    Materialized, the rows are read as a count reads them (the plan best for reading them all), then sorted in
    memory. Asked for the count beside the page in one plain query, PostgreSQL may keep the page's plan, a walk of
    an index in the list's order that stops at the page's end, and walk to the end of the index instead (a region
    office's list filtered by year, result and sub-office: 109 ms instead of 2.1 for the count and 7.4 for the page,
    bench/README.md stop 26). A list ordered through a relation (by the trainee's name) has every row joined to it,
    as its page alone has: the order needs every row's name. ``of`` gives None for a list in no order.
    """

    def __init__(self, queryset, columns: list[str], order: str):
        self.queryset = queryset
        self.columns = columns
        self.order = order

    @classmethod
    def of(cls, queryset) -> "CountedRows | None":
        (listed,) = queryset.query.values_select
        columns, order = [listed], []
        for name in queryset.query.order_by:
            if not isinstance(name, str):
                return None
            column = name.lstrip("-")
            if column not in columns:
                columns.append(column)
            order.append(f"c{columns.index(column)} {'DESC' if name.startswith('-') else 'ASC'}")
        if not order:
            return None
        return cls(queryset, columns, ", ".join(order))

    def __getitem__(self, rows: slice) -> list[tuple]:
        inner = self.queryset.order_by().values_list(*self.columns).query
        connection = connections[self.queryset.db]
        sql, params = inner.get_compiler(connection=connection).as_sql()
        names = ", ".join(f"c{index}" for index in range(len(self.columns)))
        with connection.cursor() as cursor:
            # Only the listed value and the count come back: the order's columns (a timestamp) would be converted
            # for nothing.
            cursor.execute(
                f"WITH listed ({names}) AS MATERIALIZED ({sql}) SELECT c0, COUNT(*) OVER () FROM listed "
                f"ORDER BY {self.order} LIMIT %s OFFSET %s",
                (*params, rows.stop - rows.start, rows.start),
            )
            return cursor.fetchall()


def rows_as_values(page, *columns, **annotations):
    """``page`` with its rows read as dicts of ``columns`` (and ``annotations``), no model instance made: the list is
    counted, by the paginator, without the joins and annotations its rows need."""
    page.object_list = page.object_list.values(*columns, **annotations)
    return page
