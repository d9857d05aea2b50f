"""Indexes for the record list at province and nation scale (bench/EXPLAIN.md).

- record_active_inst_new_idx: an office's active records, newest first, counted and paged by index-only scans;
- person_name_trgm_idx, person_id_number_trgm_idx: trigram indexes for the list's search on any part of a name or
  an ID number (pg_trgm, a trusted extension: the database owner may create it).
"""

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("trainees", "0003_import_job")]

    operations = [
        TrigramExtension(),
        migrations.AddIndex(
            model_name="probationrecord",
            index=models.Index(
                condition=models.Q(("withdrawn_at__isnull", True)),
                fields=["institution", "-created_at", "id"],
                name="record_active_inst_new_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="person",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper("name"), name="gin_trgm_ops"
                ),
                name="person_name_trgm_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="person",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["id_number"], name="person_id_number_trgm_idx", opclasses=["gin_trgm_ops"]
            ),
        ),
    ]
