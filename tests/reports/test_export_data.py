"""Data the export tests share (no tests here): a screened project in every state, and a way
to run an export job as the worker does and read its file."""

from dataclasses import dataclass

from projects.jobs import run_job
from projects.models import Job
from reports import export_jobs
from screening import services as screening
from screening.models import Screening, Stage
from tests.factories import RecordFactory

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
AWKWARD_TITLE = ('=Ärzte & {Pflege}: 100% "gut" — a $5 #1 study_x ^ \\ path, '
                 "@home visits")
AWKWARD_ABSTRACT = ("Line one, café.\nLine two: 50% & {braces} in Zürich.\n\n"
                    "+Third paragraph; -minus.")


@dataclass
class Screened:
    """r1 included at both stages (an included report, awkward text), r2 excluded at title
    and abstract, r3 in conflict, r4 waiting for ben's vote, r5 a resolved conflict then
    excluded at full text, r6 full text not retrieved, r7 waiting for a full-text vote, r8 a
    duplicate of r1, r9 removed before screening."""

    r1: object
    r2: object
    r3: object
    r4: object
    r5: object
    r6: object
    r7: object
    r8: object
    r9: object

    @property
    def all(self) -> list:
        return [self.r1, self.r2, self.r3, self.r4, self.r5, self.r6, self.r7, self.r8,
                self.r9]


def vote(record, stage, who, decision, reason="", note=""):
    return screening.record_vote(record, stage=stage, reviewer=who, decision=decision,
                                 reason=reason, note=note)


def screened(cast) -> Screened:
    project = cast.project
    r1 = RecordFactory(project=project, title=AWKWARD_TITLE, abstract=AWKWARD_ABSTRACT,
                       authors=["Müller, Jürgen", "O'Brien, Seán", "World Health Organization",
                                "Barnes and Noble, A."],
                       year=2021, journal="Revue d'épidémiologie & santé", volume="12",
                       issue="3", pages="101-110", doi="10.1000/xyz-(2021)_5",
                       pmid="12345678", keywords=["Santé publique", "Knowledge, translation"],
                       url="https://example.org/a?b=1&c=%20", language="fre",
                       publication_type="JOUR")
    r2, r3, r4, r5, r6, r7 = (RecordFactory(project=project, title=f"Record {n}",
                                            authors=[f"Author{n}, A"], year=2010 + n)
                              for n in range(2, 8))
    r8 = RecordFactory(project=project, title="Duplicate of the first", duplicate_of=r1,
                       study=r1.study)
    r9 = RecordFactory(project=project, title="Removed", removed_reason="other")

    for who in (cast.ada, cast.ben):
        vote(r1, TA, who, "include", note=f"{who.username} likes it")
    for who in (cast.ada, cast.ben):
        vote(r1, FT, who, "include")
    vote(r2, TA, cast.ada, "exclude", note="=SUM(A1)")
    vote(r2, TA, cast.ben, "exclude")
    vote(r3, TA, cast.ada, "include", note="CONFLICT-SECRET")
    vote(r3, TA, cast.ben, "exclude")
    vote(r4, TA, cast.ada, "include", note="ADA-SECRET")
    vote(r5, TA, cast.ada, "include")
    vote(r5, TA, cast.ben, "exclude", note="@ben thinks not")
    conflict = Screening.objects.get(record=r5, stage=TA)
    screening.resolve(conflict, membership=cast.lead.memberships.get(project=project),
                      decision="include", note="Fits the criteria")
    for who in (cast.ada, cast.ben):
        vote(r5, FT, who, "exclude", reason="Wrong design")
    for who in (cast.ada, cast.ben):
        vote(r6, TA, who, "include")
        vote(r7, TA, who, "include")
    screening.set_full_text(r6, user=cast.lead, not_retrieved=True)
    vote(r7, FT, cast.ada, "include", note="FT-SECRET")
    return Screened(r1, r2, r3, r4, r5, r6, r7, r8, r9)


def run_export(cast, export, file_format, which="", user=None) -> Job:
    """Start an export as the page does and run it as the worker does."""
    job = export_jobs.start_export(cast.project, user=user or cast.viewer, export=export,
                                   file_format=file_format, which=which)
    run_job(job.pk, export_jobs.run_export)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    return job


def file_bytes(job) -> bytes:
    with job.result_file.open("rb") as f:
        return f.read()
