"""The built-in framework catalogue (frameworks/catalogue.py), as rows with no project."""

from django.db import migrations


def install(apps, schema_editor):
    from frameworks import catalogue

    catalogue.install(apps.get_model("frameworks", "Framework"),
                      apps.get_model("frameworks", "Category"))


def remove(apps, schema_editor):
    Framework = apps.get_model("frameworks", "Framework")
    Category = apps.get_model("frameworks", "Category")
    catalogue = Framework.objects.filter(project=None)
    # Children first: parent is PROTECT.
    Category.objects.filter(framework__in=catalogue, parent__isnull=False).delete()
    catalogue.delete()


class Migration(migrations.Migration):

    dependencies = [
        ("frameworks", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(install, remove),
    ]
