"""Finer statistics on institution paths: an office's subtree is a prefix of this column, and the planner's estimate
of how many institutions (and so records) lie beneath an office decides between plans (bench/EXPLAIN.md). With the
default 100 histogram buckets, one bucket held a whole prefecture of a nation-scale database."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("institutions", "0002_institutionevent_institution_address_and_more")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE institutions_institution ALTER COLUMN path SET STATISTICS 1000",
            "ALTER TABLE institutions_institution ALTER COLUMN path SET STATISTICS -1",
        )
    ]
