"""Extracting: which studies, who extracts them, drafts that keep every valid answer,
completion with messages at the fields, holds, versions, settings and the extraction screen."""

import pytest
from django.urls import reverse

from extraction import forms_builder as builder
from extraction import queries, services
from extraction.forms_builder import FieldSpec
from extraction.models import Answer, Assignment, Extraction, ExtractionSettings, Round
from extraction.queries import StudyStatus
from projects.models import AuditEvent
from references import services as references
from references.holds import Hold
from references.models import Record
from tests.extraction.steps import (
    REQUIRED,
    build_form,
    exclude_at_full_text,
    extract,
    include_studies,
    inputs,
    membership,
    pair,
)
from tests.factories import MembershipFactory, UserFactory

MAIN = Round.MAIN


# --- which studies ------------------------------------------------------------------------


def test_studies_to_extract_are_the_included_studies_in_study_order(cast):
    included = include_studies(cast, 2)
    from tests.factories import RecordFactory

    RecordFactory(project=cast.project)  # never screened: not extracted

    assert [s.pk for s in queries.studies_to_extract(cast.project)] == [s.pk for s in included]


def test_a_study_excluded_again_leaves_the_list_and_keeps_its_extractions(cast):
    form = build_form(cast)
    first, second = include_studies(cast, 2)
    pair(cast, first)
    extract(cast, first, cast.ada, REQUIRED, complete=False)

    exclude_at_full_text(cast, first)

    assert [s.pk for s in queries.studies_to_extract(cast.project)] == [second.pk]
    kept = Extraction.objects.get(study=first, reviewer=cast.ada)
    assert {a.field.key: a.value for a in kept.answers.select_related("field")} == {
        "design": "rct", "participants": "12", "engaged": "yes"}
    with pytest.raises(services.ExtractionError, match="no longer included"):
        services.save_answers(cast.project, first, round=MAIN, reviewer=cast.ada,
                              inputs=inputs({"participants": "13"}))
    assert Answer.objects.get(extraction=kept, field=form.participants).value == "12"


# --- assignments --------------------------------------------------------------------------


def test_automatic_assignment_balances_load_and_never_gives_a_study_twice_to_one(cast):
    studies = include_studies(cast, 5)

    made = services.assign_automatically(cast.project, reviewers=[cast.ada, cast.ben, cast.cy],
                                         user=cast.lead)

    assert made == 10
    pairs = queries.round_assignments(cast.project, MAIN)
    by_study = {s.pk: sorted(a.reviewer.username for a in pairs[s.pk]) for s in studies}
    # Slot by slot to the least loaded (ties: lowest id, ada < ben < cy): ada+ben, cy+ada,
    # ben+cy, ada+ben, cy+ada.
    assert list(by_study.values()) == [["ada", "ben"], ["ada", "cy"], ["ben", "cy"],
                                       ["ada", "ben"], ["ada", "cy"]]
    load = {name: sum(name in names for names in by_study.values())
            for name in ("ada", "ben", "cy")}
    assert load == {"ada": 4, "ben": 3, "cy": 3}
    event = AuditEvent.objects.get(action="extraction.assign_auto")
    assert event.after == {"assignments": 10, "studies": 5,
                           "per_reviewer": {"ada": 4, "ben": 3, "cy": 3}}


def test_automatic_assignment_keeps_existing_ones_and_fills_the_gaps(cast):
    first, second = include_studies(cast, 2)
    pair(cast, first, [cast.cy])

    made = services.assign_automatically(cast.project, reviewers=[cast.ada, cast.ben],
                                         user=cast.lead)

    assert made == 3
    pairs = queries.round_assignments(cast.project, MAIN)
    assert sorted(a.reviewer.username for a in pairs[first.pk]) == ["ada", "cy"]
    assert sorted(a.reviewer.username for a in pairs[second.pk]) == ["ada", "ben"]
    assert services.assign_automatically(cast.project, reviewers=[cast.ada, cast.ben],
                                         user=cast.lead) == 0


def test_single_mode_assigns_one_extractor_per_study(cast):
    include_studies(cast, 3)
    services.update_settings(cast.project, user=cast.lead, mode="single", consensus_by="leads")

    made = services.assign_automatically(cast.project, reviewers=[cast.ada, cast.ben],
                                         user=cast.lead)

    assert made == 3
    assert list(Assignment.objects.order_by("study_id").values_list(
        "reviewer__username", flat=True)) == ["ada", "ben", "ada"]


