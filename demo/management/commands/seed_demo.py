"""`manage.py seed_demo [--complete]` (run by `make run`): the demo review shaped like
Cassidy et al. 2021, seeded through the services a team uses (`demo.seed`). Demo mode only.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.seed import seed_demo
from demo.team import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = ("Seed the demo review: its team, the paper's sources and records, screening, "
            "extraction and coding, with work left open for every role (demo mode only: "
            "`make run`). --complete takes the open steps too.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--complete", action="store_true",
            help="Finish the work the open demo leaves: the PRISMA flow is then the paper's.")

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError("The demo is only seeded in demo mode (DEBUG=1 TANDEM_DEMO=1, "
                               "as `make run` sets); never on a production database.")
        s = seed_demo(complete=options["complete"])
        project = s.project
        state = "complete" if s.complete else "open"
        if s.done:
            self.stdout.write(f"Seeded the demo project '{project.name}' ({state}) at "
                              f"http://127.0.0.1:8000/p/{project.slug}/")
            for line in s.done:
                self.stdout.write(f"  {line}")
        else:
            self.stdout.write(f"The demo project '{project.name}' ({state}) at "
                              f"http://127.0.0.1:8000/p/{project.slug}/ is seeded already: "
                              "nothing to do.")
        self.stdout.write(f"Took {s.timings['total']:.1f} s ("
                          + ", ".join(f"{name} {t:.1f} s" for name, t in s.timings.items()
                                      if name != "total") + ").")
        self.stdout.write(f"Demo accounts (password: {DEMO_PASSWORD}):")
        for username, display, role in DEMO_USERS:
            self.stdout.write(f"  {username:<6} {display} ({role.label.lower()})")
