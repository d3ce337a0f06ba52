# Stores the free-text search profile with each data version (server/studies/search_profile.py).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('studies', '0006_exact_number_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='dataversion',
            name='search_profile',
            field=models.JSONField(blank=True, null=True),
        ),
    ]
