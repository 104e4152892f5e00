import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from projects.models import Project
from reports import archive


class Command(BaseCommand):
    help = ("Write a whole project (every row of every app, and its PDFs) as an archive that "
            "import_project or the upload page restores as a new project.")

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the project's address, e.g. ikt-review")
        parser.add_argument("--out", required=True, help="the .zip file to write")

    def handle(self, *args, slug, out, **options):
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            raise CommandError(f"No project with the slug '{slug}'.")
        started = time.monotonic()
        try:
            with open(out, "wb") as fh:
                manifest = archive.write_archive(project, fh)
        except OSError as exc:
            raise CommandError(f"Cannot write {out}: {exc.strerror}.") from exc
        rows = sum(t["rows"] for t in manifest["tables"].values())
        self.stdout.write(f"Wrote the archive of '{slug}' to {out}: {rows:,} rows, "
                          f"{manifest['files']} files, {Path(out).stat().st_size:,} bytes, "
                          f"in {time.monotonic() - started:.1f} s.")
