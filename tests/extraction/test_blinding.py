"""Blindness: until a study's consensus is done, no page, list, count, partial or export shows
one extractor's values to the other, nor to a viewer. The data here would leak: each
extractor's answer and quote carry a marker that must not appear where it does not belong."""

import io
import zipfile

import pytest
from django.urls import reverse

from extraction import exports, queries, services
from extraction.models import Round
from extraction.services import Decision, Take
from tests.extraction.steps import REQUIRED, build_form, extract, include_studies, membership

MAIN = Round.MAIN
ADA_SECRET, ADA_QUOTE = "ADA-SECRET-7731", "ADA-QUOTE-7731"
BEN_SECRET, BEN_QUOTE = "BEN-SECRET-4410", "BEN-QUOTE-4410"


def answer(secret, quote):
    return REQUIRED | {"summary": services.AnswerInput(raw=secret, quote=quote, page="9"),
                       "knowledge_users": [{"user_type": "patient", "role": secret}]}


@pytest.fixture
def blind(cast):
    """Study 1: ada complete, ben still drafting. Study 2: the lead and ada, both complete
    (the lead extracts too). Both studies hold each extractor's markers."""
    build_form(cast)
    first, second = include_studies(cast, 2)
    services.assign_study(cast.project, first, reviewers=[cast.ada, cast.ben], user=cast.lead)
    services.assign_study(cast.project, second, reviewers=[cast.ada, cast.lead],
                          user=cast.lead)
    extract(cast, first, cast.ada, answer(ADA_SECRET, ADA_QUOTE))
    extract(cast, first, cast.ben, answer(BEN_SECRET, BEN_QUOTE), complete=False)
    extract(cast, second, cast.ada, answer(ADA_SECRET, ADA_QUOTE))
    extract(cast, second, cast.lead, answer(BEN_SECRET, BEN_QUOTE))
    return first, second


def pages(cast, first, second):
    slug = cast.project.slug
    return [reverse("extraction:home", args=[slug]),
            reverse("extraction:studies", args=[slug]),
            reverse("extraction:studies", args=[slug]) + "?status=awaiting_consensus",
            reverse("extraction:study", args=[slug, first.pk]),
            reverse("extraction:study", args=[slug, second.pk]),
            reverse("extraction:table", args=[slug]),
            reverse("projects:activity", args=[slug]),
            reverse("extraction:pilot", args=[slug])]


def seen(client, urls) -> str:
    return "".join(client.get(url).content.decode() for url in urls)


def test_an_extractor_never_sees_the_others_values(cast, client_for, blind):
    first, second = blind
    client = client_for(cast.ben)

    html = seen(client, pages(cast, first, second) + [
        reverse("extraction:extract", args=[cast.project.slug, MAIN, first.pk])])

    assert BEN_SECRET in html  # their own screen shows their own answers
    assert ADA_SECRET not in html and ADA_QUOTE not in html


def test_a_lead_who_extracts_never_sees_the_other_extractors_values(cast, client_for, blind):
    first, second = blind
    client = client_for(cast.lead)

    html = seen(client, pages(cast, first, second) + [
        reverse("extraction:extract", args=[cast.project.slug, MAIN, second.pk])])
    consensus = client.get(reverse("extraction:consensus", args=[cast.project.slug,
                                                                 second.pk]))

    assert BEN_SECRET in html  # the lead's own answers on study 2 (and in their own log)
    assert ADA_SECRET not in html and ADA_QUOTE not in html
    assert consensus.status_code == 403  # one of the pair: only if the lead allows pairs


def test_a_viewer_sees_no_extractors_values(cast, client_for, blind):
    first, second = blind

    html = seen(client_for(cast.viewer), pages(cast, first, second))

    for marker in (ADA_SECRET, ADA_QUOTE, BEN_SECRET, BEN_QUOTE):
        assert marker not in html


def test_consensus_is_404_until_both_extractions_are_complete(cast, client_for, blind):
    first, _second = blind

    response = client_for(cast.lead).get(reverse("extraction:consensus",
                                                 args=[cast.project.slug, first.pk]))

    assert response.status_code == 404
    assert ADA_SECRET not in response.content.decode()


def test_the_autosave_partial_answers_with_a_status_only(cast, client_for, blind):
    first, _second = blind
    form = services.form_of(cast.project)
    assert form is not None

    response = client_for(cast.ben).post(
        reverse("extraction:autosave", args=[cast.project.slug, MAIN, first.pk]),
        {"field": "summary", "f-summary": "changed"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert html.startswith('<div id="status-summary"')
    assert ADA_SECRET not in html and BEN_SECRET not in html


def test_exports_and_counts_read_settled_data_only(cast, blind):
    first, second = blind

    table = queries.extraction_table(cast.project)
    files = zipfile.ZipFile(io.BytesIO(exports.csv_zip(exports.table_sheets(table))))
    text = "".join(files.read(name).decode("utf-8-sig") for name in files.namelist())
    rows = queries.study_list(cast.project, cast.ben)

    assert table.rows == []
    for marker in (ADA_SECRET, ADA_QUOTE, BEN_SECRET, BEN_QUOTE):
        assert marker not in text
    assert [(r.study.pk, r.status) for r in rows] == [(first.pk, "in_progress"),
                                                      (second.pk, "awaiting_consensus")]


def test_the_pilot_report_shows_nothing_of_a_pair_still_in_progress(cast, client_for):
    build_form(cast)
    (study,) = include_studies(cast, 1)
    services.start_pilot(cast.project, studies=[study], reviewers=[cast.ada, cast.ben],
                         user=cast.lead)
    extract(cast, study, cast.ada, answer(ADA_SECRET, ADA_QUOTE), round=Round.PILOT)
    extract(cast, study, cast.ben, answer(BEN_SECRET, BEN_QUOTE), round=Round.PILOT,
            complete=False)
    url = reverse("extraction:pilot", args=[cast.project.slug])

    before = client_for(cast.lead).get(url).content.decode()
    extract(cast, study, cast.ben, {}, round=Round.PILOT)
    after = client_for(cast.lead).get(url).content.decode()

    assert ADA_SECRET not in before and BEN_SECRET not in before
    assert 'id="no-report"' in before
    assert ADA_SECRET in after and BEN_SECRET in after  # both complete: side by side


def test_once_settled_the_consensus_is_everyones_and_the_log_opens(cast, client_for, blind):
    first, _second = blind
    services.complete_extraction(cast.project, first, round=MAIN, reviewer=cast.ben)
    services.save_consensus(cast.project, first, membership=membership(cast, cast.lead),
                            base="", complete=True,
                            decisions={"summary": Decision(Take.SECOND),
                                       "knowledge_users": Decision(Take.SECOND)})
    viewer = client_for(cast.viewer)

    study = viewer.get(reverse("extraction:study", args=[cast.project.slug, first.pk]))
    activity = client_for(cast.lead).get(reverse("projects:activity",
                                                 args=[cast.project.slug]))

    assert BEN_SECRET in study.content.decode() and BEN_QUOTE in study.content.decode()
    assert ADA_SECRET not in study.content.decode()
    assert ADA_SECRET in activity.content.decode()  # the settled study's log is open