def test_automatic_assignment_needs_enough_reviewers_who_extract(cast):
    include_studies(cast, 1)

    with pytest.raises(services.ExtractionError, match="needs 2 extractors"):
        services.assign_automatically(cast.project, reviewers=[cast.ada], user=cast.lead)
    with pytest.raises(services.ExtractionError, match="Vic Viewer is not a reviewer"):
        services.assign_automatically(cast.project, reviewers=[cast.ada, cast.viewer],
                                      user=cast.lead)
    assert Assignment.objects.count() == 0


def test_assign_pair_gives_the_next_unassigned_studies(cast):
    studies = include_studies(cast, 4)
    pair(cast, studies[0], [cast.cy, cast.lead])

    assigned = services.assign_pair(cast.project, reviewers=[cast.ada, cast.ben], count=2,
                                    user=cast.lead)

    assert assigned == 2
    pairs = queries.round_assignments(cast.project, MAIN)
    assert {s: sorted(a.reviewer.username for a in found) for s, found in pairs.items()} == {
        studies[0].pk: ["cy", "lead"], studies[1].pk: ["ada", "ben"],
        studies[2].pk: ["ada", "ben"]}


def test_a_reviewer_who_started_keeps_their_assignment(cast):
    build_form(cast)
    (study,) = include_studies(cast, 1)
    pair(cast, study)
    extract(cast, study, cast.ada, {"summary": "started"}, complete=False)

    with pytest.raises(services.ExtractionError, match="Ada has started extracting"):
        services.assign_study(cast.project, study, reviewers=[cast.cy, cast.ben],
                              user=cast.lead)
    services.assign_study(cast.project, study, reviewers=[cast.ada, cast.cy], user=cast.lead)

    assert sorted(Assignment.objects.values_list("reviewer__username", flat=True)) == [
        "ada", "cy"]
    event = AuditEvent.objects.filter(action="extraction.assign").latest("id")
    assert (event.before, event.after) == ({"round": "main", "reviewers": ["ada", "ben"]},
                                           {"round": "main", "reviewers": ["ada", "cy"]})


def test_a_study_has_at_most_two_extractors_and_one_person_once(cast):
    (study,) = include_studies(cast, 1)

    with pytest.raises(services.ExtractionError, match="at most 2 extractors"):
        pair(cast, study, [cast.ada, cast.ben, cast.cy])
    with pytest.raises(services.ExtractionError, match="one person cannot extract"):
        pair(cast, study, [cast.ada, cast.ada])


# --- drafts -------------------------------------------------------------------------------


def test_every_field_type_is_saved_as_its_stored_value(cast):
    form = build_form(cast)
    (study,) = include_studies(cast, 1)
    pair(cast, study)

    extraction, errors = services.save_answers(cast.project, study, round=MAIN,
                                               reviewer=cast.ada, inputs=inputs({
        "design": services.AnswerInput(raw="__other__", other=" Stepped wedge "),
        "participants": "0042", "dose": "7.50", "summary": "Line one\r\nLine two",
        "engaged": "Unclear", "activities": ["share", "plan"], "country": "canada",
        "started": "2019-03-31",
        "knowledge_users": [{"user_type": "patient", "role": "Advisor"},
                            {"user_type": "", "role": ""},
                            {"user_type": "clinician", "role": ""}]}))

    assert errors == {}
    stored = {a.field.key: (a.value, a.other)
              for a in extraction.answers.select_related("field")}
    assert stored == {
        "design": ("__other__", "Stepped wedge"), "participants": ("42", ""),
        "dose": ("7.50", ""), "summary": ("Line one\nLine two", ""),
        "engaged": ("unclear", ""), "activities": (["plan", "share"], ""),
        "country": ("CA", ""), "started": ("2019-03-31", ""),
        "knowledge_users": ([{"user_type": "patient", "role": "Advisor"},
                             {"user_type": "clinician"}], "")}
    assert extraction.version.number == form.form.version


