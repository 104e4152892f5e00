"""The demo review (issue 12): a review shaped like Cassidy et al. 2021, seeded through the
services a team uses. The open demo (`manage.py seed_demo`, what `make run` seeds) leaves
work for every role; `--complete` finishes it and the PRISMA export is then the paper's.

Seeding takes a while, so the module seeds once (open, open again, complete, complete
again), keeps what each test checks, and puts the database back as it found it."""

import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from accounts.models import User
from demo import works as demo_works
from demo.team import DEMO_SLUG
from extraction.queries import round_extractions, status_of
from frameworks.models import StudyCoding
from projects.models import AuditEvent, Project
from references.models import DuplicateCandidate, Record, Source, Study
from reports import prisma, prisma_export
from screening.models import Screening, Stage, Vote
from screening.queries import needing_vote_of, pair_agreements
from tests.demo import test_charting as paper

# Every test a database test, so that pytest-django keeps them together (it runs database
# tests first) and the module's seeding happens once.
pytestmark = pytest.mark.django_db

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
OTHER_NAME = "Other sources (grey literature, Google, experts, reference chaining)"
DATABASES = {"MEDLINE (Ovid)": 1012, "Embase (Elsevier)": 1178, "CINAHL (EBSCO)": 642,
             "PsycINFO (EBSCO)": 405}
REASONS = {"Wrong design": 98, "Author not a trainee": 84,
           "Partnership approach not described": 61, "Not health research": 14,
           "Wrong publication type": 12}


@dataclass
class Run:
    """What one `seed_demo` run printed, and the database after it."""

    out: list[str]
    rows: dict[str, int]
    prisma: dict = field(default_factory=dict)
    waiting: dict[tuple[str, str], int] = field(default_factory=dict)  # (stage, who) -> n
    conflicts: dict[str, int] = field(default_factory=dict)  # stage -> n
    tables: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    kappas: dict[str, float] = field(default_factory=dict)
    charting: dict = field(default_factory=dict)  # framework -> category key -> n
    extraction: dict = field(default_factory=dict)  # field key -> category -> n
    extraction_status: dict = field(default_factory=dict)  # status -> studies
    coding_status: dict = field(default_factory=dict)  # status -> studies


def _rows() -> dict[str, int]:
    return {"votes": Vote.objects.count(), "records": Record.objects.count(),
            "screenings": Screening.objects.count(), "studies": Study.objects.count(),
            "audit": AuditEvent.objects.count(), "users": User.objects.count()}


def _seed(*args) -> Run:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    project = Project.objects.get(slug=DEMO_SLUG)
    download = prisma_export.export(prisma.flow(project), "json", slug=project.slug)
    run = Run(out=out.getvalue().splitlines(), rows=_rows(),
              prisma=json.loads(download.content))
    for stage in (TA, FT):
        for who in ("ada", "ben"):
            run.waiting[stage, who] = needing_vote_of(
                project, stage, User.objects.get(username=who)).count()
        run.conflicts[stage] = Screening.objects.filter(
            project=project, stage=stage, state=Screening.State.CONFLICT).count()
        for pair in pair_agreements(project, stage):
            run.tables[stage] = (pair.both_include, pair.a_include_b_exclude,
                                 pair.a_exclude_b_include, pair.both_exclude)
            run.kappas[stage] = pair.kappa
    run.charting = paper.headline(project)
    run.extraction = paper.extraction_counts(project)
    run.extraction_status = dict(Counter(
        status_of(found, mode="dual", round="main")
        for found in round_extractions(project, "main").values()))
    run.coding_status = dict(Counter(StudyCoding.objects.filter(project=project)
                                     .values_list("status", flat=True)))
    return run


@pytest.fixture(scope="module")
def runs(django_db_setup, django_db_blocker):
    """The demo seeded open, open again, complete and complete again, committed as the
    command commits it; afterwards the database is flushed and what it held before (the
    migrations' data) restored."""
    with django_db_blocker.unblock(), override_settings(DEMO_MODE=True):
        saved = connection.creation.serialize_db_to_string()
        try:
            yield {"open": _seed(), "open again": _seed(), "complete": _seed("--complete"),
                   "complete again": _seed("--complete")}
        finally:
            # Sequences go on from where they are: later tests never reuse an id.
            call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True,
                         reset_sequences=False)
            connection.creation.deserialize_db_from_string(saved)


# --- The completed demo: the paper's PRISMA figures ------------------------------------------

