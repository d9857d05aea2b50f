"""Searching names by any part of them, from an index (the SQL functions are in trainees migration 0007).

Most Chinese names of persons have two characters, and a searched part of an institution's name often has two as
well: a trigram index has nothing to look up for such a text. Names are indexed instead by their characters and
pairs of adjacent characters (``SearchGrams``, a GIN index over the expression), searched by the typed text's
pairs or its one character (``SearchKeys``), then checked in full (bench/EXPLAIN.md).
"""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.lookups import DataContains
from django.db import models
from django.db.models import Func, Q, Value


class SearchGrams(Func):
    """The characters and pairs of adjacent characters of a text, upper-cased.

    A name contains a searched text only if the name's grams contain the text's keys (``SearchKeys``), and for a
    text of one or two characters the converse holds too.
    """

    function = "trainees_search_grams"
    arity = 1
    output_field = ArrayField(models.TextField())


class SearchKeys(Func):
    """The grams every name containing a searched text has: the text's character pairs, or its one character.

    Not the characters of the pairs as well: PostgreSQL estimates ``@>`` by multiplying its keys' frequencies, and
    a common surname's character would make it expect almost no rows for a common name.
    """

    function = "trainees_search_keys"
    arity = 1
    output_field = ArrayField(models.TextField())


def text_contains(field: str, text: str) -> Q:
    """Rows whose ``field`` contains ``text`` in any case: looked up in the field's grams index (an index over
    ``SearchGrams(field)`` on the field's table), then, for a text of three characters or more, checked with the
    same case-insensitive LIKE as ``icontains``.

    For one or two characters the grams alone decide, and the LIKE is left out: PostgreSQL has no statistics for
    it and would expect it to keep almost none of the rows, planning for one institution where hundreds match.
    """
    keys = SearchKeys(Value(text, output_field=models.TextField()))
    matches = Q(DataContains(SearchGrams(field), keys))
    return matches if len(text) <= 2 else matches & Q(**{f"{field}__icontains": text})
