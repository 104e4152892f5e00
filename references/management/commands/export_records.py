from django.core.management.base import BaseCommand, CommandError

from projects import csvsafe
from projects.models import Project
from references import exports


class Command(BaseCommand):
    help = "Write one CSV row per record of a project, with its deduplication status."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the project's address")
        parser.add_argument("--out", required=True, help="the CSV file to write")

    def handle(self, *args, slug, out, **options):
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            raise CommandError(f"No project '{slug}'.")
        with open(out, "w", newline="", encoding="utf-8") as handle:
            rows = exports.record_rows(project)
            writer = csvsafe.writer(handle)
            writer.writerow(next(rows))
            count = 0
            for row in rows:
                writer.writerow(row)
                count += 1
        self.stdout.write(f"Wrote {count} records to {out}.")