def test_a_draft_keeps_every_valid_answer_and_names_each_invalid_one(cast):
    form = build_form(cast)
    (study,) = include_studies(cast, 1)
    pair(cast, study)
    extract(cast, study, cast.ada, {"participants": "12"}, complete=False)

    extraction, errors = services.save_answers(cast.project, study, round=MAIN,
                                               reviewer=cast.ada, inputs=inputs({
        "participants": "twelve", "dose": "3.5", "started": "2019-02-30",
        "knowledge_users": [{"user_type": "nobody"}]}))

    assert errors == {"participants": "Enter a whole number, such as 42.",
                      "started": "2019-02-30 is not a date in the calendar.",
                      "knowledge_users": "Row 1, User type: Choose one of the options."}
    assert {a.field_id: a.value for a in extraction.answers.all()} == {
        form.participants.pk: "12", form.dose.pk: "3.5"}


def test_each_saved_answer_is_logged_with_before_and_after_sealed_to_its_author(cast):
    (study,) = include_studies(cast, 1)
    build_form(cast)
    pair(cast, study)

    extract(cast, study, cast.ada, {"participants": services.AnswerInput(
        raw="12", quote="Twelve trainees took part", page="4")}, complete=False)
    extract(cast, study, cast.ada, {"participants": "14"}, complete=False)
    extract(cast, study, cast.ada, {"participants": "14"}, complete=False)  # no change

    events = list(AuditEvent.objects.filter(action="extraction.answer").order_by("id"))
    assert [(e.actor, e.before, e.after, e.sealed) for e in events] == [
        (cast.ada, None, {"field": "participants", "value": "12", "other": "",
                          "quote": "Twelve trainees took part", "page": "4"}, True),
        (cast.ada, {"field": "participants", "value": "12", "other": "",
                    "quote": "Twelve trainees took part", "page": "4"},
         {"field": "participants", "value": "14", "other": "", "quote": "", "page": ""},
         True)]


def test_clearing_an_answer_removes_it_and_logs_it(cast):
    (study,) = include_studies(cast, 1)
    build_form(cast)
    pair(cast, study)
    extraction = extract(cast, study, cast.ada, {"summary": "Draft words"}, complete=False)

    extract(cast, study, cast.ada, {"summary": ""}, complete=False)

    assert extraction.answers.count() == 0
    event = AuditEvent.objects.filter(action="extraction.answer").latest("id")
    assert (event.before["value"], event.after) == ("Draft words", None)


def test_nothing_is_made_until_something_is_typed(cast):
    (study,) = include_studies(cast, 1)
    build_form(cast)
    pair(cast, study)

    extraction, errors = services.save_answers(cast.project, study, round=MAIN,
                                               reviewer=cast.ada,
                                               inputs=inputs({"summary": "  "}))

    assert (extraction, errors) == (None, {})
    assert Extraction.objects.count() == 0


def test_a_study_not_assigned_to_the_reviewer_is_refused(cast):
    (study,) = include_studies(cast, 1)
    build_form(cast)
    pair(cast, study)

    with pytest.raises(services.ExtractionError, match="not assigned to you"):
        services.save_answers(cast.project, study, round=MAIN, reviewer=cast.cy,
                              inputs=inputs({"summary": "x"}))
    assert Extraction.objects.count() == 0


def test_the_first_extraction_holds_the_studys_records(cast):
    (study,) = include_studies(cast, 1)
    build_form(cast)
    pair(cast, study)
    record = study.records.get()
    other = include_studies(cast, 1)[0].records.get()

    extract(cast, study, cast.ada, {"summary": "x"}, complete=False)

    assert Record.objects.get(pk=record.pk).hold == Hold.SCREENING | Hold.EXTRACTION
    with pytest.raises(references.ServiceError, match="has an extraction"):
        references.link_to_study(other, study_of=record, user=cast.lead)


def test_a_draft_moves_to_the_forms_new_version_and_a_complete_one_stays(cast):
    form = build_form(cast)
    first, second = include_studies(cast, 2)
    pair(cast, first)
    pair(cast, second)
    done = extract(cast, first, cast.ada, REQUIRED)
    draft = extract(cast, second, cast.ada, {"summary": "v1"}, complete=False)
    assert (done.version.number, draft.version.number) == (1, 1)

    builder.update_field(form.summary, spec=FieldSpec(label="Summary of the study",
                                                      type="long_text"), user=cast.lead)
    extract(cast, second, cast.ada, {"summary": "v2"}, complete=False)

    done.refresh_from_db()
    draft.refresh_from_db()
    assert (done.version.number, draft.version.number) == (1, 2)


# --- completion ---------------------------------------------------------------------------


