"""The record list's two date orders from indexes over every record, withdrawn ones included.

The partial (active-only) indexes of migrations 0005 and 0007 could not serve the list with "include withdrawn"
ticked: a region office's list then sorted every record of its region (61 ms at province scale; 0.3 ms with this
index). Withdrawn records are about 1% of all, so the active list walks these indexes as fast as the partial ones,
which go (PostgreSQL already preferred the new ones when both were there).

Built CONCURRENTLY, each new index before the old one is dropped, so the list never goes without one.
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("trainees", "0007_search_and_sort_indexes"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="probationrecord", index=models.Index(fields=["-created_at", "id"], name="record_new_idx")
        ),
        RemoveIndexConcurrently(model_name="probationrecord", name="record_active_new_idx"),
        AddIndexConcurrently(
            model_name="probationrecord", index=models.Index(fields=["start_date", "id"], name="record_start_idx")
        ),
        RemoveIndexConcurrently(model_name="probationrecord", name="record_active_start_idx"),
    ]
