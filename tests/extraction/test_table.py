"""The extraction table: which studies and values it holds, its page, filters and summaries."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from extraction import views
from extraction.models import Extraction, ExtractionSettings
from extraction.queries import NO_ANSWER, extraction_table, filter_rows, frequencies
from projects.models import Job
from screening import services as screening
from screening.models import Screening, Stage
from tests.extraction.tabledata import extraction, include_studies, paper_form

pytestmark = pytest.mark.django_db


def test_table_holds_the_consensus_of_included_studies_only(cast):
    lee, kim, pat = include_studies(cast, [("Lee, Kim", 2020), ("Kim, Jo", 2019),
                                           ("Pat, Sam", 2021)])
    paper = paper_form(cast.project)
    for who, country in [(cast.ada, "CA"), (cast.ben, "KE")]:
        extraction(lee, paper.version, {paper.country: country},
                   role=Extraction.Role.EXTRACTOR, reviewer=who)
        extraction(kim, paper.version, {paper.country: country},
                   role=Extraction.Role.EXTRACTOR, reviewer=who)
    extraction(lee, paper.version, {paper.country: {"value": "CA", "quote": "in Toronto",
                                                    "page": "4", "note": "Ada's reading"}},
               reviewer=cast.lead)
    extraction(kim, paper.version, {paper.country: "KE"}, reviewer=cast.lead,
               status=Extraction.Status.DRAFT)  # consensus under way: not the data yet
    extraction(pat, paper.version, {paper.country: "FR"}, reviewer=cast.lead, round="pilot")

    table = extraction_table(cast.project)

    assert [(row.study, row.label, row.value(paper.country)) for row in table.rows] == [
        (lee, "Lee 2020", "CA")]
    answer = table.rows[0].answer(paper.country)
    assert (answer.quote, answer.page, answer.note) == ("in Toronto", "4", "Ada's reading")
    assert (table.included, table.mode) == (3, "dual")


def test_single_mode_takes_the_one_complete_extraction(cast):
    lee, kim, pat = include_studies(cast, [("Lee, Kim", 2020), ("Kim, Jo", 2019),
                                           ("Pat, Sam", 2021)])
    ExtractionSettings.objects.create(project=cast.project, mode=ExtractionSettings.Mode.SINGLE)
    paper = paper_form(cast.project)
    extraction(lee, paper.version, {paper.participants: "12"},
               role=Extraction.Role.EXTRACTOR, reviewer=cast.ada)
    extraction(kim, paper.version, {paper.participants: "30"},
               role=Extraction.Role.EXTRACTOR, reviewer=cast.ben, status=Extraction.Status.DRAFT)
    # Extracted twice before the project switched to single mode: still needs a consensus.
    for who, n in [(cast.ada, "7"), (cast.ben, "8")]:
        extraction(pat, paper.version, {paper.participants: n},
                   role=Extraction.Role.EXTRACTOR, reviewer=who)

    table = extraction_table(cast.project)

    assert [(row.label, row.value(paper.participants)) for row in table.rows] == [
        ("Lee 2020", "12")]
    assert table.mode == "single"


def test_dual_mode_never_shows_a_complete_extraction_without_consensus(cast):
    (lee,) = include_studies(cast, [("Lee, Kim", 2020)])
    paper = paper_form(cast.project)
    extraction(lee, paper.version, {paper.participants: "12"},
               role=Extraction.Role.EXTRACTOR, reviewer=cast.ada)

    assert extraction_table(cast.project).rows == []


def test_a_study_that_leaves_the_included_set_leaves_the_table(cast):
    lee, kim = include_studies(cast, [("Lee, Kim", 2020), ("Kim, Jo", 2019)])
    paper = paper_form(cast.project)
    for study in (lee, kim):
        extraction(study, paper.version, {paper.participants: "5"}, reviewer=cast.lead)
    record = kim.records.get()
    screening.reopen(Screening.objects.get(record=record, stage=Stage.FULL_TEXT),
                     membership=cast.lead.memberships.get())

    table = extraction_table(cast.project)

    assert [row.study for row in table.rows] == [lee]
    assert table.included == 1
    assert Extraction.objects.filter(study=kim).count() == 1  # kept


def test_table_columns_are_live_fields_in_form_order(cast):
    paper = paper_form(cast.project)

    table = extraction_table(cast.project)

    assert [f.key for f in table.fields] == [
        "design", "country", "participants", "dose", "summary",
        "engaged", "activities", "started", "users"]
    assert [f.key for f in table.columns_of(paper.users)] == ["user_type", "user_role"]
    assert table.table_fields == [paper.users]


def test_a_project_without_a_form_has_an_empty_table(cast):
    include_studies(cast, [("Lee, Kim", 2020)])

    table = extraction_table(cast.project)

    assert (table.form, table.fields, table.rows, table.included) == (None, [], [], 0)


def _settled(cast, n):
    studies = include_studies(cast, [(f"Author{i}, A", 2000 + i) for i in range(n)])
    paper = paper_form(cast.project)
    for study in studies:
        extraction(study, paper.version, {
            paper.design: "rct", paper.country: "CA", paper.activities: ["plan", "share"],
            paper.users: [{"user_type": "clin", "user_role": "Advisor"}]}, reviewer=cast.lead)
    return paper


def _queries(function) -> int:
    with CaptureQueriesContext(connection) as queries:
        function()
    return len(queries)


@pytest.mark.parametrize("n", [1, 3])
def test_table_query_count_is_the_same_for_1_and_3_studies(cast, n):
    _settled(cast, n)

    count = _queries(lambda: extraction_table(cast.project))

    assert len(extraction_table(cast.project).rows) == n
    # settings, form, fields, columns, studies, their reports, extractions, answers
    assert count == 8


def _three_settled(cast):
    lee, kim, pat = include_studies(cast, [("Lee, Kim", 2020), ("Kim, Jo", 2019),
                                           ("Pat, Sam", 2021)])
    paper = paper_form(cast.project)
    extraction(lee, paper.version, {paper.design: "rct", paper.country: "CA",
                                    paper.engaged: "yes", paper.activities: ["plan", "share"],
                                    paper.dose: "2.50"}, reviewer=cast.lead)
    extraction(kim, paper.version, {paper.design: {"value": "__other__",
                                                   "other": "Stepped wedge"},
                                    paper.country: "CA", paper.engaged: "no",
                                    paper.activities: ["plan"]}, reviewer=cast.lead)
    extraction(pat, paper.version, {paper.design: "case", paper.country: "KE",
                                    paper.activities: None,
                                    paper.users: [{"user_type": "pat", "user_role": "Advisor"},
                                                  {"user_type": "clin"}]},
               reviewer=cast.lead)
    return paper, extraction_table(cast.project)


def _summary(frequency):
    return [(c.key, c.label, [row.label for row in c.rows], c.stale)
            for c in frequency.categories]


def test_frequencies_count_each_answer_and_name_its_studies(cast):
    paper, table = _three_settled(cast)

    design, country, engaged, activities = frequencies(table)

    assert _summary(design) == [
        ("rct", "Randomised trial", ["Lee 2020"], False),
        ("cohort", "Cohort study", [], False),
        ("qual", "Qualitative study", [], False),
        ("__other__", "Other", ["Kim 2019"], False),
        ("case", "Case report", ["Pat 2021"], True),  # archived choice: flagged
    ]
    assert _summary(country) == [("CA", "Canada", ["Lee 2020", "Kim 2019"], False),
                                 ("KE", "Kenya", ["Pat 2021"], False)]
    assert _summary(engaged) == [("yes", "Yes", ["Lee 2020"], False),
                                 ("no", "No", ["Kim 2019"], False),
                                 ("unclear", "Unclear", [], False),
                                 (NO_ANSWER, "No answer", ["Pat 2021"], False)]
    assert _summary(activities) == [("plan", "Planning", ["Lee 2020", "Kim 2019"], False),
                                    ("analyse", "Analysis", [], False),
                                    ("share", "Sharing results", ["Lee 2020"], False),
                                    (NO_ANSWER, "No answer", ["Pat 2021"], False)]
    assert [f.studies for f in (design, country, engaged, activities)] == [3, 3, 3, 3]
    assert [c.n for c in activities.categories] == [2, 0, 1, 1]


def test_frequencies_count_only_the_rows_given(cast):
    paper, table = _three_settled(cast)
    canadian = filter_rows(table, answers={paper.country.pk: "CA"})

    design = frequencies(table, canadian)[0]

    assert [(c.key, c.n) for c in design.categories] == [
        ("rct", 1), ("cohort", 0), ("qual", 0), ("__other__", 1)]
    assert design.studies == 2


@pytest.mark.parametrize(("text", "answers", "expected"), [
    ("", {"design": "rct"}, ["Lee 2020"]),
    ("", {"activities": "plan"}, ["Lee 2020", "Kim 2019"]),
    ("", {"engaged": NO_ANSWER}, ["Pat 2021"]),
    ("", {"activities": "plan", "engaged": "no"}, ["Kim 2019"]),
    ("stepped", {}, ["Kim 2019"]),  # the "other, specify" text
    ("KENYA", {}, ["Pat 2021"]),  # a country's name, not its code
    ("advisor", {}, ["Pat 2021"]),  # a repeating table's cell
    ("pat partnerships", {}, ["Pat 2021"]),  # the label and the title
    ("lee", {"country": "CA"}, ["Lee 2020"]),
    ("lee", {"country": "KE"}, []),
])
def test_filter_rows_by_words_and_answers(cast, text, answers, expected):
    paper, table = _three_settled(cast)
    by_key = {f.key: f for f in table.fields}

    rows = filter_rows(table, text=text,
                       answers={by_key[key].pk: value for key, value in answers.items()})

    assert [row.label for row in rows] == expected


def test_rows_display_answers_as_people_read_them(cast):
    paper, table = _three_settled(cast)
    lee, kim, pat = table.rows

    assert [lee.display(f) for f in (paper.design, paper.country, paper.engaged,
                                     paper.activities, paper.dose, paper.summary)] == [
        "Randomised trial", "Canada", "Yes", "Planning; Sharing results", "2.50 h", ""]
    assert kim.display(paper.design) == "Other: Stepped wedge"
    assert pat.display(paper.users) == "User type: Patient; Role: Advisor\nUser type: Clinician"


def _url(cast, name="extraction:table"):
    return reverse(name, args=[cast.project.slug])


def _cells(html, study):
    """{field key: cell text} of the study's row on the page."""
    row = re.search(rf'<tr id="study-{study.pk}">(.*?)</tr>', html, re.S).group(1)
    return {key: re.sub(r"\s+", " ", re.sub(r"<span.*?</span>|<br>", " ", text, flags=re.S))
            .strip() for key, text in re.findall(r'<td data-field="(\w+)">(.*?)</td>', row, re.S)}


