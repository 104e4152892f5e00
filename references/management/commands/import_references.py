import sys
import time
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from projects.models import Project
from references import deduplication, services
from references.models import Source
from references.parsers.base import FORMATS, ImportFileError


class Command(BaseCommand):
    help = ("Import a reference file into a project as one source, in this process (no "
            "worker needed). The same service as the web upload.")

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the project's address")
        parser.add_argument("file", help="the export file (RIS, PubMed, BibTeX, ...)")
        parser.add_argument("--source", required=True, help='e.g. "MEDLINE (Ovid)"')
        parser.add_argument("--source-kind", default="database", choices=Source.Kind.values)
        parser.add_argument("--method", default="", choices=["", *Source.Method.values],
                            help="for --source-kind other: which of PRISMA's other methods")
        parser.add_argument("--starts-at-full-text", action="store_true",
                            help="for --source-kind other: skip title and abstract screening")
        parser.add_argument("--format", default="auto", choices=["auto", *FORMATS])
        parser.add_argument("--date-searched", type=date.fromisoformat, default=None,
                            help="YYYY-MM-DD")
        parser.add_argument("--search-strategy", default="", help="the search string")
        parser.add_argument("--deduplicate", action="store_true",
                            help="run the deduplication afterwards, as the web upload does")

    def handle(self, *args, slug, file, source, source_kind, method, starts_at_full_text,
               format, date_searched, search_strategy, deduplicate, **options):
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            raise CommandError(f"No project '{slug}'.")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No file {file}.")
        started = time.monotonic()
        try:
            report = services.import_file(
                project=project, data=path.read_bytes(), filename=path.name,
                source_name=source, source_kind=source_kind, source_method=method,
                starts_at_full_text=starts_at_full_text, date_searched=date_searched,
                search_strategy=search_strategy, file_format=format,
            )
        except (ImportFileError, services.ServiceError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{report.summary()} Format: {report.source.file_format}, "
                          f"encoding: {report.source.encoding}, "
                          f"{time.monotonic() - started:.1f} s.")
        for item in report.unusable:
            line = f" (line {item['line']})" if item["line"] else ""
            self.stdout.write(f"  unusable: record {item['position']}{line}: {item['problem']}")
        for warning in report.warnings:
            self.stdout.write(f"  warning: {warning}")
        if deduplicate:
            dedup = deduplication.deduplicate(project)
            self.stdout.write(dedup.summary())
        sys.stdout.flush()
