from django.core.management.base import BaseCommand, CommandError

from projects.models import Project
from reports import prisma
from reports.prisma_export import FORMATS, export


class Command(BaseCommand):
    help = ("Write a project's PRISMA 2020 flow (computed from its data) as JSON, CSV of the "
            "counts, SVG, PNG, or the PRISMA2020 R package's template CSV.")

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the project's address, e.g. ikt-review")
        parser.add_argument("--format", dest="fmt", choices=FORMATS, default="json")
        parser.add_argument("--out", required=True, help="the file to write ('-': standard output)")

    def handle(self, *args, slug, fmt, out, **options):
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            raise CommandError(f"No project with the slug '{slug}'.")
        flow = prisma.flow(project)
        download = export(flow, fmt, slug=project.slug)
        if out == "-":
            if fmt == "png":
                raise CommandError("A PNG is not written to standard output: give --out FILE.")
            self.stdout.write(download.content.decode(), ending="")
        else:
            try:
                with open(out, "wb") as fh:
                    fh.write(download.content)
            except OSError as exc:
                raise CommandError(f"Cannot write {out}: {exc.strerror}.") from exc
            self.stderr.write(f"Wrote the PRISMA {fmt} of '{slug}' to {out} "
                              f"({len(download.content):,} bytes).")
        for problem in flow.problems:
            self.stderr.write(f"Warning: the numbers do not add up: {problem}")
