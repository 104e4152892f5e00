import time

from django.core.management.base import BaseCommand, CommandError

from projects.models import Project
from references import deduplication


class Command(BaseCommand):
    help = "Deduplicate all records of a project in this process and print the counts per tier."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the project's address")

    def handle(self, *args, slug, **options):
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            raise CommandError(f"No project '{slug}'.")
        started = time.monotonic()
        report = deduplication.deduplicate(project)
        self.stdout.write(report.summary())
        self.stdout.write(f"certain (merged automatically): {report.merged}")
        self.stdout.write(f"possible (waiting for a lead): {report.possible}")
        self.stdout.write(f"duplicates in all: {report.duplicates}")
        self.stdout.write(f"time: {time.monotonic() - started:.1f} s")
