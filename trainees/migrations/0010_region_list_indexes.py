"""The record list's two date orders within a region (the region copied onto records by migration 0009), in place
of the same orders over the whole table (0008), and its count for a region office.

Built CONCURRENTLY, each new index before the old one is dropped, so the list never goes without one.
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("trainees", "0009_record_region"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="probationrecord",
            index=models.Index(fields=["region", "-created_at", "id"], name="record_region_new_idx"),
        ),
        RemoveIndexConcurrently(model_name="probationrecord", name="record_new_idx"),
        AddIndexConcurrently(
            model_name="probationrecord",
            index=models.Index(fields=["region", "start_date", "id"], name="record_region_start_idx"),
        ),
        RemoveIndexConcurrently(model_name="probationrecord", name="record_start_idx"),
        AddIndexConcurrently(
            model_name="probationrecord",
            index=models.Index(
                fields=["region"], condition=models.Q(withdrawn_at__isnull=True), name="record_active_region_idx"
            ),
        ),
    ]
