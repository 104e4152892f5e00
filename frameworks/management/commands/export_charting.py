import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from frameworks import exports, queries
from projects.models import Project


class Command(BaseCommand):
    help = ("Write a project's framework charting (categories with n and citation numbers, "
            "themes) as JSON, CSV or XLSX (see the README).")

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the project's address, e.g. ikt-review")
        parser.add_argument("--format", choices=exports.FORMATS, default="json",
                            dest="fmt")
        parser.add_argument("--out", required=True, help="file to write")

    def handle(self, *args, slug, fmt, out, **options):
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            raise CommandError(f"No project with the slug '{slug}'.")
        chart = queries.charting(project)
        path = Path(out)
        if fmt == "json":
            path.write_text(json.dumps(exports.charting_json(chart), indent=2,
                                       ensure_ascii=False) + "\n", encoding="utf-8")
        elif fmt == "csv":
            path.write_text(exports.charting_csv(chart), encoding="utf-8", newline="")
        else:
            path.write_bytes(exports.charting_xlsx(chart))
        self.stdout.write(f"Wrote the charting of '{slug}' ({len(chart.studies)} studies, "
                          f"{len(chart.frameworks)} frameworks) as {fmt} to {out}.")
