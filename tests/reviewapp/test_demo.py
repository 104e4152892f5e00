"""The demo that `make run` seeds: synthetic records of our own, deduplicated and screened
so that every role has something to do. The generator is deterministic: the counts are
exact."""

import inspect
import re
from collections import Counter
from datetime import date

import pytest
from django.core.management import call_command

from accounts.models import User
from projects.models import AuditEvent, Project
from references.models import DuplicateCandidate, Record, Source
from reviewapp import demo
from screening.models import Screening, Stage, Vote
from screening.queries import eligible, exclusion_counts, exclusion_reasons, needing_vote_of

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT


@pytest.fixture
def seeded(db, settings):
    settings.DEMO_MODE = True
    call_command("seed_demo")
    return Project.objects.get(slug="trainee-ikt")


def _states(project, stage):
    return dict(Counter(Screening.objects.filter(project=project, stage=stage)
                        .values_list("state", flat=True)))


def _votes(project, stage):
    return dict(Counter(Vote.objects.filter(screening__project=project, screening__stage=stage)
                        .values_list("reviewer__username", flat=True)))


def test_demo_sources_are_imported_with_their_search(seeded):
    sources = [(s.name, s.kind, s.record_count, s.records.count(), s.date_searched, s.file_name)
               for s in Source.objects.filter(project=seeded).order_by("id")]

    assert sources == [
        ("MEDLINE (Ovid)", "database", 140, 140, date(2020, 6, 24),
         "medline-ovid-2020-06-24.ris"),
        ("Embase", "database", 130, 130, date(2020, 6, 24), "embase-2020-06-24.ris"),
        ("Google Scholar / grey literature", "other", 25, 25, date(2020, 6, 24),
         "grey-literature-2020-06-24.ris"),
    ]
    assert all("integrated knowledge translation" in s.search_strategy
               for s in Source.objects.filter(project=seeded))
    grey = Record.objects.filter(source__kind="other")
    assert dict(Counter(grey.values_list("publication_type", flat=True))) == {
        "THES": 8, "RPRT": 9, "ELEC": 8}
    assert Record.objects.filter(project=seeded, title="").count() == 0


def test_demo_deduplication_merges_exactly_the_planted_duplicates(seeded):
    sources = list(Source.objects.filter(project=seeded).order_by("id"))
    by_place = {(r.source_id, r.source_position): r for r in Record.objects.filter(project=seeded)}
    planted = {}
    for work in demo.build_demo().works:
        primary, *copies = [by_place[sources[i].pk, pos] for i, pos in work.places]
        planted.update({copy.pk: primary.pk for copy in copies})

    merged = dict(Record.objects.filter(project=seeded, duplicate_of__isnull=False)
                  .values_list("id", "duplicate_of_id"))

    assert len(planted) == demo.SHARED == 40
    assert merged == planted
    # Every copy is an Embase record whose primary is the MEDLINE one.
    assert {(Record.objects.get(pk=a).source.name, Record.objects.get(pk=b).source.name)
            for a, b in merged.items()} == {("Embase", "MEDLINE (Ovid)")}
    assert DuplicateCandidate.objects.filter(project=seeded).count() == 0
    assert eligible(seeded, TA).count() == 295 - 40


def test_demo_title_and_abstract_votes_leave_work_for_every_role(seeded):
    ada, ben = User.objects.get(username="ada"), User.objects.get(username="ben")

    assert _votes(seeded, TA) == {"ada": 150, "ben": 150}
    assert _states(seeded, TA) == {"included": 30, "excluded": 82, "conflict": 8,
                                   "pending": 60}
    # Waiting for ada: the 30 ben voted on alone and the 75 nobody has touched; and back.
    assert needing_vote_of(seeded, TA, ada).count() == 105
    assert needing_vote_of(seeded, TA, ben).count() == 105
    pending = Screening.objects.filter(project=seeded, stage=TA, state="pending")
    assert dict(Counter(pending.values_list("votes__reviewer__username", flat=True))) == {
        "ada": 30, "ben": 30}
    # Conflicts are one include (or maybe) against one exclude.
    for screening in Screening.objects.filter(project=seeded, stage=TA, state="conflict"):
        assert sorted(v.decision for v in screening.votes.all()) in (
            ["exclude", "include"], ["exclude", "maybe"])


