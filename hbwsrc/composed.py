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

Each parameter is declared with its type. An ``int``, a ``str`` or a ``UUID`` is stood in for by a value no real
query holds (a negative number below any id, a string with control characters, a UUID of no version), which
passes through the field's preparation unchanged and is then found among the composed parameters; a ``list`` is
compared with ``hbwsrc.db.AnyOf`` (one array parameter), which keeps the very object given. A parameter the
composed SQL does not hold as given (a lookup that changed it: ``icontains`` adds wildcards, an out-of-range
number makes the condition "never") is refused when the query is first composed. Columns are converted after
reading as the ORM converts them (a JSON column decoded, a count made an int).

A ``values()`` query gives dicts; a query of model instances gives instances as the ORM builds them, with their
``select_related`` rows and annotations (no ``prefetch_related``, no related manager's known objects). A query
that can match nothing (``none()``, an empty ``__in``) gives an empty list without a query.

``Composed`` is for queries whose SQL depends on nothing but these values, since the SQL is kept for good.
``ComposedPer`` is for those whose SQL also depends on something of the call (an account's scope: which subtrees,
which institutions): one ``Composed`` per key that names it, the most recently used kept.
"""

import threading
import uuid
from functools import cached_property, partial

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models.query import ModelIterable, get_related_populators

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
            elif kind is uuid.UUID:
                marker = uuid.UUID(int=number + 1)  # version 0: uuid4() never makes it
            elif kind is list:
                marker = _ListMarker(name)
            else:
                raise TypeError(f"parameter {name!r}: int, str, UUID or list, not {kind!r}")
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


class _Compiled:
    """One query's SQL, where each call's values go in it, and how its rows become results."""

    def __init__(self, queryset, markers: _Markers, parameters, using: str):
        compiler = queryset.query.get_compiler(using)
        self.sql, params = compiler.as_sql()
        self.params = list(params)
        self.slots = [markers.name_of(param) for param in params]
        if missing := set(parameters) - set(self.slots):
            raise ValueError(f"the composed query does not hold parameter(s) {sorted(missing)} as given")
        self.converters = list(compiler.get_converters([column for column, _sql, _alias in compiler.select]).items())
        if queryset._iterable_class is ModelIterable:
            self._model_reader(compiler, using)
        else:
            query = queryset.query
            self.names = [*query.extra_select, *query.values_select, *query.annotation_select]
            self.model = None

    def _model_reader(self, compiler, using: str):
        """What ModelIterable reads of a row, worked out once: the model's columns, its related rows' populators
        and the annotations' positions."""
        klass_info, select = compiler.klass_info, compiler.select
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.model_columns = slice(fields[0], fields[-1] + 1)
        self.names = [column[0].target.attname for column in select[self.model_columns]]
        self.populators = get_related_populators(klass_info, select, using)
        self.annotations = list(compiler.annotation_col_map.items())

    def results(self, rows, using: str) -> list:
        if self.converters:
            rows = list(_converted(rows, self.converters, connections[using]))
        if self.model is None:
            return [dict(zip(self.names, row, strict=True)) for row in rows]
        objects = []
        for row in rows:
            obj = self.model.from_db(using, self.names, row[self.model_columns])
            for populator in self.populators:
                populator.populate(row, obj)
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects


def _converted(rows, converters, connection):
    for row in map(list, rows):
        for position, (functions, expression) in converters:
            for function in functions:
                row[position] = function(row[position], expression, connection)
        yield row


class Composed:
    """A query whose SQL is composed once per process and database (see the module's docstring)."""

    def __init__(self, compose, **parameters: type):
        self.compose = compose  # compose(markers) -> QuerySet, called on the first run
        self.parameters = parameters
        self._compiled = {}

    @cached_property
    def _composed(self):
        markers = _Markers(self.parameters)
        queryset = self.compose(markers)
        if queryset._prefetch_related_lookups or queryset._known_related_objects:
            raise ValueError("Composed reads one query's rows: no prefetch_related, no related manager")
        return queryset, markers

    def _compile(self, using: str) -> _Compiled | None:
        queryset, markers = self._composed
        try:
            return _Compiled(queryset, markers, self.parameters, using)
        except EmptyResultSet:
            return None  # it can match nothing, whatever the values

    def __call__(self, **values) -> list:
        if values.keys() != self.parameters.keys():
            raise TypeError(f"expected the values of {sorted(self.parameters)}, got {sorted(values)}")
        using = self._composed[0].db  # the router's choice on each run (hbwsrc.routers: per view)
        if using not in self._compiled:
            self._compiled[using] = self._compile(using)
        compiled = self._compiled[using]
        if compiled is None:
            return []
        slots = zip(compiled.params, compiled.slots, strict=True)
        bound = [param if slot is None else values[slot] for param, slot in slots]
        with connections[using].cursor() as cursor:
            cursor.execute(compiled.sql, bound)
            rows = cursor.fetchall()
        return compiled.results(rows, using)


class ComposedPer:
    """``Composed`` queries whose SQL also depends on something of the call, named by a key:
    ``read(key, context, **values)`` composes ``compose(context, markers)`` the first time ``key`` is met. The key
    must name everything the SQL depends on besides the values (``institutions.scope.Scope.seen``); the ``size``
    keys most recently used are kept, each about 20 KB for the record page's read (five tables), 9 KB for an
    office's: a key that fell out is composed again, as the ORM composed it on every call before."""

    def __init__(self, compose, size: int = 512, **parameters: type):
        self.compose = compose
        self.size = size
        self.parameters = parameters
        self._by_key = {}  # in the order last used
        self._lock = threading.Lock()

    def __call__(self, key, context, **values) -> list:
        with self._lock:
            composed = self._by_key.pop(key, None)
            if composed is None:
                composed = Composed(partial(self.compose, context), **self.parameters)
            self._by_key[key] = composed
            while len(self._by_key) > self.size:
                del self._by_key[next(iter(self._by_key))]
        return composed(**values)
