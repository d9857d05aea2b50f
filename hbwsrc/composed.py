"""Queries of a fixed shape: the ORM composes their SQL once per process, later calls only bind their values.

Composing a query can cost the ORM more than PostgreSQL takes to run it: the eligibility lookup's read of a
person's records (five tables, the "on a filed roster" subquery) took 1.6 ms of Python to compose, on every
request, for a read PostgreSQL answers from two indexes (bench/README.md, stops 27 and 28). Where a query has the
same tables, columns and conditions on every request and only the values compared differ, ``Composed`` has the
ORM compose it once per process and database, each value stood in for by a marker, and then runs that SQL with
the values of each call::

    names_of = Composed(
        lambda p: Person.objects.filter(id_type=p.id_type, id_number=p.number).values("name"),
        id_type=str, number=str,
    )
    names_of(id_type="resident", number="420106199001011234")  # [{"name": "张三"}]

Each parameter is declared with its type. An ``int`` or a ``str`` is stood in for by a value no real query holds
(a negative number below any id, a string with control characters), which passes through the field's preparation
unchanged and is then found among the composed parameters; a ``list`` is compared with ``hbwsrc.db.AnyOf`` (one
array parameter), which keeps the very object given. A parameter the composed SQL does not hold as given (a lookup
that changed it: ``icontains`` adds wildcards, an out-of-range number makes the condition "never") is refused when
the query is first composed. Columns are converted after reading as the ORM converts them (a JSON column decoded,
a count made an int). Only for queries whose SQL depends on nothing but these values: not on the account (a scope's
shape), the time or a setting, since the SQL is kept for good.

A ``values()`` query gives dicts; a query of model instances gives instances of the model's own columns (no
``select_related``, annotations or deferred fields).
"""

from functools import cached_property

from django.db import connections
from django.db.models.query import ModelIterable

_INT_MARKERS = -2_000_000_000  # within a 32-bit integer column's range; ids are never negative
_STR_TAG = "\x1ecomposed:"


class _ListMarker:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self):
        return f"<values of {self.name}>"


class _Markers:
    """What the function composing the query is given: ``p.name`` is the marker of parameter ``name``."""

    def __init__(self, parameters: dict[str, type]):
        self._by_name = {}
        for number, (name, kind) in enumerate(parameters.items()):
            if kind is int:
                marker = _INT_MARKERS - number
            elif kind is str:
                marker = f"{_STR_TAG}{name}\x1e"
            elif kind is list:
                marker = _ListMarker(name)
            else:
                raise TypeError(f"parameter {name!r}: int, str or list, not {kind!r}")
            self._by_name[name] = marker

    def __getattr__(self, name):
        try:
            return self.__dict__["_by_name"][name]
        except KeyError:
            raise AttributeError(f"no parameter {name!r} was declared") from None

    def name_of(self, param) -> str | None:
        """The parameter that ``param`` (one of the composed SQL's) stands for, if any."""
        for name, marker in self._by_name.items():
            if param is marker or (type(param) is type(marker) is not _ListMarker and param == marker):
                return name
        if isinstance(param, str) and _STR_TAG in param:
            raise ValueError(f"a lookup changed a parameter's marker to {param!r}: it cannot be bound as given")
        return None


class Composed:
    """A query whose SQL is composed once per process and database (see the module's docstring)."""

    def __init__(self, compose, **parameters: type):
        self.compose = compose  # compose(markers) -> QuerySet, called on the first run
        self.parameters = parameters
        self._compiled = {}

    @cached_property
    def _composed(self):
        markers = _Markers(self.parameters)
        return self.compose(markers), markers

    def _compile(self, using: str):
        queryset, markers = self._composed
        query, model = queryset.query, None
        if queryset._iterable_class is ModelIterable:
            if query.select_related or query.annotations or query.deferred_loading != (frozenset(), True):
                raise ValueError("Composed reads a model's own columns: no select_related, annotations or deferral")
            model = queryset.model
            names = [field.attname for field in model._meta.concrete_fields]
            query = queryset.values_list(*names).query
        else:
            names = [*query.extra_select, *query.values_select, *query.annotation_select]
        compiler = query.get_compiler(using)
        sql, params = compiler.as_sql()
        converters = compiler.get_converters([column for column, _sql, _alias in compiler.select])
        slots = [markers.name_of(param) for param in params]
        if missing := set(self.parameters) - set(slots):
            raise ValueError(f"the composed query does not hold parameter(s) {sorted(missing)} as given")
        return sql, list(params), slots, names, model, list(converters.items())

    def __call__(self, **values) -> list:
        if values.keys() != self.parameters.keys():
            raise TypeError(f"expected the values of {sorted(self.parameters)}, got {sorted(values)}")
        using = self._composed[0].db  # the router's choice on each run (hbwsrc.routers: per view)
        if using not in self._compiled:
            self._compiled[using] = self._compile(using)
        sql, params, slots, names, model, converters = self._compiled[using]
        bound = [param if slot is None else values[slot] for param, slot in zip(params, slots, strict=True)]
        with connections[using].cursor() as cursor:
            cursor.execute(sql, bound)
            rows = cursor.fetchall()
        if converters:
            rows = list(_converted(rows, converters, connections[using]))
        if model is not None:
            return [model.from_db(using, names, row) for row in rows]
        return [dict(zip(names, row, strict=True)) for row in rows]


def _converted(rows, converters, connection):
    for row in map(list, rows):
        for position, (functions, expression) in converters:
            for function in functions:
                row[position] = function(row[position], expression, connection)
        yield row
