"""The pilot round: its agreement figures against values worked out by hand, the threshold
that opens the main round, and pilot extractions carried into it.

Kappa notation (as screening's agreement tests): po = agreeing items / n; pe = sum over
categories of n_A(c) * n_B(c) / n^2; kappa = (po - pe) / (1 - pe).
"""

from fractions import Fraction

import pytest
from django.urls import reverse

from extraction import agreement, queries, services
from extraction.models import Answer, Assignment, Extraction, Round
from projects.models import AuditEvent
from screening.agreement import PairAgreement
from tests.extraction.steps import REQUIRED, build_form, extract, include_studies, inputs

PILOT = Round.PILOT

# --- the arithmetic -----------------------------------------------------------------------


def test_kappa_over_three_categories_by_hand():
    pairs = [("rct", "rct"), ("rct", "cohort"), ("qual", "qual")]
    # po = 2/3. A: rct 2, qual 1; B: rct 1, cohort 1, qual 1.
    # pe = (2*1 + 0*1 + 1*1) / 9 = 1/3; kappa = (2/3 - 1/3) / (2/3) = 1/2
    assert agreement.identical_share(pairs) == Fraction(2, 3)
    assert agreement.cohen_kappa(pairs) == Fraction(1, 2)


def test_kappa_of_two_categories_is_screenings_2x2_kappa():
    # Screening's textbook table (20, 5, 10, 15): kappa 0.4, as its own tests work out.
    pairs = ([("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10
             + [("no", "no")] * 15)
    assert agreement.cohen_kappa(pairs) == Fraction(2, 5)
    assert float(agreement.cohen_kappa(pairs)) == PairAgreement(1, 2, 20, 5, 10, 15).kappa


def test_kappa_is_undefined_without_variation_or_without_items():
    assert agreement.cohen_kappa([("yes", "yes"), ("yes", "yes")]) is None  # pe = 1
    assert agreement.cohen_kappa([]) is None
    assert agreement.identical_share([]) is None


def test_an_empty_answer_is_a_category_of_its_own():
    pairs = [(None, "yes"), ("yes", "yes"), ("no", "no")]
    # po = 2/3. A: none 1, yes 1, no 1; B: yes 2, no 1. pe = (0 + 1*2 + 1*1) / 9 = 1/3.
    # kappa = (2/3 - 1/3) / (2/3) = 1/2
    assert agreement.cohen_kappa(pairs) == Fraction(1, 2)


def test_multiple_choice_kappa_counts_each_study_and_choice_as_an_item():
    pairs = [(("plan",), ("plan",)), (("plan", "share"), ("plan",)), ((), ())]
    table = agreement.binary_table(pairs, ["plan", "analyse", "share"])
    # 9 items: both ticked 2 (plan twice), A only 1 (share in study 2), neither 6.
    assert (table.both_include, table.a_include_b_exclude, table.a_exclude_b_include,
            table.both_exclude) == (2, 1, 0, 6)
    # po = 8/9; A ticks 3, B 2: pe = (3*2 + 6*7) / 81 = 16/27; kappa = (8/27) / (11/27)
    assert agreement.binary_kappa(pairs, ["plan", "analyse", "share"]) == Fraction(8, 11)
    assert agreement.binary_kappa(pairs, ["plan", "analyse", "share"]) == pytest.approx(
        table.kappa)


def test_below_names_the_fields_under_the_threshold():
    def figures(key, identical, n):
        return agreement.FieldAgreement(key=key, label=key, n=n, identical=identical)

    fields = [figures("a", 4, 5), figures("b", 3, 5), figures("c", 0, 0)]

    assert [f.key for f in agreement.below(fields, 0.8)] == ["b", "c"]
    assert [f.key for f in agreement.below(fields, 0.6)] == ["c"]


# --- the pilot round ----------------------------------------------------------------------


@pytest.fixture
def pilot(cast):
    """Three pilot studies for ada and ben, and a fourth study outside the pilot."""
    form = build_form(cast)
    studies = include_studies(cast, 4)
    services.start_pilot(cast.project, studies=studies[:3], reviewers=[cast.ada, cast.ben],
                         user=cast.lead)
    return form, studies


# The answers of the worked example: per study, ada's then ben's.
ADA = [{"design": "rct", "participants": "12", "engaged": "yes", "activities": ["plan"],
        "dose": "7.50"},
       {"design": "rct", "participants": "30", "engaged": "yes",
        "activities": ["plan", "share"]},
       {"design": "qual", "participants": "8", "engaged": "no"}]
BEN = [{"design": "rct", "participants": "12", "engaged": "yes", "activities": ["plan"],
        "dose": "7.5"},
       {"design": "cohort", "participants": "31", "engaged": "yes", "activities": ["plan"]},
       {"design": "qual", "participants": "8", "engaged": "yes"}]


def run_pilot(cast, studies, *, last_complete=True):
    for i, study in enumerate(studies[:3]):
        extract(cast, study, cast.ada, ADA[i], round=PILOT)
        extract(cast, study, cast.ben, BEN[i], round=PILOT,
                complete=last_complete or i < 2)


def test_pilot_report_per_field_against_hand_computed_figures(cast, pilot):
    form, studies = pilot
    run_pilot(cast, studies)

    report = queries.pilot_report(cast.project)

    assert report.reviewers == [cast.ada, cast.ben]
    assert report.compared == [s.pk for s in studies[:3]]
    figures = {f.key: f for f in report.fields}
    # Design: identical in studies 1 and 3; kappa 1/2 (worked out above).
    assert (figures["design"].identical, figures["design"].n) == (2, 3)
    assert figures["design"].kappa == Fraction(1, 2)
    assert figures["design"].differing == [(studies[1].pk, (("rct", "")), ("cohort", ""))]
    # Engaged: yes/yes, yes/yes, no/yes. po = 2/3; A: yes 2, no 1; B: yes 3;
    # pe = (2*3 + 1*0) / 9 = 2/3; kappa = 0.
    assert (figures["engaged"].identical, figures["engaged"].kappa) == (2, 0)
    # Activities: identical in studies 1 and 3 (both empty); kappa 8/11 over 9 items.
    assert (figures["activities"].identical, figures["activities"].kappa) == (2, Fraction(8, 11))
    # Participants: no kappa for numbers; 7.50 mg and 7.5 mg are the same dose.
    assert (figures["participants"].identical, figures["participants"].kappa_applies) == (
        2, False)
    assert (figures["dose"].identical, figures["dose"].n) == (3, 3)
    assert [f.key for f in report.fields] == ["design", "participants", "dose", "summary",
                                              "country", "started", "engaged", "activities",
                                              "knowledge_users"]


def test_pilot_report_leaves_out_a_study_one_reviewer_has_not_completed(cast, pilot):
    _form, studies = pilot
    run_pilot(cast, studies, last_complete=False)

    report = queries.pilot_report(cast.project)

    assert report.compared == [studies[0].pk, studies[1].pk]
    figures = {f.key: f for f in report.fields}
    assert (figures["engaged"].identical, figures["engaged"].n) == (2, 2)


def test_main_round_waits_for_the_lead_while_a_pilot_is_on(cast, pilot):
    _form, studies = pilot
    services.assign_study(cast.project, studies[3], reviewers=[cast.ada, cast.cy],
                          user=cast.lead)

    with pytest.raises(services.ExtractionError, match="pilot round is on"):
        services.save_answers(cast.project, studies[3], round=Round.MAIN, reviewer=cast.ada,
                              inputs=inputs({"summary": "early"}))

    services.start_main_round(cast.project, user=cast.lead)
    extract(cast, studies[3], cast.ada, {"summary": "now"}, complete=False)
    assert Extraction.objects.filter(round=Round.MAIN).count() == 1


def test_the_threshold_holds_the_main_round_until_every_field_reaches_it(cast, pilot):
    _form, studies = pilot
    services.update_settings(cast.project, user=cast.lead, mode="dual", consensus_by="leads",
                             pilot_threshold=0.8)
    with pytest.raises(services.ExtractionError, match="No pilot study has both"):
        services.start_main_round(cast.project, user=cast.lead)
    run_pilot(cast, studies)

    with pytest.raises(services.ExtractionError) as refused:
        services.start_main_round(cast.project, user=cast.lead)

    assert str(refused.value) == (
        "Agreement is below 80% on 4 fields: Design (67%); Participants (67%); Engaged (67%); "
        "Activities (67%).")
    services.update_settings(cast.project, user=cast.lead, mode="dual", consensus_by="leads",
                             pilot_threshold=0.6)
    assert services.start_main_round(cast.project, user=cast.lead) == 0
    event = AuditEvent.objects.get(action="extraction.main_round")
    assert event.after == {"main_round_started": True, "threshold": 0.6, "carried": []}


def test_pilot_extractions_are_carried_into_the_main_round_as_drafts(cast, pilot):
    _form, studies = pilot
    run_pilot(cast, studies)

    carried = services.start_main_round(cast.project, user=cast.lead, carry=True)

    assert carried == 6
    main = Extraction.objects.filter(round=Round.MAIN).order_by("study_id", "reviewer_id")
    assert [(e.study_id, e.reviewer.username, e.status) for e in main] == [
        (s.pk, who, "draft") for s in studies[:3] for who in ("ada", "ben")]
    copied = main.get(study=studies[1], reviewer=cast.ben)
    assert {a.field.key: a.value for a in copied.answers.select_related("field")} == {
        "design": "cohort", "participants": "31", "engaged": "yes", "activities": ["plan"]}
    assert sorted(Assignment.objects.filter(round=Round.MAIN).values_list(
        "study_id", "reviewer__username")) == [(s.pk, who) for s in studies[:3]
                                               for who in ("ada", "ben")]
    # The pilot keeps its own extractions, complete and read-only.
    assert Extraction.objects.filter(round=PILOT, status="complete").count() == 6
    with pytest.raises(services.ExtractionError, match="main round has started"):
        services.save_answers(cast.project, studies[0], round=PILOT, reviewer=cast.ada,
                              inputs=inputs({"summary": "late"}))
    assert AuditEvent.objects.filter(action="extraction.carry").count() == 6


def test_automatic_assignment_leaves_pilot_studies_for_the_main_round(cast, pilot):
    _form, studies = pilot

    made = services.assign_automatically(cast.project, reviewers=[cast.ada, cast.ben, cast.cy],
                                         user=cast.lead)

    assert made == 2
    assert set(Assignment.objects.filter(round=Round.MAIN).values_list(
        "study_id", flat=True)) == {studies[3].pk}


def test_the_pilot_is_picked_before_anything_is_extracted(cast, pilot):
    _form, studies = pilot
    with pytest.raises(services.ExtractionError, match="two reviewers"):
        services.start_pilot(cast.project, studies=studies[:1], reviewers=[cast.ada],
                             user=cast.lead)
    services.start_pilot(cast.project, studies=studies[1:3], reviewers=[cast.cy, cast.ben],
                         user=cast.lead)  # changed while nothing was extracted
    assert sorted(Assignment.objects.filter(round=PILOT).values_list(
        "study_id", "reviewer__username")) == sorted(
        (s.pk, who) for s in studies[1:3] for who in ("ben", "cy"))

    extract(cast, studies[1], cast.cy, REQUIRED, round=PILOT, complete=False)

    with pytest.raises(services.ExtractionError, match="pilot has started"):
        services.start_pilot(cast.project, studies=studies[:3],
                             reviewers=[cast.ada, cast.ben], user=cast.lead)
    with pytest.raises(services.ExtractionError, match="not assigned to you"):
        services.save_answers(cast.project, studies[1], round=PILOT, reviewer=cast.ada,
                              inputs=inputs({"summary": "x"}))


def test_pilot_answers_open_in_the_log_once_both_are_complete(cast, pilot):
    _form, studies = pilot
    extract(cast, studies[0], cast.ada, ADA[0], round=PILOT)
    assert AuditEvent.objects.filter(action="extraction.answer", sealed=False).count() == 0

    extract(cast, studies[0], cast.ben, BEN[0], round=PILOT)

    assert AuditEvent.objects.filter(action="extraction.answer", sealed=True).count() == 0
    assert Answer.objects.filter(extraction__round=PILOT).count() == 10


# --- the page -----------------------------------------------------------------------------


def test_the_lead_picks_the_pilot_on_the_page(cast, client_for):
    build_form(cast)
    studies = include_studies(cast, 4)
    client = client_for(cast.lead)
    url = reverse("extraction:pilot", args=[cast.project.slug])

    page = client.get(url).content.decode()
    response = client.post(url, {"studies": [str(s.pk) for s in studies[:3]],
                                 "reviewers": [str(cast.ada.pk), str(cast.ben.pk)]})

    # Three studies are ticked by default.
    assert [f'id="pilot-study-{s.pk}" checked' in page for s in studies] == [
        True, True, True, False]
    assert response.status_code == 302
    assert sorted(Assignment.objects.filter(round=PILOT).values_list(
        "study_id", "reviewer__username")) == sorted(
        (s.pk, who) for s in studies[:3] for who in ("ada", "ben"))


def test_the_report_page_shows_the_figures_and_the_differing_answers(cast, client_for, pilot):
    _form, studies = pilot
    run_pilot(cast, studies)

    html = client_for(cast.lead).get(reverse("extraction:pilot",
                                             args=[cast.project.slug])).content.decode()

    assert "3 of 3 studies complete on both sides." in html
    design = html[html.index('<tr data-field="design"'):html.index('<tr data-field="participants"')]
    assert "2 / 3 (67%)" in design
    assert ">0.500<" in design
    assert f"Study {studies[1].pk}</div>" in design
    assert ">RCT<" in design and ">Cohort<" in design
    activities = html[html.index('<tr data-field="activities"'):]
    assert ">0.727<" in activities  # 8/11


def test_starting_the_main_round_from_the_page_carries_the_pilot(cast, client_for, pilot):
    _form, studies = pilot
    run_pilot(cast, studies)

    response = client_for(cast.lead).post(
        reverse("extraction:start_main", args=[cast.project.slug]), {"carry": "1"},
        follow=True)

    assert "6 pilot extractions carried into it as drafts." in response.content.decode()
    assert Extraction.objects.filter(round=Round.MAIN).count() == 6


def test_the_page_says_which_fields_hold_the_main_round_back(cast, client_for, pilot):
    _form, studies = pilot
    run_pilot(cast, studies)
    services.update_settings(cast.project, user=cast.lead, mode="dual", consensus_by="leads",
                             pilot_threshold=0.9)

    response = client_for(cast.lead).post(
        reverse("extraction:start_main", args=[cast.project.slug]), follow=True)

    html = response.content.decode()
    assert "Agreement is below 90% on 4 fields: Design (67%)" in html
    assert html.count('class="table-danger"') == 4
    assert not services.settings_for(cast.project).main_round_started
