"""Consensus: identical answers pre-filled, each difference settled by taking a side or
writing a value (with a note), who may settle, one result when two settle at once."""


import pytest
from django.urls import reverse

from extraction import queries, services
from extraction.models import Answer, Extraction, Round
from extraction.services import Decision, Take
from projects.models import AuditEvent
from tests.extraction.steps import (
    REQUIRED,
    build_form,
    extract,
    include_studies,
    membership,
    pair,
)
from tests.threads import race

MAIN = Round.MAIN

ADA = {"design": "rct", "participants": "12", "engaged": "yes", "dose": "7.50",
       "summary": services.AnswerInput(raw="Trainees led the study.",
                                       quote="The trainee led every stage", page="3"),
       "knowledge_users": [{"user_type": "patient", "role": "Advisor"},
                           {"user_type": "clinician", "role": "Co-author"}]}
BEN = {"design": "cohort", "participants": "12", "engaged": "yes", "dose": "7.5",
       "summary": services.AnswerInput(raw="Trainee-led.", quote="led by a trainee",
                                       page="4"),
       "knowledge_users": [{"user_type": "patient", "role": "Advisor"},
                           {"user_type": "clinician", "role": "Reviewer"}]}


@pytest.fixture
def settled(cast):
    """A study both ada and ben have extracted, differing on design, summary and the second
    row of knowledge users."""
    form = build_form(cast)
    (study,) = include_studies(cast, 1)
    pair(cast, study)
    first = extract(cast, study, cast.ada, ADA)
    second = extract(cast, study, cast.ben, BEN)
    return form, study, first, second


def save(cast, study, who=None, *, decisions=None, complete=False, base=""):
    return services.save_consensus(cast.project, study,
                                   membership=membership(cast, who or cast.lead),
                                   decisions=decisions or {}, base=base, complete=complete)


def answers_of(extraction):
    return {a.field.key: a for a in Answer.objects.filter(
        extraction=extraction).select_related("field")}


def test_identical_answers_are_prefilled_as_agreed(cast, settled):
    _form, study, _first, _second = settled

    consensus = save(cast, study)

    found = answers_of(consensus)
    assert {key: (a.value, a.source) for key, a in found.items()} == {
        "participants": ("12", "agreed"), "engaged": ("yes", "agreed"),
        "dose": ("7.50", "agreed")}
    assert consensus.status == "draft"


def test_each_difference_is_settled_by_a_side_or_a_new_value_with_a_note(cast, settled):
    _form, study, first, second = settled

    consensus = save(cast, study, complete=True, decisions={
        "design": Decision(Take.SECOND, note="Prospective cohort, see methods"),
        "summary": Decision(Take.FIRST),
        "knowledge_users": Decision(Take.EDITED, raw=[
            {"user_type": "patient", "role": "Advisor"},
            {"user_type": "clinician", "role": "Co-author and reviewer"}],
            quote="clinicians co-wrote", page="5", note="Both roles in the text")})

    found = answers_of(consensus)
    assert (found["design"].value, found["design"].source, found["design"].note) == (
        "cohort", "second", "Prospective cohort, see methods")
    # A side's quote and page travel with its answer.
    assert (found["summary"].value, found["summary"].quote, found["summary"].page) == (
        "Trainees led the study.", "The trainee led every stage", "3")
    assert (found["knowledge_users"].value, found["knowledge_users"].source,
            found["knowledge_users"].quote) == (
        [{"user_type": "patient", "role": "Advisor"},
         {"user_type": "clinician", "role": "Co-author and reviewer"}], "edited",
        "clinicians co-wrote")
    assert (consensus.status, consensus.reviewer) == ("complete", cast.lead)
    table = queries.extraction_table(cast.project)
    assert [row.value(settled[0].design) for row in table.rows] == ["cohort"]
    event = AuditEvent.objects.get(action="consensus.complete")
    assert event.after == {"status": "complete", "version": 1,
                           "answers": {"agreed": 3, "edited": 1, "first": 1, "second": 1},
                           "extractions": [first.pk, second.pk]}


