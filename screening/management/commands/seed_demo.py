"""`manage.py seed_demo` (run by `make run`): the demo review, its team, records and votes.

The seeding itself is `reviewapp.demo`, in the project package because it uses every app.
The command lives in the last app of the pipeline that the demo fills (screening), so that
no earlier app imports a later one through it.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from projects.demo import DEMO_PASSWORD, DEMO_USERS
from reviewapp.demo import seed_demo


class Command(BaseCommand):
    help = ("Seed the demo review, its users, synthetic records and votes (demo mode only: "
            "`make run`).")

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError("The demo is only seeded in demo mode (DEBUG=1 TANDEM_DEMO=1, "
                               "as `make run` sets); never on a production database.")
        summary = seed_demo()
        project = summary.project
        self.stdout.write(("Seeded" if summary.created else "Found") + f" the demo project "
                          f"'{project.name}' at http://127.0.0.1:8000/p/{project.slug}/")
        for line in summary.lines():
            self.stdout.write(f"  {line}")
        self.stdout.write(f"Demo accounts (password: {DEMO_PASSWORD}):")
        for username, display, role in DEMO_USERS:
            self.stdout.write(f"  {username:<6} {display} ({role.label.lower()})")
