"""The roles for reports and analysis: reporter (viewer + write reports), analyst (viewer + analysis tasks)."""

from django.db import migrations

ROLES = ("reporter", "analyst")


def create_roles(apps, schema_editor):
    group = apps.get_model("auth", "Group")
    for name in ROLES:
        group.objects.get_or_create(name=name)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [("access", "0004_token_role")]

    operations = [migrations.RunPython(create_roles, remove_roles)]
