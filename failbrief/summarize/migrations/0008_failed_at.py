"""`failed_at`: when the failure happened, which the pages list, order and date-filter by.

The column's database default (now()) costs no table rewrite on PostgreSQL (a stable default is
stored once, not written into every row) and covers rows an older process inserts during the
upgrade; 0009 fills the rows already stored with their real time."""

from __future__ import annotations

import django.db.models.functions.datetime
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("summarize", "0007_unit_ended_at")]

    operations = [
        migrations.AddField(
            model_name="llmsession",
            name="failed_at",
            field=models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
        ),
    ]
