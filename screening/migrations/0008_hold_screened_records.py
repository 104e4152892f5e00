"""Records screened before holds existed get the screening hold (references.holds), so the
automatic deduplication never makes them duplicates."""

from django.db import migrations
from django.db.models import Exists, F, OuterRef

SCREENING = 1  # references.holds.Hold.SCREENING


def hold_screened(apps, schema_editor):
    Record = apps.get_model("references", "Record")
    Vote = apps.get_model("screening", "Vote")
    voted = Vote.objects.filter(screening__record=OuterRef("pk"))
    Record.objects.filter(Exists(voted)).update(hold=F("hold").bitor(SCREENING))


class Migration(migrations.Migration):

    dependencies = [
        ("references", "0002_holds_prisma_sources_removal"),
        ("screening", "0007_drop_not_retrieved_flag_and_reason_strings"),
    ]

    operations = [
        migrations.RunPython(hold_screened, migrations.RunPython.noop),
    ]