def test_complete_demo_prisma_json_is_the_papers(runs):
    assert runs["complete"].prisma == {
        "identified_databases": DATABASES,
        "identified_other": {OTHER_NAME: 23},
        "duplicates_removed": 365,
        "automation_removed": 0,
        "other_removed": 0,
        "screened": 2895,
        "excluded_screening": 2552,
        "sought_retrieval": 343,
        "not_retrieved": 0,
        "assessed_eligibility": 343,
        "excluded_eligibility": REASONS,
        "included_studies": 72,
        "included_reports": 74,
        "in_progress": {"title_abstract_awaiting": 0, "title_abstract_conflict": 0,
                        "full_text_awaiting": 0, "full_text_conflict": 0},
    }
    assert sum(DATABASES.values()) == 3237
    assert sum(REASONS.values()) == 269


def test_complete_demo_sources_are_the_papers_searches(runs):
    sources = [(s.name, s.kind, s.record_count, s.records.count(), s.date_searched)
               for s in Source.objects.order_by("id")]

    assert sources == [
        ("MEDLINE (Ovid)", "database", 1012, 1012, date(2020, 6, 24)),
        ("Embase (Elsevier)", "database", 1178, 1178, date(2020, 6, 24)),
        ("CINAHL (EBSCO)", "database", 642, 642, date(2020, 6, 24)),
        ("PsycINFO (EBSCO)", "database", 405, 405, date(2020, 6, 24)),
        (OTHER_NAME, "other", 23, 23, date(2020, 6, 24)),
    ]
    assert all(s.search_strategy for s in Source.objects.all())
    assert Record.objects.filter(title="").count() == 0


def test_complete_demo_deduplication_merged_exactly_the_planted_copies(runs):
    sources = list(Source.objects.order_by("id").values_list("id", flat=True))
    by_place = {(source, position): pk for pk, source, position in
                Record.objects.values_list("id", "source_id", "source_position")}
    planted = {}
    for work in demo_works.build_demo().works:
        primary, *copies = [by_place[sources[i], position] for i, position in work.places]
        planted.update({copy: primary for copy in copies})

    merged = dict(Record.objects.filter(duplicate_of__isnull=False)
                  .values_list("id", "duplicate_of_id"))

    assert len(planted) == 365
    assert merged == planted
    assert DuplicateCandidate.objects.filter(
        status=DuplicateCandidate.Status.PENDING).count() == 0


def test_complete_demo_included_reports_by_kind_and_studies(runs):
    project = Project.objects.get(slug=DEMO_SLUG)
    included = Record.objects.filter(project=project, screenings__stage=FT,
                                     screenings__state=Screening.State.INCLUDED)

    assert dict(Counter(included.values_list("publication_type", flat=True))) == {
        "JOUR": 34, "THES": 28, "ELEC": 9, "RPRT": 3}
    per_study = Counter(included.values_list("study_id", flat=True))
    assert (len(per_study), sorted(per_study.values())[-3:]) == (72, [1, 2, 2])


def test_complete_demo_agreement_is_plausible(runs):
    run = runs["complete"]

    # (both include, ada include / ben exclude, ada exclude / ben include, both exclude)
    assert run.tables == {TA: (308, 62, 58, 2467), FT: (68, 6, 14, 255)}
    assert round(run.kappas[TA], 3) == 0.813
    assert round(run.kappas[FT], 3) == 0.834
    assert all(0.6 <= k <= 0.9 for k in run.kappas.values())


def test_complete_demo_charting_has_the_papers_headline_counts(runs):
    counts = runs["complete"].charting

    assert counts["kta"]["adapt-knowledge"] == 34
    assert counts["kta"]["identify-problem"] == 30
    assert counts["iap2"]["collaborate"] == 43
    assert counts["iap2"]["not-reported"] == 4
    assert counts["outcomes"] == {"immediate": 38, "intermediate": 40, "long-term": 15,
                                  "none-reported": 20}
    assert {k: counts["wider"][k] for k in ("meetings", "written-communication", "email",
                                            "phone")} == {
        "meetings": 27, "written-communication": 11, "email": 7, "phone": 6}
    assert set(counts["mcleroy"]) == {"individual", "interpersonal", "organizational"}


def test_complete_demo_extraction_consensus_has_the_papers_counts(runs):
    run = runs["complete"]

    assert run.extraction_status == {"complete": 72}
    assert run.coding_status == {"verified": 72}
    assert run.extraction["paper_type"] == paper.PAPER_TYPE
    assert run.extraction["study_design"] == paper.DESIGN
    assert run.extraction["country"] == paper.COUNTRY
    assert run.extraction["trainee_discipline"] == paper.DISCIPLINE
    assert run.extraction["training_level"] == paper.LEVEL


