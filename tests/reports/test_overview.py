"""The project overview: screening progress per stage, conflicts waiting, the week's votes per
reviewer (blind for reviewers), extraction and coding progress, and the recent activity a
member may read; exact numbers on small generated projects, and a fixed number of queries."""

import re
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from extraction.models import ExtractionSettings, FormVersion, Round
from frameworks.models import StudyCoding
from projects import services as project_services
from projects.models import Membership
from references import services as ref_services
from reports import overview
from screening import queries, services
from screening.models import Screening, Stage, Vote
from tests.extraction.steps import include_studies
from tests.factories import (
    ExtractionFactory,
    ExtractionFormFactory,
    FormVersionFactory,
    JobFactory,
    RecordFactory,
    SourceFactory,
)

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
URL = reverse("reports:overview", args=["ikt"])


def vote(record, who, decision, stage=TA, reason=""):
    services.record_vote(record, stage=stage, reviewer=who, decision=decision, reason=reason)


def both(record, cast, decision, stage=TA, reason=""):
    vote(record, cast.ada, decision, stage, reason)
    vote(record, cast.ben, decision, stage, reason)


def membership(cast, user):
    found = Membership.objects.select_related("user").get(project=cast.project, user=user)
    return found


def screening_flow(cast):
    """Eight records in the flow and a duplicate: at title and abstract 4 to full text, 1
    excluded, 1 conflict, 2 open (one with a vote); at full text 1 included, 1 excluded,
    1 not retrieved, 1 conflict."""
    r = RecordFactory.create_batch(8, project=cast.project)
    duplicate = RecordFactory(project=cast.project)
    duplicate.duplicate_of = r[6]
    duplicate.save()
    for record in (r[0], r[1], r[2], r[7]):
        both(record, cast, "include")
    both(r[3], cast, "exclude")
    vote(r[4], cast.ada, "include")
    vote(r[4], cast.ben, "exclude")
    vote(r[5], cast.ada, "include")
    both(r[0], cast, "include", FT)
    vote(r[1], cast.ada, "include", FT)
    vote(r[1], cast.ben, "exclude", FT, reason="Wrong design")
    services.set_full_text(r[2], user=cast.lead, not_retrieved=True)
    both(r[7], cast, "exclude", FT, reason="Wrong design")
    return r


def studies_of(cast):
    return overview.included_study_ids(cast.project)


def counts_on_page(html, section_id):
    """{data-count: number} inside the element with `section_id`."""
    section = html.split(f'id="{section_id}"', 1)[1].split("</section>", 1)[0]
    return {key: int(n) for key, n in
            re.findall(r'data-count="([a-z_]+)">(\d+)<', section)}


# --- Screening progress and conflicts -----------------------------------------------------

def test_screening_progress_counts_each_stage(cast):
    screening_flow(cast)

    ta, ft = overview.screening_progress(cast.project, membership(cast, cast.viewer))

    assert ta.counts == {"records": 8, "open": 2, "conflict": 1, "included": 4, "excluded": 1,
                         "not_retrieved": 0, "settled": 5}
    assert ta.done == 5
    assert [(s.key, s.n, s.width) for s in ta.segments] == [
        ("included", 4, "50.0"), ("excluded", 1, "12.5"), ("conflict", 1, "12.5"),
        ("open", 2, "25.0")]
    assert ft.counts == {"records": 4, "open": 0, "conflict": 1, "included": 1, "excluded": 1,
                         "not_retrieved": 1, "settled": 2}
    assert ft.done == 3
    assert [(s.key, s.n, s.width) for s in ft.segments] == [
        ("included", 1, "25.0"), ("excluded", 1, "25.0"), ("not_retrieved", 1, "25.0"),
        ("conflict", 1, "25.0"), ("open", 0, "0.0")]


def test_both_stage_counts_equal_stage_counts_in_every_state(cast):
    r = screening_flow(cast)
    experts = SourceFactory(project=cast.project, name="Experts", kind="other",
                            method="other", starts_at_full_text=True)
    e = RecordFactory.create_batch(3, project=cast.project, source=experts)
    both(e[0], cast, "include", FT)
    vote(e[1], cast.ada, "exclude", FT, reason="Wrong design")
    removed = RecordFactory(project=cast.project)
    ref_services.remove_before_screening(cast.project, [removed.pk], reason="automation",
                                         user=cast.lead)
    lead = membership(cast, cast.lead)
    lead.user = cast.lead
    row = Screening.objects.select_related("project").get(record=r[3], stage=TA)
    services.reopen(row, membership=lead)  # excluded, then back to its votes: a conflict

    counts = overview.both_stage_counts(cast.project)

    assert counts == {stage: queries.stage_counts(cast.project, stage) for stage in (TA, FT)}
    assert counts[TA] == {"records": 8, "open": 2, "conflict": 2, "included": 4,
                          "excluded": 0, "not_retrieved": 0, "settled": 4}
    assert counts[FT] == {"records": 7, "open": 2, "conflict": 1, "included": 2,
                          "excluded": 1, "not_retrieved": 1, "settled": 3}


