"""Steps the extracting, pilot, consensus and blinding tests share: included studies, a form
built with the builder's own services, and extractions made with the extraction services."""

from dataclasses import dataclass

from extraction import forms_builder as builder
from extraction import services
from extraction.forms_builder import FieldSpec
from extraction.models import Field, Form, Round
from projects.models import Membership
from screening import services as screening
from screening.models import Stage
from tests.factories import RecordFactory

Type = Field.Type


def include_studies(cast, n=1, *, title="Trainee partnerships"):
    """`n` studies of the cast's project, each with one record included at title and abstract
    and at full text by ada and ben."""
    studies = []
    for i in range(n):
        record = RecordFactory(project=cast.project, title=f"{title} {i + 1}",
                               abstract=f"Abstract of study {i + 1}.",
                               authors=[f"Author{i + 1}, Kim"], year=2010 + i)
        for stage in (Stage.TITLE_ABSTRACT, Stage.FULL_TEXT):
            for who in (cast.ada, cast.ben):
                screening.record_vote(record, stage=stage, reviewer=who, decision="include")
        studies.append(record.study)
    return studies


def exclude_at_full_text(cast, study):
    """The lead reopens the study's record at full text and excludes it: the study leaves
    the included set."""
    from screening.models import Screening

    record = study.records.get()
    membership = Membership.objects.get(project=cast.project, user=cast.lead)
    membership.user = cast.lead
    row = Screening.objects.get(record=record, stage=Stage.FULL_TEXT)
    row.project = cast.project
    screening.reopen(row, membership=membership)
    screening.resolve(Screening.objects.get(pk=row.pk), membership=membership,
                      decision="exclude", reason="Wrong design")


@dataclass
class BuiltForm:
    form: Form
    design: Field  # single choice (rct, cohort, qual) with "other, specify"; required
    participants: Field  # whole number, required
    dose: Field  # decimal, unit mg
    summary: Field  # long text
    engaged: Field  # yes / no / unclear, required
    activities: Field  # multiple choice (plan, analyse, share)
    country: Field  # country
    started: Field  # date
    users: Field  # repeating table: user_type (single choice, required), role (short text)
    user_type: Field
    user_role: Field

    @property
    def fields(self) -> list[Field]:
        return [self.design, self.participants, self.dose, self.summary, self.engaged,
                self.activities, self.country, self.started, self.users]


def choices(*labels):
    return [{"label": label} for label in labels]


def build_form(cast) -> BuiltForm:
    """The lead builds a form with every field type, in two sections, with the builder."""
    form = builder.ensure_form(cast.project, user=cast.lead)
    study = builder.add_section(form, title="Study", user=cast.lead)
    partnership = builder.add_section(form, title="Partnership", user=cast.lead)

    def add(section, label, type_, **spec):
        return builder.add_field(section, spec=FieldSpec(label=label, type=type_, **spec),
                                 user=cast.lead)

    design = add(study, "Design", Type.SINGLE_CHOICE, required=True, other_specify=True,
                 choices=choices("RCT", "Cohort", "Qual"))
    participants = add(study, "Participants", Type.INTEGER, required=True)
    dose = add(study, "Dose", Type.DECIMAL, unit="mg")
    summary = add(study, "Summary", Type.LONG_TEXT)
    country = add(study, "Country", Type.COUNTRY)
    started = add(study, "Started", Type.DATE)
    engaged = add(partnership, "Engaged", Type.YES_NO, required=True)
    activities = add(partnership, "Activities", Type.MULTI_CHOICE,
                     choices=choices("Plan", "Analyse", "Share"))
    users = add(partnership, "Knowledge users", Type.TABLE)
    user_type = builder.add_field(spec=FieldSpec(label="User type", type=Type.SINGLE_CHOICE,
                                                 required=True,
                                                 choices=choices("Clinician", "Patient")),
                                  table=users, user=cast.lead)
    user_role = builder.add_field(spec=FieldSpec(label="Role", type=Type.SHORT_TEXT),
                                  table=users, user=cast.lead)
    fields = [design, participants, dose, summary, engaged, activities, country, started,
              users, user_type, user_role]
    for f in fields:
        f.refresh_from_db()
    return BuiltForm(form, design, participants, dose, summary, engaged, activities, country,
                    started, users, user_type, user_role)


# The minimum a complete extraction needs: every required field.
REQUIRED = {"design": "rct", "participants": "12", "engaged": "yes"}


def inputs(answers: dict) -> dict[str, services.AnswerInput]:
    """{field key: raw} or {field key: AnswerInput} -> {field key: AnswerInput}."""
    return {key: given if isinstance(given, services.AnswerInput)
            else services.AnswerInput(raw=given) for key, given in answers.items()}


def extract(cast, study, who, answers: dict, *, complete=True, round=Round.MAIN):
    """`who` saves `answers` ({key: raw or AnswerInput}) on `study` and, by default, marks the
    extraction complete. Asserts nothing was refused."""
    extraction, errors = services.save_answers(cast.project, study, round=round, reviewer=who,
                                               inputs=inputs(answers))
    assert errors == {}
    if complete:
        extraction = services.complete_extraction(cast.project, study, round=round,
                                                  reviewer=who)
    return extraction


def membership(cast, who) -> Membership:
    return Membership.objects.select_related("user").get(project=cast.project, user=who)


def pair(cast, study, reviewers=None):
    """Assign `study` (main round) to ada and ben, or `reviewers`."""
    return services.assign_study(cast.project, study, reviewers=reviewers or [cast.ada, cast.ben],
                                 user=cast.lead)
