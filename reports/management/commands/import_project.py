import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from reports import archive


class Command(BaseCommand):
    help = ("Restore a project archive (export_project, or 'Download the project archive') "
            "as a new project, in one transaction.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="the archive (.zip)")
        parser.add_argument("--name", help="name of the new project (default: the archived one)")
        parser.add_argument("--slug", help="address of the new project (default: the archived "
                                           "one, or one made free from it)")
        parser.add_argument("--user", help="username of the lead who imports it (default: the "
                                           "first superuser)")

    def handle(self, *args, file, name=None, slug=None, user=None, **options):
        users = get_user_model().objects
        if user:
            importer = users.filter(username=user).first()
            if importer is None:
                raise CommandError(f"No user '{user}'.")
        else:
            importer = users.filter(is_superuser=True, is_active=True).order_by("pk").first()
            if importer is None:
                raise CommandError("Give --user USERNAME: there is no superuser to import as.")
        started = time.monotonic()
        try:
            with open(file, "rb") as fh:
                restored = archive.restore(fh, user=importer, slug=slug, name=name)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc
        except archive.ArchiveError as exc:
            raise CommandError(f"The archive was not imported: {exc}") from exc
        self.stdout.write(f"{restored.summary()} ({time.monotonic() - started:.1f} s)")