def test_completion_checks_required_fields_with_the_message_at_each(cast):
    build_form(cast)
    (study,) = include_studies(cast, 1)
    pair(cast, study)
    extract(cast, study, cast.ada, {
        "design": "__other__", "knowledge_users": [{"role": "Advisor"}]}, complete=False)

    with pytest.raises(services.Invalid) as refused:
        services.complete_extraction(cast.project, study, round=MAIN, reviewer=cast.ada)

    assert refused.value.errors == {
        "design": "Say what the other answer is.",
        "participants": "This field is required.",
        "engaged": "This field is required.",
        "knowledge_users": "Row 1, User type: this column is required."}
    assert Extraction.objects.get(reviewer=cast.ada).status == "draft"
    assert not AuditEvent.objects.filter(action="extraction.complete").exists()


def test_a_complete_extraction_is_read_only_until_its_extractor_reopens_it(cast):
    build_form(cast)
    (study,) = include_studies(cast, 1)
    pair(cast, study)
    extraction = extract(cast, study, cast.ada, REQUIRED)
    assert (extraction.status, extraction.completed_at is not None) == ("complete", True)
    event = AuditEvent.objects.get(action="extraction.complete")
    assert (event.actor, event.before, event.after) == (
        cast.ada, {"status": "draft"}, {"status": "complete", "version": 1})

    with pytest.raises(services.ExtractionError, match="reopen it to change"):
        services.save_answers(cast.project, study, round=MAIN, reviewer=cast.ada,
                              inputs=inputs({"participants": "13"}))
    services.reopen_extraction(cast.project, study, round=MAIN, reviewer=cast.ada)
    extract(cast, study, cast.ada, {"participants": "13"}, complete=False)

    assert Answer.objects.get(extraction=extraction, field__key="participants").value == "13"
    assert Extraction.objects.get(pk=extraction.pk).status == "draft"


def test_statuses_follow_the_study_from_not_started_to_complete(cast):
    build_form(cast)
    (study,) = include_studies(cast, 1)
    pair(cast, study)

    def status():
        found = queries.round_extractions(cast.project, MAIN).get(study.pk, [])
        return queries.status_of(found, mode="dual", round=MAIN)

    assert status() == StudyStatus.NOT_STARTED
    extract(cast, study, cast.ada, REQUIRED)
    assert status() == StudyStatus.IN_PROGRESS
    extract(cast, study, cast.ben, REQUIRED)
    assert status() == StudyStatus.AWAITING_CONSENSUS
    services.save_consensus(cast.project, study, membership=membership(cast, cast.lead),
                            decisions={}, base="", complete=True)
    assert status() == StudyStatus.COMPLETE


def test_in_single_mode_the_one_complete_extraction_is_the_studys_data(cast):
    build_form(cast)
    (study,) = include_studies(cast, 1)
    services.update_settings(cast.project, user=cast.lead, mode="single", consensus_by="leads")
    pair(cast, study, [cast.ada])

    extract(cast, study, cast.ada, REQUIRED)

    found = queries.round_extractions(cast.project, MAIN)[study.pk]
    assert queries.status_of(found, mode="single", round=MAIN) == StudyStatus.COMPLETE
    table = queries.extraction_table(cast.project)
    assert [(row.study.pk, row.extraction.reviewer_id) for row in table.rows] == [
        (study.pk, cast.ada.pk)]
    # Its answers are nobody's secret any more: the log opens them.
    assert not AuditEvent.objects.filter(action="extraction.answer", sealed=True).exists()
    with pytest.raises(services.ExtractionError, match="Single mode"):
        services.save_consensus(cast.project, study, membership=membership(cast, cast.lead),
                                decisions={}, base="", complete=True)


# --- settings -----------------------------------------------------------------------------


def test_settings_change_is_logged_and_dual_to_single_drops_second_assignments(cast):
    studies = include_studies(cast, 2)
    for study in studies:
        pair(cast, study)

    services.update_settings(cast.project, user=cast.lead, mode="single", consensus_by="third",
                             third_reviewer=cast.cy, pilot_threshold=0.8)

    settings = ExtractionSettings.objects.get(project=cast.project)
    assert (settings.mode, settings.consensus_by, settings.third_reviewer,
            settings.pilot_threshold) == ("single", "third", cast.cy, 0.8)
    assert sorted(Assignment.objects.values_list("study_id", "reviewer__username")) == [
        (studies[0].pk, "ada"), (studies[1].pk, "ada")]
    event = AuditEvent.objects.get(action="extraction.settings")
    assert (event.before, event.after) == (
        {"mode": "dual", "consensus_by": "leads", "third_reviewer": None,
         "pilot_threshold": None},
        {"mode": "single", "consensus_by": "third", "third_reviewer": "cy",
         "pilot_threshold": 0.8, "assignments_dropped": 2})