def test_demo_full_text_votes_use_the_project_reasons(seeded):
    ada, ben = User.objects.get(username="ada"), User.objects.get(username="ben")
    reasons = set(exclusion_reasons(seeded, FT))

    assert len(reasons) == 6
    assert eligible(seeded, FT).count() == 30
    assert _votes(seeded, FT) == {"ada": 15, "ben": 15}
    assert _states(seeded, FT) == {"included": 7, "excluded": 5, "conflict": 3,
                                   "not_retrieved": 1}
    assert needing_vote_of(seeded, FT, ada).count() == 14
    assert needing_vote_of(seeded, FT, ben).count() == 14
    for screening in Screening.objects.filter(project=seeded, stage=FT, state="excluded"):
        assert screening.reason in reasons
    assert sum(n for _reason, n in exclusion_counts(seeded, FT)) == 5
    for screening in Screening.objects.filter(project=seeded, stage=FT, state="conflict"):
        votes = list(screening.votes.all())
        assert {v.decision for v in votes} == {"exclude"}
        assert len({v.reason_id for v in votes}) == 2
        assert {v.reason for v in votes} <= reasons


def test_seed_demo_second_run_changes_nothing(seeded, capsys):
    def counts():
        return {model.__name__: model.objects.count() for model in (
            User, Project, Source, Record, DuplicateCandidate, Screening, Vote, AuditEvent)}

    before = counts()
    capsys.readouterr()

    call_command("seed_demo")

    assert counts() == before
    assert before["Record"] == 295 and before["Vote"] == 330
    assert capsys.readouterr().out == (
        "Found the demo project 'Trainee-led IKT scoping review' at "
        "http://127.0.0.1:8000/p/trainee-ikt/\n"
        "  Records: 295 from 3 sources (MEDLINE (Ovid) 140, Embase 130, Google Scholar / grey "
        "literature 25); 40 duplicates removed, 255 to screen.\n"
        "  Title and abstract: 300 votes (ada 150, ben 150), 8 conflicts for lead; 105 records "
        "wait for ada, 105 for ben.\n"
        "  Full text (30 records): 30 votes (ada 15, ben 15), 3 conflicts for lead, 1 not "
        "retrieved; 14 records wait for ada, 14 for ben.\n"
        "Demo accounts (password: tandem-demo):\n"
        "  lead   Lena Lead (lead)\n"
        "  ada    Ada Reviewer (reviewer)\n"
        "  ben    Ben Reviewer (reviewer)\n"
        "  cy     Cy Third-Reviewer (reviewer)\n"
    )


def test_seed_demo_leaves_a_demo_project_with_sources_alone(db, settings):
    settings.DEMO_MODE = True
    from projects.demo import seed_demo

    project, _ = seed_demo()
    Source.objects.create(project=project, name="My own search")

    call_command("seed_demo")

    assert list(Source.objects.values_list("name", flat=True)) == ["My own search"]
    assert Record.objects.count() == 0


_WORDS = re.compile(r"[a-z]{2,}")  # single letters are initials


def test_demo_records_are_of_our_own_making(seeded):
    """No text, name or identifier comes from elsewhere: every word of what was imported is a
    word of the demo module, every DOI has the example prefix, no record has a PMID."""
    vocabulary = set(_WORDS.findall(inspect.getsource(demo).lower()))
    records = Record.objects.filter(project=seeded)

    for record in records:
        text = " ".join([record.title, record.abstract, record.journal, *record.authors,
                         *record.keywords]).lower()
        assert set(_WORDS.findall(text)) <= vocabulary, record.title
        assert record.pmid == ""
        assert record.doi == "" or record.doi.startswith("10.5555/")
        assert record.url == "" or record.url.startswith(("https://theses.example.org/",
                                                          "https://grey.example.org/"))
    # Journal articles have a DOI; conference abstracts, theses and grey literature none.
    assert dict(Counter(records.values_list("publication_type", flat=True))) == {
        "JOUR": 263, "CONF": 7, "THES": 8, "RPRT": 9, "ELEC": 8}
    assert set(records.exclude(doi="").values_list("publication_type", flat=True)) == {"JOUR"}
    assert records.filter(publication_type="JOUR", doi="").count() == 0
    assert len(set(records.filter(duplicate_of__isnull=True).values_list("title", flat=True))
               ) == 255


def test_build_demo_is_deterministic():
    first, second = demo.build_demo(), demo.build_demo()

    assert [s.text for s in first.sources] == [s.text for s in second.sources]
    assert [(s.name, s.size) for s in first.sources] == [
        ("MEDLINE (Ovid)", 140), ("Embase", 130), ("Google Scholar / grey literature", 25)]
    assert Counter(w.fate for w in first.works) == Counter(demo.FATES)
    assert sum(len(w.places) == 2 for w in first.works) == demo.SHARED