def test_screening_progress_of_an_empty_project_is_all_zero(cast):
    ta, ft = overview.screening_progress(cast.project, membership(cast, cast.lead))

    assert (ta.counts["records"], ta.done, [s.width for s in ta.segments]) == (
        0, 0, ["0", "0", "0", "0"])
    assert (ft.counts["records"], ft.done) == (0, 0)


def test_overview_page_shows_the_stage_bars_and_conflicts(cast, client_for):
    screening_flow(cast)

    page = client_for(cast.viewer).get(URL).text

    assert counts_on_page(page, "progress-title_abstract") == {
        "records": 8, "done": 5, "included": 4, "excluded": 1, "conflict": 1, "open": 2}
    assert counts_on_page(page, "progress-full_text") == {
        "records": 4, "done": 3, "included": 1, "excluded": 1, "not_retrieved": 1,
        "conflict": 1, "open": 0}
    assert 'style="width: 50.0%" title="To full text: 4"' in page
    waiting = page.split('id="conflicts-waiting"', 1)[1].split("</ul>", 1)[0]
    assert re.findall(r'data-count="([a-z_]+)">(\d+)<', waiting) == [
        ("title_abstract", "1"), ("full_text", "1")]


def test_conflicts_link_to_their_page_for_leads_only(cast, client_for):
    screening_flow(cast)
    ta_conflicts = reverse("screening:conflicts", args=["ikt", TA])
    ft_conflicts = reverse("screening:conflicts", args=["ikt", FT])

    lead_page = client_for(cast.lead).get(URL).text
    reviewer_page = client_for(cast.ada).get(URL).text
    viewer_page = client_for(cast.viewer).get(URL).text

    assert f'href="{ta_conflicts}"' in lead_page and f'href="{ft_conflicts}"' in lead_page
    for page in (reviewer_page, viewer_page):
        assert ta_conflicts not in page and ft_conflicts not in page


def test_conflicts_link_for_reviewers_where_any_non_voter_resolves(cast, client_for):
    screening_flow(cast)
    settings = services.settings_for(cast.project, FT)
    services.update_settings(settings, user=cast.lead, resolver="non_voters")

    reviewer_page = client_for(cast.cy).get(URL).text
    viewer_page = client_for(cast.viewer).get(URL).text

    assert f'href="{reverse("screening:conflicts", args=["ikt", FT])}"' in reviewer_page
    assert reverse("screening:conflicts", args=["ikt", TA]) not in reviewer_page
    assert reverse("screening:conflicts", args=["ikt", FT]) not in viewer_page


# --- Throughput ---------------------------------------------------------------------------

def test_throughput_counts_the_last_seven_days_per_reviewer_and_stage(cast):
    screening_flow(cast)
    old = Vote.objects.filter(reviewer=cast.ada, screening__stage=TA).order_by("id").first()
    Vote.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    team = list(Membership.objects.filter(project=cast.project).select_related("user")
                .order_by("user__username"))

    rows = overview.throughput(cast.project, membership(cast, cast.lead), team)

    assert [(str(row.user), row.title_abstract, row.full_text, row.total) for row in rows] == [
        ("Ada", 6, 3, 9), ("Ben", 6, 3, 9), ("Cy", 0, 0, 0), ("Lena Lead", 0, 0, 0)]


def test_throughput_shows_a_reviewer_their_own_row_only(cast, client_for):
    screening_flow(cast)

    page = client_for(cast.ada).get(URL).text
    rows = client_for(cast.ada).get(URL).context["throughput"]

    assert [(row.user.username, row.title_abstract, row.full_text) for row in rows] == [
        ("ada", 7, 3)]
    assert 'data-reviewer="ada"' in page
    assert 'data-reviewer="ben"' not in page and 'data-reviewer="lead"' not in page
    assert "your own (only leads see the team" in page


