"""The record list's name search and its sorts by name and by start date, from indexes (bench/EXPLAIN.md).

- Names are indexed by their characters and character pairs (``trainees_search_grams``, a GIN index) and searched
  by the typed text's pairs, or its one character (``trainees_search_keys``), instead of by trigrams: a search for
  a two-character name (most Chinese names) has no trigram, and a region office's search for one read all 170,000
  persons of a province twice (count and page: 87 ms; 0.9 ms with this index). The trigram index on names goes;
  the one on ID numbers stays (the search matches ID numbers from three characters on).
- Sorting a region's records by name walked every record's person and sorted them (108 ms at province scale); with
  an index on the name the first page reads about 50 persons in order (1.7 ms). By start date likewise (123 ms to
  0.6 ms), from a partial index beside record_active_new_idx.

Indexes are built CONCURRENTLY, the new name index before the old one is dropped, so searches never go without one.
"""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models

import hbwsrc.search

# A loop in PL/pgSQL: six times faster than the same in SQL with generate_series and array_agg (1.2 s against
# 7.4 s for a million names), which the index build and every insert of a person pay. Repeated grams are harmless:
# GIN keeps each key once per row, and @> ignores repeats.
SEARCH_GRAMS = """
CREATE FUNCTION trainees_search_grams(value text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    upper_value text := upper(value);
    characters int := char_length(upper_value);
    grams text[] := '{}';
BEGIN
    FOR i IN 1..characters LOOP
        grams := grams || substr(upper_value, i, 1);
        IF i < characters THEN
            grams := grams || substr(upper_value, i, 2);
        END IF;
    END LOOP;
    RETURN grams;
END
$$
"""

# The grams of the text's longest kind: its pairs, or its one character. PL/pgSQL, as the planner never inlines it:
# called on a constant it is evaluated while planning, so the planner estimates the search from the keys themselves
# (an inlined SQL function would leave it a subquery run later, and the estimate a default).
SEARCH_KEYS = """
CREATE FUNCTION trainees_search_keys(value text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN ARRAY(
        SELECT gram FROM unnest(trainees_search_grams(value)) AS gram
        WHERE char_length(gram) = least(2, char_length(value))
    );
END
$$
"""


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("trainees", "0006_record_active_by_inst_index"),
    ]

    operations = [
        migrations.RunSQL(SEARCH_GRAMS, "DROP FUNCTION trainees_search_grams(text)"),
        migrations.RunSQL(SEARCH_KEYS, "DROP FUNCTION trainees_search_keys(text)"),
        AddIndexConcurrently(
            model_name="person",
            index=django.contrib.postgres.indexes.GinIndex(
                hbwsrc.search.SearchGrams("name"), name="person_name_grams_idx"
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
