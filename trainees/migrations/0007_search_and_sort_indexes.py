"""The record list's name search and its sorts by name and by start date, from indexes (bench/EXPLAIN.md).

- Names are searched by their characters and character pairs (``trainees_search_grams``, a GIN index) instead of
  trigrams: a search for a two-character name (most Chinese names) has no trigram, and a region office's search for
  one read all 170,000 persons of a province twice (count and page: 87 ms; 0.9 ms with this index). The trigram
  index on names goes; the one on ID numbers stays (the search matches ID numbers from three characters on).
- Sorting a region's records by name walked every record's person and sorted them (108 ms at province scale); with
  an index on the name the first page reads about 50 persons in order (1.7 ms). By start date likewise (123 ms to
  0.6 ms), from a partial index beside record_active_new_idx.

Indexes are built CONCURRENTLY, the new name index before the old one is dropped, so searches never go without one.
"""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models

import trainees.models

SEARCH_GRAMS = """
CREATE FUNCTION trainees_search_grams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT substr(upper_value, start, length)), '{}')
    FROM (SELECT upper(value) AS upper_value) AS upper_cased
    CROSS JOIN generate_series(1, 2) AS length
    CROSS JOIN LATERAL generate_series(1, char_length(upper_value) - length + 1) AS start
$$
"""


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("trainees", "0006_record_active_by_inst_index"),
    ]

    operations = [
        migrations.RunSQL(SEARCH_GRAMS, "DROP FUNCTION trainees_search_grams(text)"),
        AddIndexConcurrently(
            model_name="person",
            index=django.contrib.postgres.indexes.GinIndex(
                trainees.models.SearchGrams("name"), name="person_name_grams_idx"
            ),
        ),
        RemoveIndexConcurrently(model_name="person", name="person_name_trgm_idx"),
        AddIndexConcurrently(model_name="person", index=models.Index(fields=["name"], name="person_name_idx")),
        AddIndexConcurrently(
            model_name="probationrecord",
            index=models.Index(
                condition=models.Q(("withdrawn_at__isnull", True)),
                fields=["start_date", "id"],
                name="record_active_start_idx",
            ),
        ),
    ]