def test_the_mode_is_fixed_once_main_round_extraction_has_started(cast):
    build_form(cast)
    (study,) = include_studies(cast, 1)
    pair(cast, study)
    extract(cast, study, cast.ada, {"summary": "x"}, complete=False)

    with pytest.raises(services.ExtractionError, match="mode can no longer change"):
        services.update_settings(cast.project, user=cast.lead, mode="single",
                                 consensus_by="leads")
    assert ExtractionSettings.objects.get(project=cast.project).mode == "dual"


def test_a_third_reviewer_must_be_named_and_be_a_member_who_extracts(cast):
    with pytest.raises(services.ExtractionError, match="Choose the third reviewer"):
        services.update_settings(cast.project, user=cast.lead, mode="dual",
                                 consensus_by="third")
    stranger = UserFactory(username="stranger")
    with pytest.raises(services.ExtractionError, match="not a reviewer or lead"):
        services.update_settings(cast.project, user=cast.lead, mode="dual",
                                 consensus_by="third", third_reviewer=stranger)
    MembershipFactory(project=cast.project, user=stranger, role="viewer")
    with pytest.raises(services.ExtractionError, match="not a reviewer or lead"):
        services.update_settings(cast.project, user=cast.lead, mode="dual",
                                 consensus_by="third", third_reviewer=stranger)


# --- the pages ----------------------------------------------------------------------------


def screen_url(cast, study, round=MAIN):
    return reverse("extraction:extract", args=[cast.project.slug, round, study.pk])


@pytest.fixture
def assigned(cast):
    """A form, one included study with a PDF attached at full text, assigned to ada and
    ben."""
    from django.core.files.base import ContentFile

    from screening.models import FullText

    form = build_form(cast)
    (study,) = include_studies(cast, 1, title="Peer mentoring with patient partners")
    record = study.records.get()
    FullText.objects.create(project=cast.project, record=record).pdf.save(
        "paper.pdf", ContentFile(b"%PDF-1.4 test"))
    pair(cast, study)
    return form, study, record


def test_the_screen_shows_the_reports_beside_the_reviewers_own_answers(cast, client_for,
                                                                        assigned):
    _form, study, record = assigned
    extract(cast, study, cast.ada, {"participants": services.AnswerInput(
        raw="12", quote="Twelve trainees", page="4")}, complete=False)

    response = client_for(cast.ada).get(screen_url(cast, study))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Peer mentoring with patient partners 1" in html
    assert "Abstract of study 1." in html
    assert reverse("screening:fulltext_pdf", args=[cast.project.slug, record.pk]) in html
    assert 'name="f-participants" id="id-f-participants" value="12"' in html
    assert ">Twelve trainees</textarea>" in html
    assert 'id="status-participants"' in html
    assert reverse("extraction:autosave", args=[cast.project.slug, MAIN, study.pk]) in html


def test_a_reviewer_not_assigned_to_the_study_cannot_open_it(cast, client_for, assigned):
    _form, study, _record = assigned

    assert client_for(cast.cy).get(screen_url(cast, study)).status_code == 403
    assert client_for(cast.lead).get(screen_url(cast, study)).status_code == 403


def test_saving_the_screen_keeps_valid_answers_and_shows_each_error_with_the_typing(
        cast, client_for, assigned):
    form, study, _record = assigned

    response = client_for(cast.ada).post(screen_url(cast, study), {
        "action": "save", "f-participants": "twelve", "f-dose": "3.5",
        "f-summary": "Kept", "f-knowledge_users-rows": "1",
        "f-knowledge_users-0-user_type": "patient", "f-knowledge_users-0-role": "Advisor"})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="twelve"' in html
    assert "Enter a whole number, such as 42." in html
    extraction = Extraction.objects.get(reviewer=cast.ada)
    assert {a.field.key: a.value for a in extraction.answers.select_related("field")} == {
        "dose": "3.5", "summary": "Kept",
        "knowledge_users": [{"user_type": "patient", "role": "Advisor"}]}


