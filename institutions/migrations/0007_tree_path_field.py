"""Paths matched by subtree with their own lookup (institutions.models.Subtree); nothing changes in the tables."""

import institutions.models
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('institutions', '0006_id_region_key'),
    ]

    operations = [
        migrations.AlterField(
            model_name='institution',
            name='path',
            field=institutions.models.TreePathField(editable=False, max_length=255),
        ),
        migrations.AlterField(
            model_name='institutionevent',
            name='path',
            field=institutions.models.TreePathField(editable=False, max_length=255),
        ),
        migrations.AlterField(
            model_name='office',
            name='path',
            field=institutions.models.TreePathField(editable=False, max_length=255),
        ),
    ]
