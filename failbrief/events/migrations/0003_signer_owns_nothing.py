from typing import Any

import django.db.models.deletion
from django.db import migrations, models


def fill_signer(apps: Any, schema_editor: Any) -> None:
    event = apps.get_model("events", "FailureEvent")
    for org_id in event.objects.exclude(signed_by=None).values_list("signed_by", flat=True).distinct():
        event.objects.filter(signed_by=org_id).update(signer=f"org-{org_id}")


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0002_reconciler_watermark"),
        ("orgs", "0002_llm_and_airbyte_settings"),
    ]

    operations = [
        migrations.RenameField(model_name="failureevent", old_name="org", new_name="signed_by"),
        migrations.AlterField(
            model_name="failureevent",
            name="signed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="signed_events",
                to="orgs.org",
            ),
        ),
        migrations.AddField(
            model_name="failureevent",
            name="signer",
            field=models.CharField(default="global", max_length=40),
        ),
        migrations.RunPython(fill_signer, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="failureevent",
            name="prefect_event_id",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name="failureevent",
            name="dedup_key",
            field=models.CharField(max_length=200),
        ),
        migrations.AddConstraint(
            model_name="failureevent",
            constraint=models.UniqueConstraint(fields=("signer", "dedup_key"), name="event_once_per_signer"),
        ),
        migrations.AddConstraint(
            model_name="failureevent",
            constraint=models.UniqueConstraint(
                fields=("signer", "prefect_event_id"), name="prefect_event_once_per_signer"
            ),
        ),
    ]