def test_completion_needs_a_decision_on_every_difference(cast, settled):
    _form, study, _first, _second = settled

    with pytest.raises(services.Invalid) as refused:
        save(cast, study, complete=True, decisions={"design": Decision(Take.FIRST)})

    message = "Decide this field: take one of the answers or write the value."
    assert refused.value.errors == {"summary": message, "knowledge_users": message}
    assert not Extraction.objects.filter(role="consensus").exists()  # all or nothing


def test_agreed_is_refused_where_the_answers_differ_and_edits_are_checked(cast, settled):
    _form, study, _first, _second = settled

    with pytest.raises(services.Invalid) as refused:
        save(cast, study, decisions={
            "design": Decision(Take.AGREED),
            "participants": Decision(Take.EDITED, raw="a dozen"),
            "engaged": Decision("neither")})

    assert refused.value.errors == {
        "design": "The two answers differ: take one of them or write the value.",
        "participants": "Enter a whole number, such as 42.",
        "engaged": "Take one of the answers, or write the value."}


def test_each_consensus_answer_is_logged_with_source_and_note(cast, settled):
    _form, study, _first, _second = settled
    consensus = save(cast, study)
    base = services.revision(consensus)

    save(cast, study, base=base, decisions={"design": Decision(Take.FIRST, note="RCT per "
                                                                              "protocol")})
    save(cast, study, base=services.revision(Extraction.objects.get(role="consensus")),
         decisions={"design": Decision(Take.EDITED, raw="qual")})

    events = list(AuditEvent.objects.filter(action="consensus.answer",
                                            before__field="design").order_by("id"))
    assert [(e.actor, e.before, e.after, e.sealed) for e in events] == [
        (cast.lead, {"field": "design", "value": "rct", "other": "", "quote": "", "page": "",
                     "source": "first", "note": "RCT per protocol"},
         {"field": "design", "value": "qual", "other": "", "quote": "", "page": "",
          "source": "edited", "note": ""}, True)]


def test_a_save_on_a_stale_page_is_refused(cast, settled):
    _form, study, _first, _second = settled
    save(cast, study, decisions={"design": Decision(Take.FIRST)})

    with pytest.raises(services.ExtractionError, match="Lena Lead saved this study's "
                                                       "consensus meanwhile"):
        save(cast, study, decisions={"design": Decision(Take.SECOND)}, base="")

    assert answers_of(Extraction.objects.get(role="consensus"))["design"].value == "rct"


def test_consensus_waits_for_both_extractions(cast):
    build_form(cast)
    (study,) = include_studies(cast, 1)
    pair(cast, study)
    extract(cast, study, cast.ada, REQUIRED)
    extract(cast, study, cast.ben, REQUIRED, complete=False)

    with pytest.raises(services.ExtractionError, match="both extractions of the study are "
                                                       "complete"):
        save(cast, study)


def test_a_settled_study_is_settled_once_until_a_lead_reopens_it(cast, settled):
    _form, study, _first, _second = settled
    decisions = {"design": Decision(Take.FIRST), "summary": Decision(Take.FIRST),
                 "knowledge_users": Decision(Take.FIRST)}
    consensus = save(cast, study, complete=True, decisions=decisions)

    with pytest.raises(services.ExtractionError, match="Lena Lead has settled this study"):
        save(cast, study, base=services.revision(consensus), decisions=decisions)
    with pytest.raises(services.ExtractionError, match="Consensus on this study has started"):
        services.reopen_extraction(cast.project, study, round=MAIN, reviewer=cast.ada)
    with pytest.raises(services.ExtractionError, match="Only a lead"):
        services.reopen_consensus(cast.project, study, membership=membership(cast, cast.cy))

    services.reopen_consensus(cast.project, study, membership=membership(cast, cast.lead))

    assert Extraction.objects.get(role="consensus").status == "draft"
    assert queries.extraction_table(cast.project).rows == []


