"""Institutions found by any part of their name from an index (hbwsrc.search), as trainees' names are since trainees
migration 0007, whose SQL functions this index uses: the record admin's search read all 40,000 institutions' names
at nation scale, and the lists' searches every institution of the office's scope (bench/README.md).

Built CONCURRENTLY: institutions are written while the platform runs."""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations

import hbwsrc.search


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("institutions", "0004_list_order_indexes"),
        ("trainees", "0007_search_and_sort_indexes"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="institution",
            index=django.contrib.postgres.indexes.GinIndex(
                hbwsrc.search.SearchGrams("name"), name="institution_name_grams_idx"
            ),
        ),
    ]
