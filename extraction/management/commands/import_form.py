from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from extraction import forms_builder, schema
from projects.models import Project


class Command(BaseCommand):
    help = ("Make a project's extraction form match a JSON document: fields match by key, new "
            "ones are added, those the document leaves out are archived with their answers.")

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the project's address, e.g. ikt-review")
        parser.add_argument("file", help="the form document (JSON)")

    def handle(self, *args, slug, file, **options):
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            raise CommandError(f"No project with the slug '{slug}'.")
        try:
            doc = schema.parse(Path(file).read_bytes())
            counts = forms_builder.import_form(project, doc, user=None)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc
        except schema.SchemaError as exc:
            raise CommandError("The form was not imported:\n" + "\n".join(exc.errors)) from exc
        except forms_builder.BuilderError as exc:
            raise CommandError(f"The form was not imported: {exc}") from exc
        form = forms_builder.get_form(project)
        self.stdout.write(f"Imported into '{slug}': {counts['added']} added, "
                          f"{counts['updated']} updated, {counts['archived']} archived, "
                          f"{counts['converted']} answers converted; the form is at version "
                          f"{form.version}.")