def test_throughput_shows_leads_everyone_and_viewers_no_one(cast, client_for):
    screening_flow(cast)

    lead_page = client_for(cast.lead).get(URL).text
    viewer_response = client_for(cast.viewer).get(URL)

    table = lead_page.split('id="throughput"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'data-reviewer="(\w+)"><td>[^<]+</td><td class="text-end" '
                      r'data-count="title_abstract">(\d+)</td><td class="text-end" '
                      r'data-count="full_text">(\d+)</td>', table) == [
        ("ada", "7", "3"), ("ben", "6", "3"), ("cy", "0", "0"), ("lead", "0", "0")]
    assert viewer_response.context["throughput"] == []
    assert "data-reviewer=" not in viewer_response.text
    assert "Only leads see the team's votes" in viewer_response.text


# --- Extraction and coding ----------------------------------------------------------------

def extraction_states(cast):
    """Four included studies, main round: none, a draft, two complete, two complete and a
    consensus; a pilot extraction and a study that is not included do not count."""
    s = include_studies(cast, n=4)
    version = FormVersionFactory(form=ExtractionFormFactory(project=cast.project))

    def extraction(study, who, status="draft", role="extractor", round=Round.MAIN):
        ExtractionFactory(study=study, project=cast.project, reviewer=who, version=version,
                          status=status, role=role, round=round)

    extraction(s[0], cast.ada, "complete", round=Round.PILOT)
    extraction(s[1], cast.ada)
    extraction(s[2], cast.ada, "complete")
    extraction(s[2], cast.ben, "complete")
    extraction(s[3], cast.ada, "complete")
    extraction(s[3], cast.ben, "complete")
    extraction(s[3], cast.lead, "complete", role="consensus")
    not_included = RecordFactory(project=cast.project)
    extraction(not_included.study, cast.ada, "complete")
    return s, not_included.study


def test_extraction_progress_counts_included_studies_by_status(cast):
    extraction_states(cast)

    progress = overview.extraction_progress(cast.project, studies_of(cast))

    assert progress.total == 4
    assert [(s.key, s.n, s.width) for s in progress.segments] == [
        ("not_started", 1, "25.0"), ("in_progress", 1, "25.0"),
        ("awaiting_consensus", 1, "25.0"), ("complete", 1, "25.0")]


def test_extraction_progress_in_single_mode_completes_with_one_extraction(cast):
    extraction_states(cast)
    ExtractionSettings.objects.create(project=cast.project, mode=ExtractionSettings.Mode.SINGLE)

    progress = overview.extraction_progress(cast.project, studies_of(cast))

    assert [(s.key, s.n) for s in progress.segments] == [
        ("not_started", 1), ("in_progress", 1), ("awaiting_consensus", 0), ("complete", 2)]


def test_coding_progress_counts_included_studies_by_status(cast):
    s, not_included = extraction_states(cast)
    Status = StudyCoding.Status
    for study, status in [(s[0], Status.NOT_STARTED), (s[1], Status.CODED),
                          (s[2], Status.VERIFIED), (s[3], Status.DISPUTED),
                          (not_included, Status.CODED)]:
        StudyCoding.objects.create(project=cast.project, study=study, status=status)

    progress = overview.coding_progress(cast.project, studies_of(cast))

    assert progress.total == 4
    assert [(seg.key, seg.n, seg.width) for seg in progress.segments] == [
        ("not_started", 1, "25.0"), ("coded", 1, "25.0"), ("verified", 1, "25.0"),
        ("disputed", 1, "25.0")]


def test_coding_progress_counts_a_study_without_a_coding_row_as_not_started(cast, client_for):
    s, _ = extraction_states(cast)
    StudyCoding.objects.create(project=cast.project, study=s[1],
                               status=StudyCoding.Status.VERIFIED)

    page = client_for(cast.viewer).get(URL).text

    assert counts_on_page(page, "progress-coding") == {
        "studies": 4, "not_started": 3, "coded": 0, "verified": 1, "disputed": 0}
    assert counts_on_page(page, "progress-extraction") == {
        "studies": 4, "not_started": 1, "in_progress": 1, "awaiting_consensus": 1,
        "complete": 1}


# --- Recent activity ----------------------------------------------------------------------

def activity_with_leaks(cast):
    """A settled record (ada's and ben's votes unsealed), ben's sealed vote on an open
    record, an invitation with its address and a project edit."""
    settled, open_record = RecordFactory.create_batch(2, project=cast.project)
    both(settled, cast, "include")
    vote(open_record, cast.ben, "exclude")
    project_services.invite_member(cast.project, email="kim@example.org", role="reviewer",
                                   user=cast.lead)
    project_services.update_project(cast.project, user=cast.lead, description="Updated.")
    return settled, open_record


def seen(events):
    return [(str(e.actor.username) if e.actor else None, e.action) for e in events]


