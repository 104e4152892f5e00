"""Data the table and export tests share: included studies, a form with every field type, and
settled extractions written as rows (the extraction services are tested elsewhere)."""

from dataclasses import dataclass

from django.utils import timezone

from extraction.models import Extraction, Field
from screening import services as screening
from screening.models import Stage
from tests.factories import (
    AnswerFactory,
    ExtractionFactory,
    ExtractionFormFactory,
    FieldFactory,
    FormVersionFactory,
    RecordFactory,
    SectionFactory,
)


def include_studies(cast, authors_years):
    """One included study per (first author, year): its record included at title and
    abstract and at full text by ada and ben."""
    studies = []
    for author, year in authors_years:
        record = RecordFactory(project=cast.project, authors=[author, "Okafor, Ada"], year=year,
                               title=f"Trainee partnerships ({author.split(',')[0]})")
        for stage in (Stage.TITLE_ABSTRACT, Stage.FULL_TEXT):
            for who in (cast.ada, cast.ben):
                screening.record_vote(record, stage=stage, reviewer=who, decision="include")
        studies.append(record.study)
    return studies


DESIGNS = [{"key": "rct", "label": "Randomised trial", "archived": False},
           {"key": "cohort", "label": "Cohort study", "archived": False},
           {"key": "qual", "label": "Qualitative study", "archived": False},
           {"key": "case", "label": "Case report", "archived": True}]
ACTIVITIES = [{"key": "plan", "label": "Planning", "archived": False},
              {"key": "analyse", "label": "Analysis", "archived": False},
              {"key": "share", "label": "Sharing results", "archived": False}]
USER_TYPES = [{"key": "clin", "label": "Clinician", "archived": False},
              {"key": "pat", "label": "Patient", "archived": False}]


@dataclass
class PaperForm:
    form: object
    version: object
    design: Field
    country: Field
    participants: Field
    dose: Field
    summary: Field
    engaged: Field
    activities: Field
    started: Field
    users: Field  # a repeating table: user_type (single choice), role (short text)
    user_type: Field
    user_role: Field
    archived: Field
    in_archived_section: Field


def paper_form(project) -> PaperForm:
    """A form with every field type in two sections (declared out of order), an archived
    field and a field of an archived section."""
    form = ExtractionFormFactory(project=project)
    version = FormVersionFactory(form=form, number=1)
    partnership = SectionFactory(form=form, key="partnership", title="Partnership", position=2)
    study = SectionFactory(form=form, key="study", title="Study", position=1)
    gone = SectionFactory(form=form, key="old", title="Old", position=0, archived=True)

    def add(section, key, label, type_, position, **extra):
        return FieldFactory(section=section, key=key, label=label, type=type_,
                            position=position, **extra)

    users = add(partnership, "users", "Knowledge users", Field.Type.TABLE, 3)
    return PaperForm(
        form=form, version=version,
        design=add(study, "design", "Study design", Field.Type.SINGLE_CHOICE, 0,
                   choices=DESIGNS, other_specify=True),
        country=add(study, "country", "Country", Field.Type.COUNTRY, 1),
        participants=add(study, "participants", "Participants", Field.Type.INTEGER, 2),
        dose=add(study, "dose", "Training hours", Field.Type.DECIMAL, 3, unit="h"),
        summary=add(study, "summary", "Summary", Field.Type.LONG_TEXT, 4),
        engaged=add(partnership, "engaged", "Users engaged", Field.Type.YES_NO, 0),
        activities=add(partnership, "activities", "Activities", Field.Type.MULTI_CHOICE, 1,
                       choices=ACTIVITIES),
        started=add(partnership, "started", "Start date", Field.Type.DATE, 2),
        users=users,
        user_type=FieldFactory(section=None, parent=users, key="user_type", label="User type",
                               type=Field.Type.SINGLE_CHOICE, choices=USER_TYPES, position=0),
        user_role=FieldFactory(section=None, parent=users, key="user_role", label="Role",
                               type=Field.Type.SHORT_TEXT, position=1),
        archived=add(study, "funding", "Funding", Field.Type.SHORT_TEXT, 5, archived=True),
        in_archived_section=add(gone, "old_note", "Old note", Field.Type.SHORT_TEXT, 0),
    )


def extraction(study, version, answers: dict, *, role=Extraction.Role.CONSENSUS, reviewer=None,
               status=Extraction.Status.COMPLETE, round="main"):
    """An extraction of `study` with `answers` {field: value, or a dict of Answer fields}."""
    now = timezone.now()
    made = ExtractionFactory(study=study, version=version, role=role, reviewer=reviewer,
                             status=status, round=round,
                             completed_at=now if status == Extraction.Status.COMPLETE else None)
    for fld, answer in answers.items():
        fields = answer if isinstance(answer, dict) else {"value": answer}
        AnswerFactory(extraction=made, field=fld, **fields)
    return made