@pytest.mark.parametrize("rule, third, allowed", [
    ("leads", None, {"lead"}),
    ("third", "cy", {"lead", "cy"}),
    ("pair", "cy", {"lead", "cy", "ada", "ben"}),
])
def test_who_may_settle(cast, rule, third, allowed):
    services.update_settings(cast.project, user=cast.lead, mode="dual", consensus_by=rule,
                             third_reviewer=cast.cy if third else None)
    settings = services.settings_for(cast.project)
    pair_ids = {cast.ada.pk, cast.ben.pk}

    may = {name for name in ("lead", "ada", "ben", "cy")
           if services.can_settle(settings, membership(cast, getattr(cast, name)), pair_ids)}

    assert may == allowed


def test_a_lead_who_extracted_the_study_settles_it_only_when_the_pair_may(cast):
    build_form(cast)
    (study,) = include_studies(cast, 1)
    pair(cast, study, [cast.ada, cast.lead])
    extract(cast, study, cast.ada, REQUIRED)
    extract(cast, study, cast.lead, REQUIRED | {"design": "qual"})

    with pytest.raises(services.ExtractionError, match="may not settle"):
        save(cast, study)
    services.update_settings(cast.project, user=cast.lead, mode="dual", consensus_by="pair")
    assert save(cast, study).status == "draft"


def test_settling_opens_the_studys_sealed_answers_in_the_log(cast, settled):
    _form, study, _first, _second = settled
    assert AuditEvent.objects.filter(action="extraction.answer", sealed=True).count() == 12

    save(cast, study, complete=True, decisions={
        "design": Decision(Take.FIRST), "summary": Decision(Take.FIRST),
        "knowledge_users": Decision(Take.FIRST)})

    assert AuditEvent.objects.filter(sealed=True).count() == 0


# --- two at once --------------------------------------------------------------------------


@pytest.mark.postgres
def test_two_people_settling_one_study_at_once_give_one_result(transactional_db, cast):
    build_form(cast)
    (study,) = include_studies(cast, 1)
    pair(cast, study)
    extract(cast, study, cast.ada, ADA)
    extract(cast, study, cast.ben, BEN)
    services.update_settings(cast.project, user=cast.lead, mode="dual", consensus_by="third",
                             third_reviewer=cast.cy)

    def settle(who, take):
        return services.save_consensus(
            cast.project, study, membership=membership(cast, who), base="", complete=True,
            decisions={key: Decision(take, note=f"{who.username} decided")
                       for key in ("design", "summary", "knowledge_users")})

    results = race([lambda: settle(cast.lead, Take.FIRST), lambda: settle(cast.cy, Take.SECOND)])

    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], services.ExtractionError), results
    winner = next(r for r in results if not isinstance(r, Exception))
    consensus = Extraction.objects.get(role="consensus")
    assert (consensus.pk, consensus.status, consensus.reviewer) == (
        winner.pk, "complete", winner.reviewer)
    take = "first" if winner.reviewer == cast.lead else "second"
    found = answers_of(consensus)
    assert {found[k].source for k in ("design", "summary", "knowledge_users")} == {take}
    assert {found[k].note for k in ("design", "summary", "knowledge_users")} == {
        f"{winner.reviewer.username} decided"}
    assert AuditEvent.objects.filter(action="consensus.complete").count() == 1
    assert AuditEvent.objects.filter(action="consensus.answer").count() == 6  # 3 agreed, 3 taken


# --- the page -----------------------------------------------------------------------------


def consensus_url(cast, study):
    return reverse("extraction:consensus", args=[cast.project.slug, study.pk])


