# The data version moves from the studies app to core (server.core.models). Its table, made by the studies
# app's migrations 0003 and 0007, keeps its name: this migration changes Django's state only.

import django.db.models.functions.datetime
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("studies", "0009_unbounded_text"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DataVersion",
                    fields=[
                        ("id", models.PositiveSmallIntegerField(default=1, editable=False, primary_key=True, serialize=False)),
                        ("version", models.BigIntegerField(default=0)),
                        ("changed_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                        ("search_profile", models.JSONField(blank=True, null=True)),
                    ],
                    options={"db_table": "studies_data_version"},
                ),
            ],
        ),
    ]