def test_recent_activity_of_a_lead_is_the_activity_page_without_sealed_events(cast):
    activity_with_leaks(cast)

    events = overview.recent_activity(cast.project, membership(cast, cast.lead))

    assert seen(events) == [
        ("lead", "project.update"), ("lead", "invitation.create"),
        (None, "screening.settle"), ("ben", "vote.cast"), ("ada", "vote.cast")]


def test_recent_activity_hides_others_votes_and_invitations_from_reviewers(cast, client_for):
    activity_with_leaks(cast)

    events = overview.recent_activity(cast.project, membership(cast, cast.ada))
    ben_events = overview.recent_activity(cast.project, membership(cast, cast.ben))
    viewer_events = overview.recent_activity(cast.project, membership(cast, cast.viewer))
    page = client_for(cast.ada).get(URL).text

    assert seen(events) == [("lead", "project.update"), (None, "screening.settle"),
                            ("ada", "vote.cast")]
    assert seen(ben_events) == [("lead", "project.update"), ("ben", "vote.cast"),
                                (None, "screening.settle"), ("ben", "vote.cast")]
    assert seen(viewer_events) == [("lead", "project.update"), (None, "screening.settle")]
    assert "kim@example.org" not in page
    assert reverse("projects:activity", args=["ikt"]) not in page


def test_recent_activity_lists_the_newest_ten_with_a_link_for_leads(cast, client_for):
    for i in range(12):
        project_services.update_project(cast.project, user=cast.lead, description=f"Step {i}")

    response = client_for(cast.lead).get(URL)

    events = response.context["activity"]
    assert [e.after["description"] for e in events] == [f"Step {i}" for i in range(11, 1, -1)]
    assert f'href="{reverse("projects:activity", args=["ikt"])}"' in response.text


def test_recent_activity_escapes_what_it_shows(cast, client_for):
    project_services.update_project(cast.project, user=cast.lead, name="<b>Bold</b> review")

    page = client_for(cast.ada).get(URL).text

    assert "&lt;b&gt;Bold&lt;/b&gt; review" in page and "<b>Bold</b>" not in page


# --- The page -----------------------------------------------------------------------------

def test_overview_keeps_the_team_jobs_and_criteria(cast, client_for):
    cast.project.inclusion_criteria = "Trainee-led research"
    cast.project.save()
    job = JobFactory(project=cast.project, label="Project health check")

    page = client_for(cast.viewer).get(URL).text

    assert "Trainee-led research" in page
    assert "Vic Viewer <span class=\"text-body-secondary\">· Viewer</span>" in page
    assert f"Project health check #{job.pk}</a>" in page


def test_overview_is_404_for_an_outsider(cast, client_for):
    assert client_for(cast.outsider).get(URL).status_code == 404


def test_overview_is_only_read(cast, client_for):
    assert client_for(cast.lead).post(URL).status_code == 405


def fill(cast, n):
    """`n` of everything the overview counts or lists: records screened to inclusion (with
    their votes and audit events), open and conflicting records, extractions, codings, jobs
    and members."""
    studies = include_studies(cast, n=n, title=f"Study of {n}")
    version = FormVersion.objects.filter(form__project=cast.project).first() or \
        FormVersionFactory(form=ExtractionFormFactory(project=cast.project))
    for i, study in enumerate(studies):
        ExtractionFactory(study=study, project=cast.project, reviewer=cast.ada, version=version,
                          status="complete")
        StudyCoding.objects.create(project=cast.project, study=study,
                                   status=StudyCoding.Status.CODED)
        JobFactory(project=cast.project)
        conflict = RecordFactory(project=cast.project)
        vote(conflict, cast.ada, "include")
        vote(conflict, cast.ben, "exclude")
        vote(RecordFactory(project=cast.project), cast.cy, "include")
        project_services.invite_member(cast.project, email=f"guest{n}-{i}@example.org",
                                       role="reviewer", user=cast.lead)


def test_overview_query_count_does_not_grow(cast, client_for):
    fill(cast, 1)
    for user in (cast.lead, cast.ada, cast.viewer):
        client_for(user).get(URL)  # warm: stage settings made once
    counts = {}
    for n in (1, 3):
        if n == 3:
            fill(cast, 2)
        for user in (cast.lead, cast.ada, cast.viewer):
            client = client_for(user)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(URL)
            assert response.status_code == 200
            counts[(n, user.username)] = len(queries)

    assert response.context["extraction"].total == 3
    for user in ("lead", "ada", "viewer"):
        assert counts[(1, user)] == counts[(3, user)], counts