def test_the_page_compares_field_by_field_and_tables_row_by_row(cast, client_for, settled):
    _form, study, _first, _second = settled

    response = client_for(cast.lead).get(consensus_url(cast, study))

    html = response.content.decode()
    assert response.status_code == 200
    assert "3 differences between Ada and Ben" in html
    assert 'id="row-design" class="consensus-differs table-warning"' in html
    assert 'id="row-participants" class="consensus-same"' in html
    # Identical answers are pre-filled; differing ones wait for a decision.
    assert 'id="take-participants-agreed" value="agreed" checked' in html
    assert 'id="take-design-first" value="first">' in html
    # Both answers with their quotes.
    assert "Trainees led the study." in html and "Trainee-led." in html
    assert "“The trainee led every stage” (p. 3)" in html and "“led by a trainee” (p. 4)" in html
    # Row 2 of the knowledge users differs in its role only.
    assert html.count('class="fw-semibold text-danger-emphasis cell-differs">Co-author') == 1
    assert html.count('class="fw-semibold text-danger-emphasis cell-differs">Reviewer') == 1
    assert html.count('class="fw-semibold text-danger-emphasis cell-differs">Advisor') == 0


def test_settling_on_the_page(cast, client_for, settled):
    form, study, _first, _second = settled
    client = client_for(cast.lead)
    page = client.get(consensus_url(cast, study))
    assert page.status_code == 200

    response = client.post(consensus_url(cast, study), {
        "base": "", "action": "complete",
        "take-participants": "agreed", "take-engaged": "agreed", "take-dose": "agreed",
        "take-design": "edited", "f-design": "qual", "note-design": "Interviews only",
        "take-summary": "second", "take-knowledge_users": "first"})

    assert response.status_code == 302
    assert response["Location"] == reverse("extraction:study", args=[cast.project.slug,
                                                                     study.pk])
    found = answers_of(Extraction.objects.get(role="consensus", status="complete"))
    assert (found["design"].value, found["design"].source, found["design"].note) == (
        "qual", "edited", "Interviews only")
    assert (found["summary"].value, found["summary"].quote) == ("Trainee-led.",
                                                                "led by a trainee")
    study_page = client_for(cast.viewer).get(reverse("extraction:study",
                                                     args=[cast.project.slug, study.pk]))
    assert "Qual" in study_page.content.decode()


def test_a_page_missing_decisions_comes_back_with_a_message_at_each(cast, client_for,
                                                                    settled):
    _form, study, _first, _second = settled

    response = client_for(cast.lead).post(consensus_url(cast, study), {
        "base": "", "action": "complete", "take-design": "first", "note-design": "kept"})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="error-summary">Decide this field' in html
    assert 'id="error-knowledge_users">Decide this field' in html
    assert 'value="kept"' in html  # what was typed stays
    assert not Extraction.objects.filter(role="consensus").exists()


def test_a_stale_page_is_told_someone_saved_meanwhile(cast, client_for, settled):
    _form, study, _first, _second = settled
    save(cast, study, decisions={"design": Decision(Take.FIRST)})

    response = client_for(cast.lead).post(consensus_url(cast, study), {
        "base": "", "take-design": "second"}, follow=True)

    assert "saved this study&#x27;s consensus meanwhile" in response.content.decode()
    assert answers_of(Extraction.objects.get(role="consensus"))["design"].value == "rct"


def test_the_designated_third_reviewer_settles_and_others_are_refused(cast, client_for,
                                                                      settled):
    _form, study, _first, _second = settled
    services.update_settings(cast.project, user=cast.lead, mode="dual", consensus_by="third",
                             third_reviewer=cast.cy)

    assert client_for(cast.cy).get(consensus_url(cast, study)).status_code == 200
    assert client_for(cast.ada).get(consensus_url(cast, study)).status_code == 403
    assert client_for(cast.viewer).get(consensus_url(cast, study)).status_code == 403
    assert client_for(cast.outsider).get(consensus_url(cast, study)).status_code == 404


def test_a_lead_reopens_a_settled_study_from_the_page(cast, client_for, settled):
    _form, study, _first, _second = settled
    save(cast, study, complete=True, decisions={
        "design": Decision(Take.FIRST), "summary": Decision(Take.FIRST),
        "knowledge_users": Decision(Take.FIRST)})

    response = client_for(cast.lead).post(reverse("extraction:consensus_reopen",
                                                  args=[cast.project.slug, study.pk]))

    assert response.status_code == 302
    assert Extraction.objects.get(role="consensus").status == "draft"
    assert AuditEvent.objects.filter(action="consensus.reopen").count() == 1
