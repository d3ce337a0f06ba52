# The data version now belongs to the core app (core 0001 takes it over); the table stays as it is.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("studies", "0009_unbounded_text"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="DataVersion")]),
    ]
