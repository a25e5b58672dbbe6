from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("summarize", "0003_pages_list_columns"),
    ]

    operations = [
        migrations.AddField(
            model_name="llmsession",
            name="context",
            field=models.TextField(blank=True, default=""),
        ),
    ]