def test_mark_complete_names_each_missing_required_field_at_the_field(cast, client_for,
                                                                      assigned):
    _form, study, _record = assigned

    response = client_for(cast.ada).post(screen_url(cast, study), {
        "action": "complete", "f-design": "rct"})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("This field is required.") == 2  # participants, engaged
    assert 'id="id-f-participants-error">This field is required.' in html
    assert Extraction.objects.get(reviewer=cast.ada).status == "draft"


def test_mark_complete_on_the_screen(cast, client_for, assigned):
    _form, study, _record = assigned

    response = client_for(cast.ada).post(screen_url(cast, study), {
        "action": "complete", "f-design": "rct", "f-participants": "12", "f-engaged": "no"})

    assert response.status_code == 302
    assert response["Location"] == reverse("extraction:study",
                                           args=[cast.project.slug, study.pk])
    assert Extraction.objects.get(reviewer=cast.ada).status == "complete"


def test_autosave_saves_only_the_named_field_and_answers_its_status(cast, client_for,
                                                                    assigned):
    _form, study, _record = assigned
    url = reverse("extraction:autosave", args=[cast.project.slug, MAIN, study.pk])
    client = client_for(cast.ada)

    saved = client.post(url, {"field": "participants", "f-participants": "40",
                              "f-summary": "not this one"}, HTTP_HX_REQUEST="true")
    refused = client.post(url, {"field": "dose", "f-dose": "a lot"}, HTTP_HX_REQUEST="true")

    assert saved.status_code == 200
    html = saved.content.decode()
    assert html.startswith('<div id="status-participants"')
    assert 'data-saved="1"' in html and "Saved at" in html
    assert "not this one" not in html
    assert 'data-saved="0"' in refused.content.decode()
    assert "Not saved: Enter a number with a point for decimals" in refused.content.decode()
    extraction = Extraction.objects.get(reviewer=cast.ada)
    assert {a.field.key: a.value for a in extraction.answers.select_related("field")} == {
        "participants": "40"}


def test_a_complete_extraction_shows_read_only_with_reopen(cast, client_for, assigned):
    _form, study, _record = assigned
    extract(cast, study, cast.ada, REQUIRED)
    client = client_for(cast.ada)

    html = client.get(screen_url(cast, study)).content.decode()
    assert "You marked this extraction complete" in html
    assert "<fieldset disabled>" in html

    response = client.post(reverse("extraction:reopen", args=[cast.project.slug, MAIN,
                                                                study.pk]))
    assert response.status_code == 302
    assert Extraction.objects.get(reviewer=cast.ada).status == "draft"


def test_studies_page_shows_status_and_the_users_own_extraction(cast, client_for, assigned):
    _form, study, _record = assigned
    extract(cast, study, cast.ada, REQUIRED)

    html = client_for(cast.ada).get(reverse("extraction:studies",
                                            args=[cast.project.slug])).content.decode()

    assert f'<tr data-study="{study.pk}">' in html
    assert "In progress</span>" in html
    assert ">Ada, Ben</td>" in html
    assert ">View mine</a>" in html


@pytest.mark.parametrize("n", [1, 3])
def test_studies_page_queries_do_not_grow_with_studies(cast, client_for,
                                                       django_assert_num_queries, n):
    build_form(cast)
    for study in include_studies(cast, n):
        pair(cast, study)
        extract(cast, study, cast.ada, REQUIRED, complete=False)
    client = client_for(cast.ada)
    url = reverse("extraction:studies", args=[cast.project.slug])
    client.get(url)  # sessions and settings made

    with django_assert_num_queries(9):
        response = client.get(url)

    assert response.content.decode().count("<tr data-study=") == n


def test_the_lead_assigns_automatically_from_the_page(cast, client_for):
    include_studies(cast, 2)

    response = client_for(cast.lead).post(
        reverse("extraction:assignments", args=[cast.project.slug]),
        {"action": "auto", "reviewers": [str(cast.ada.pk), str(cast.ben.pk)]})

    assert response.status_code == 302
    assert Assignment.objects.count() == 4


def test_the_lead_saves_settings_from_the_page(cast, client_for):
    response = client_for(cast.lead).post(
        reverse("extraction:settings", args=[cast.project.slug]),
        {"mode": "dual", "consensus_by": "third", "third_reviewer": str(cast.cy.pk),
         "pilot_threshold": "0.75"})

    assert response.status_code == 302
    settings = ExtractionSettings.objects.get(project=cast.project)
    assert (settings.consensus_by, settings.third_reviewer, settings.pilot_threshold) == (
        "third", cast.cy, 0.75)
