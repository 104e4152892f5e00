from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from projects import services


class Command(BaseCommand):
    help = "Create a review project with an existing user as its lead."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the project's address, e.g. ikt-review")
        parser.add_argument("--name", required=True, help="the project's name")
        parser.add_argument("--lead", required=True, help="username of the lead (must exist)")
        parser.add_argument("--description", default="")
        parser.add_argument("--review-type", default="systematic",
                            choices=["systematic", "scoping"])

    def handle(self, *args, slug, name, lead, description, review_type, **options):
        user = User.objects.filter(username=lead).first()
        if user is None:
            raise CommandError(f"No user named '{lead}': create the account first.")
        try:
            project = services.create_project(user=user, name=name, slug=slug,
                                              description=description, review_type=review_type)
        except services.ServiceError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Created project '{project.name}' at /p/{project.slug}/ "
                          f"with {user.username} as lead.")