def test_table_page_shows_each_studys_settled_answers(cast, client_for):
    paper, table = _three_settled(cast)
    lee, kim, pat = (row.study for row in table.rows)

    response = client_for(cast.viewer).get(_url(cast))

    html = response.content.decode()
    assert response.status_code == 200
    assert _cells(html, lee) == {
        "design": "Randomised trial", "country": "Canada", "participants": "",
        "dose": "2.50 h", "summary": "", "engaged": "Yes",
        "activities": "Planning; Sharing results", "started": "", "users": ""}
    assert _cells(html, kim)["design"] == "Other: Stepped wedge"
    assert _cells(html, pat)["users"] == "User type: Patient; Role: Advisor User type: Clinician"
    assert "answer no longer on the form" in re.search(
        rf'<tr id="study-{pat.pk}">.*?</tr>', html, re.S).group(0)
    assert re.search(r'<p id="table-counts">\s*<strong>3</strong> of 3 included studies',
                     html)


def test_table_page_filters_rows_and_counts_over_them(cast, client_for):
    paper, table = _three_settled(cast)
    lee, kim, pat = (row.study for row in table.rows)

    response = client_for(cast.viewer).get(_url(cast), {"a_activities": "plan", "q": ""})

    html = response.content.decode()
    assert [int(i) for i in re.findall(r'<tr id="study-(\d+)">', html)] == [lee.pk, kim.pk]
    design = re.search(r'data-summary="design".*?</section>', html, re.S).group(0)
    assert re.findall(r'data-category="(\w+)".*?<td class="text-end" data-n>(\d+)</td>',
                      design, re.S) == [("rct", "1"), ("cohort", "0"), ("qual", "0"),
                                        ("__other__", "1")]
    assert '<span data-studies>Lee 2020</span>' in design
    assert '<span data-count="matching">2</span> match the filters' in html


