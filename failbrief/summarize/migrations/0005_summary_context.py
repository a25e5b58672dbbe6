from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("summarize", "0004_pages_search_trigram"),
    ]

    operations = [
        migrations.AddField(
            model_name="llmsession",
            name="context",
            field=models.TextField(blank=True, default=""),
        ),
    ]
