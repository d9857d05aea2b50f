"""The orders of an office's institution list (by name) and filing list (by office in tree order, then name): a
region office reads the first entries of an index instead of sorting every institution of its region. The region
office's lists at province scale: 4.4 ms -> 0.1 ms and 5.2 ms -> 0.3 ms; the institution list at nation scale
5.2 ms -> 0.7 ms (bench/README.md).

Built CONCURRENTLY: institutions are written while the platform runs."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
from django.db.models.functions import Collate


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("institutions", "0003_path_statistics"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="institution",
            index=models.Index(fields=["name"], name="institution_name_idx"),
        ),
        AddIndexConcurrently(
            model_name="institution",
            index=models.Index(Collate("path", "C"), "name", name="institution_tree_order_idx"),
        ),
    ]
