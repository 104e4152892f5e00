from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from extraction import forms_builder, schema
from projects.models import Project


class Command(BaseCommand):
    help = "Write a project's extraction form as a JSON document (see the README)."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the project's address, e.g. ikt-review")
        parser.add_argument("--out", help="file to write (default: standard output)")

    def handle(self, *args, slug, out=None, **options):
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            raise CommandError(f"No project with the slug '{slug}'.")
        form = forms_builder.get_form(project)
        if form is None:
            raise CommandError(f"Project '{slug}' has no extraction form yet.")
        text = schema.dumps(schema.export_form(form))
        if out:
            Path(out).write_text(text, encoding="utf-8")
            self.stdout.write(f"Wrote version {form.version} of the form of '{slug}' to {out}.")
        else:
            self.stdout.write(text, ending="")
