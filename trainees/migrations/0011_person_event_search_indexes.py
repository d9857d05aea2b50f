"""The audit trail's search of persons' history (reports.audit_trail) by part of a name or a whole ID number, from
indexes on the history table: it read every person event (1,000,582 at nation scale, 105 ms a search).

Built CONCURRENTLY: history is written while the platform runs."""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

import hbwsrc.search


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("pghistory", "0007_auto_20250421_0444"),
        ("trainees", "0010_region_list_indexes"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="personevent",
            index=django.contrib.postgres.indexes.GinIndex(
                hbwsrc.search.SearchGrams("name"), name="person_event_name_grams_idx"
            ),
        ),
        AddIndexConcurrently(
            model_name="personevent",
            index=models.Index(fields=["id_number"], name="person_event_id_number_idx"),
        ),
    ]