def test_table_page_ignores_a_filter_on_an_answer_it_does_not_know(cast, client_for):
    _three_settled(cast)

    response = client_for(cast.viewer).get(_url(cast), {"a_design": "nonsense"})

    assert len(re.findall(r'<tr id="study-\d+">', response.content.decode())) == 3


def test_table_page_shows_one_page_of_rows(cast, client_for, monkeypatch):
    monkeypatch.setattr(views, "TABLE_PAGE_SIZE", 2)
    paper, table = _three_settled(cast)
    pat = table.rows[2].study

    response = client_for(cast.viewer).get(_url(cast), {"page": "2"})

    html = response.content.decode()
    assert [int(i) for i in re.findall(r'<tr id="study-(\d+)">', html)] == [pat.pk]
    assert "Studies 3–3 of 3" in html
    # The summaries count every study, not only the page's.
    assert re.search(r'data-summary="country".*?data-category="CA".*?data-n>(\d+)<', html,
                     re.S).group(1) == "2"


def test_outsider_gets_404_on_the_table(cast, client_for):
    _three_settled(cast)

    assert client_for(cast.outsider).get(_url(cast)).status_code == 404


@pytest.mark.parametrize("n", [1, 3])
def test_table_page_query_count_is_the_same_for_1_and_3_studies(cast, client_for, n):
    _settled(cast, n)
    client = client_for(cast.viewer)
    client.get(_url(cast))  # the session is loaded once

    with CaptureQueriesContext(connection) as queries:
        response = client.get(_url(cast), {"a_design": "rct", "q": "author"})

    assert len(re.findall(r'<tr id="study-\d+">', response.content.decode())) == n
    # session, user, membership, then the table's 8
    assert len(queries) == 11


def test_export_starts_a_job_and_shows_it(cast, client_for, django_capture_on_commit_callbacks):
    client = client_for(cast.viewer)

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(_url(cast, "extraction:table_export"), {"format": "xlsx"})

    job = Job.objects.get()
    assert (job.kind, job.params, job.started_by, job.label) == (
        "extraction_export", {"format": "xlsx"}, cast.viewer, "Extraction table as XLSX")
    assert response["Location"] == reverse("projects:job", args=[cast.project.slug, job.pk])


def test_export_in_an_unknown_format_starts_nothing(cast, client_for):
    response = client_for(cast.lead).post(_url(cast, "extraction:table_export"),
                                          {"format": "pdf"}, follow=True)

    assert Job.objects.count() == 0
    assert "Choose CSV or XLSX." in response.content.decode()
