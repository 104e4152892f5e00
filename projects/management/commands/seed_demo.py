from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from projects.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo


class Command(BaseCommand):
    help = "Seed the demo review and its users (demo mode only: `make run`)."

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError("The demo is only seeded in demo mode (DEBUG=1 TANDEM_DEMO=1, "
                               "as `make run` sets); never on a production database.")
        project, created = seed_demo()
        self.stdout.write(("Seeded" if created else "Found") + f" the demo project "
                          f"'{project.name}' at http://127.0.0.1:8000/p/{project.slug}/")
        self.stdout.write(f"Demo accounts (password: {DEMO_PASSWORD}):")
        for username, display, role in DEMO_USERS:
            self.stdout.write(f"  {username:<6} {display} ({role.label.lower()})")