# --- The open demo: work for every role -------------------------------------------------------

def test_open_demo_leaves_votes_and_conflicts_for_every_role(runs):
    run = runs["open"]

    assert run.waiting == {(TA, "ada"): 90, (TA, "ben"): 90, (FT, "ada"): 0, (FT, "ben"): 0}
    assert run.conflicts == {TA: 8, FT: 3}
    assert run.prisma["in_progress"] == {
        "title_abstract_awaiting": 140, "title_abstract_conflict": 8,
        "full_text_awaiting": 0, "full_text_conflict": 3}
    assert run.prisma["screened"] == 2895
    assert run.prisma["excluded_screening"] == 2552 - 140 - 8
    assert run.prisma["included_reports"] == 74
    assert run.prisma["included_studies"] == 72
    assert run.extraction_status == {"complete": 70, "awaiting_consensus": 2}
    assert run.coding_status == {"verified": 71, "coded": 1}


def test_open_demo_command_says_what_it_did(runs):
    out = runs["open"].out

    assert out[0] == ("Seeded the demo project 'Trainee-led IKT scoping review' (open) at "
                      "http://127.0.0.1:8000/p/trainee-ikt/")
    assert out[1:7] == [
        "  records imported: 3260",
        "  reports linked to their study: 2",
        "  title/abstract votes: 5610",
        "  title/abstract conflicts resolved by lead: 112",
        "  full text votes: 686",
        "  full text conflicts resolved by lead: 17",
    ]
    assert [line for line in out if re.fullmatch(r"Took \d+\.\d s \(.*\)\.", line)]
    assert out[-5:] == ["Demo accounts (password: tandem-demo):",
                        "  lead   Lena Lead (lead)", "  ada    Ada Reviewer (reviewer)",
                        "  ben    Ben Reviewer (reviewer)",
                        "  cy     Cy Third-Reviewer (reviewer)"]


def test_open_demo_team_and_project(runs):
    project = Project.objects.get(slug=DEMO_SLUG)

    assert (project.name, project.review_type) == ("Trainee-led IKT scoping review", "scoping")
    assert dict(project.memberships.values_list("user__username", "role")) == {
        "lead": "lead", "ada": "reviewer", "ben": "reviewer", "cy": "reviewer"}
    assert User.objects.get(username="ada").check_password("tandem-demo")
    assert "Author not a trainee" in project.exclusion_criteria
    assert AuditEvent.objects.filter(action="member.add").count() == 4


# --- Idempotent; --complete finishes only the open work ----------------------------------------

def test_seeding_again_changes_nothing(runs):
    assert runs["open again"].rows == runs["open"].rows
    assert runs["open again"].out[0] == (
        "The demo project 'Trainee-led IKT scoping review' (open) at "
        "http://127.0.0.1:8000/p/trainee-ikt/ is seeded already: nothing to do.")
    assert runs["complete again"].rows == runs["complete"].rows
    assert runs["complete again"].out[0].endswith("is seeded already: nothing to do.")


def test_complete_after_open_finishes_only_the_open_work(runs):
    opened, completed = runs["open"].rows, runs["complete"].rows

    assert runs["complete"].out[1:4] == [
        "  title/abstract votes: 180",
        "  title/abstract conflicts resolved by lead: 8",
        "  full text conflicts resolved by lead: 3",
    ]
    assert completed["votes"] - opened["votes"] == 180
    assert (completed["records"], completed["users"]) == (opened["records"], opened["users"])


# --- Guards -----------------------------------------------------------------------------------

def test_seed_demo_refuses_outside_demo_mode(db, settings):
    settings.DEMO_MODE = False

    with pytest.raises(CommandError, match="only seeded in demo mode"):
        call_command("seed_demo", "--complete")


def test_no_other_app_imports_demo():
    root = Path(settings.BASE_DIR)
    apps = [p.parent for p in root.glob("*/apps.py") if p.parent.name != "demo"]
    apps.append(root / "reviewapp")
    importing = re.compile(r"^\s*(from\s+demo[\s.]|import\s+demo\b)", re.MULTILINE)

    found = [str(path.relative_to(root)) for app in apps for path in app.rglob("*.py")
             if importing.search(path.read_text(encoding="utf-8"))]

    assert len(apps) >= 7
    assert found == []
