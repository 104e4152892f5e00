import factory

from accounts.models import User
from projects.models import Invitation, Job, Membership, Project, Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.LazyAttribute(lambda u: u.username.title())
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("password")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Review {n}")
    slug = factory.Sequence(lambda n: f"review-{n}")
    created_by = factory.SubFactory(UserFactory)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.REVIEWER


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    project = factory.SubFactory(ProjectFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.org")
    role = Role.REVIEWER
    invited_by = factory.SubFactory(UserFactory)


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job

    project = factory.SubFactory(ProjectFactory)
    kind = "health_check"
    label = "Project health check"
    task_name = "projects.health_check"


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "references.Source"

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Database {n}")
    file_name = "export.ris"
    file_format = "ris"


class StudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "references.Study"

    project = factory.SubFactory(ProjectFactory)


class RecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "references.Record"

    project = factory.SubFactory(ProjectFactory)
    source = factory.SubFactory(SourceFactory, project=factory.SelfAttribute("..project"))
    study = factory.SubFactory(StudyFactory, project=factory.SelfAttribute("..project"))
    source_position = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Partnership approaches in trainee research, part {n}")
    authors = factory.LazyFunction(lambda: ["Lee, Kim", "Okafor, Ada"])
    year = 2020


class ExtractionFormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "extraction.Form"

    project = factory.SubFactory(ProjectFactory)


class FormVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "extraction.FormVersion"

    form = factory.SubFactory(ExtractionFormFactory)
    number = factory.LazyAttribute(lambda v: v.form.version)
    definition = factory.LazyFunction(dict)


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "extraction.Section"

    form = factory.SubFactory(ExtractionFormFactory)
    key = factory.Sequence(lambda n: f"section{n}")
    title = factory.Sequence(lambda n: f"Section {n}")
    position = factory.Sequence(lambda n: n)


class FieldFactory(factory.django.DjangoModelFactory):
    """A field in a section; for a table's column pass `parent=` and `section=None`."""

    class Meta:
        model = "extraction.Field"

    section = factory.SubFactory(SectionFactory)
    form = factory.LazyAttribute(lambda f: f.section.form if f.section else f.parent.form)
    key = factory.Sequence(lambda n: f"field{n}")
    label = factory.Sequence(lambda n: f"Field {n}")
    type = "short_text"
    position = factory.Sequence(lambda n: n)


class ExtractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "extraction.Extraction"

    study = factory.SubFactory(StudyFactory)
    project = factory.LazyAttribute(lambda e: e.study.project)
    version = factory.SubFactory(FormVersionFactory)


class AnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "extraction.Answer"

    extraction = factory.SubFactory(ExtractionFactory)
    field = factory.SubFactory(FieldFactory)
