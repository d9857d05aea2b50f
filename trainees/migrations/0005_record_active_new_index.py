"""The region-wide record list newest first reads this index's first entries instead of sorting the region.

Built CONCURRENTLY: on a live platform the records table takes writes while the index is built."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("trainees", "0004_list_and_search_indexes"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="probationrecord",
            index=models.Index(
                condition=models.Q(("withdrawn_at__isnull", True)),
                fields=["-created_at", "id"],
                name="record_active_new_idx",
            ),
        ),
    ]
