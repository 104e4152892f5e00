import json
import re

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from frameworks import figure, queries
from frameworks.models import Excerpt
from tests.extraction.tabledata import include_studies
from tests.frameworks.chartdata import code, excerpt, make_frameworks, theme

pytestmark = pytest.mark.django_db

B, F = Excerpt.Kind.BARRIER, Excerpt.Kind.FACILITATOR


@pytest.fixture
def coded(cast):
    fw = make_frameworks(cast.project)
    c = fw.cat
    s1, s2, s3 = include_studies(cast, [("Cassidy, C", 2021), ("Lee, K", 2019),
                                        ("Nguyen, T", 2020)])
    for study in (s1, s2, s3):
        code(cast.project, study, c["kta/adapt"], cast.ada, quote=f"Adapted in {study.pk}",
             page="3")
    code(cast.project, s1, c["iap2/collaborate"], cast.ada)
    time = theme(cast.project, "Lack of time")
    excerpt(cast.project, s1, B, cast.ada, [c["com-b-tdf/environment"], c["mcleroy/individual"]],
            time, text="No protected time", page="9")
    excerpt(cast.project, s3, F, cast.ada,
            [c["com-b-tdf/role"], c["mcleroy/interpersonal"], c["mcleroy/organizational"]],
            theme(cast.project, "Mentor <support>"), text="A mentor opened doors")
    return fw, (s1, s2, s3)


def rows_of(html: str, framework_id: int) -> list[tuple[str, str, str]]:
    section = html.split(f'id="framework-{framework_id}"')[1].split("</section>")[0]
    return [(key, n, studies.strip()) for key, n, studies in re.findall(
        r'data-category="([^"]+)">.*?data-n>(\d+)</td>\s*<td data-studies>(.*?)</td>',
        section, re.S)]


def test_charting_page_shows_n_and_citation_numbers_per_category(cast, client_for, coded):
    fw, _ = coded

    response = client_for(cast.viewer).get(reverse("frameworks:charting", args=["ikt"]))

    html = response.content.decode()
    assert response.status_code == 200
    assert rows_of(html, fw.kta.pk) == [("identify", "0", ""), ("adapt", "3", "[1-3]"),
                                        ("assess", "0", ""), ("sustain", "0", "")]
    assert rows_of(html, fw.iap2.pk)[2] == ("collaborate", "1", "[1]")
    assert '<li value="2" data-study="' in html and ">Lee 2019</li>" in html
    assert 'data-theme="Lack of time" data-kind="barrier"' in html
    assert "Mentor &lt;support&gt;" in html and "<support>" not in html
    assert html.count("<svg") == 1


def test_charting_page_shows_short_references_when_asked(cast, client_for, coded):
    fw, _ = coded

    response = client_for(cast.viewer).get(reverse("frameworks:charting", args=["ikt"]),
                                           {"cite": "references"})

    assert rows_of(response.content.decode(), fw.kta.pk)[1] == (
        "adapt", "3", "Cassidy 2021; Lee 2019; Nguyen 2020")


def test_charting_page_runs_the_same_queries_with_one_and_three_studies(cast, client_for):
    fw = make_frameworks(cast.project)
    client = client_for(cast.lead)
    url = reverse("frameworks:charting", args=["ikt"])
    reading = theme(cast.project, "Reading")

    def add(authors_years):
        for study in include_studies(cast, authors_years):
            code(cast.project, study, fw.cat["kta/adapt"], cast.ada)
            excerpt(cast.project, study, B, cast.ada, [fw.cat["mcleroy/individual"]], reading)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    add([("Lee, A", 2020)])
    one = count()
    add([("Kim, B", 2021), ("Ng, C", 2022)])
    assert count() == one


def test_matrix_shows_a_heatmap_whose_cells_open_the_quotes(cast, client_for, coded):
    fw, (s1, s2, s3) = coded
    client = client_for(cast.viewer)

    response = client.get(reverse("frameworks:matrix", args=["ikt", fw.kta.pk]))

    html = response.content.decode()
    cells = re.findall(r'<tr data-study="(\d+)">(.*?)</tr>', html, re.S)
    assert [(int(sid), re.findall(r'data-category="([^"]+)" data-n="(\d+)"', row))
            for sid, row in cells] == [
        (s.pk, [("identify", "0"), ("adapt", "1"), ("assess", "0"), ("sustain", "0")])
        for s in (s1, s2, s3)]
    cell_url = reverse("frameworks:matrix_cell", args=["ikt", fw.kta.pk, s2.pk,
                                                       fw.cat["kta/adapt"].pk])
    assert f'href="{cell_url}"' in html and 'hx-boost="true" hx-target="#evidence-panel"' in html

    partial = client.get(cell_url, headers={"HX-Request": "true"}).content.decode()
    assert partial.strip().startswith('<div id="evidence"')
    assert f"Adapted in {s2.pk}" in partial and "(p. 3)" in partial
    assert f"Adapted in {s1.pk}" not in partial


def test_matrix_cell_of_an_excerpt_framework_shows_the_excerpt(cast, client_for, coded):
    fw, (s1, _, _) = coded
    url = reverse("frameworks:matrix_cell", args=["ikt", fw.comb.pk, s1.pk,
                                                  fw.cat["com-b-tdf/opp-phys"].pk])

    html = client_for(cast.viewer).get(url).content.decode()

    assert re.findall(r'<blockquote[^>]*data-kind="(\w+)">\s*(.*?)\s*</blockquote>', html,
                      re.S)[0][0] == "barrier"
    assert "No protected time" in html and "(p. 9)" in html


def test_matrix_of_another_projects_framework_is_404(cast, client_for, coded):
    from tests.factories import ProjectFactory

    other = make_frameworks(ProjectFactory(slug="other"))

    response = client_for(cast.lead).get(reverse("frameworks:matrix",
                                                 args=["ikt", other.kta.pk]))

    assert response.status_code == 404


def test_figure_downloads_as_svg_with_each_theme_in_its_rings(cast, client_for, coded):
    response = client_for(cast.viewer).get(reverse("frameworks:figure", args=["ikt"]))

    svg = response.content.decode()
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Disposition"] == (
        'attachment; filename="ikt-barriers-facilitators.svg"')
    placed = re.findall(r'class="theme (\w+)" data-level="([^"]+)">(.*?)</text>', svg)
    assert placed == [
        ("barrier", "Individual", "\u2212 Lack of time (n = 1)"),
        ("facilitator", "Interpersonal", "+ Mentor &lt;support&gt; (n = 1)"),
        ("facilitator", "Organizational", "+ Mentor &lt;support&gt; (n = 1)"),
    ]
    assert re.findall(r'class="ring" data-level="([^"]+)"', svg) == [
        "Individual", "Interpersonal", "Organizational"]


def test_figure_lists_themes_without_a_level_under_the_rings(cast, coded):
    fw, (s1, _, _) = coded
    excerpt(cast.project, s1, B, cast.ada, [], theme(cast.project, "Funding"))

    svg = figure.figure_svg(queries.charting(cast.project))

    assert "Themes without a level" in svg
    assert re.findall(r'class="theme barrier">(.*?)</text>', svg) == [
        "\u2212 Funding (n = 1)"]


def test_charting_downloads_the_issue_json_csv_and_xlsx(cast, client_for, coded, tmp_path):
    client = client_for(cast.viewer)
    url = reverse("frameworks:charting_export", args=["ikt"])

    data = json.loads(client.get(url, {"format": "json"}).content)
    csv_text = client.get(url, {"format": "csv"}).content.decode()
    xlsx = client.get(url, {"format": "xlsx"})
    (tmp_path / "c.xlsx").write_bytes(xlsx.content)

    assert data["frameworks"][0] == {"name": "KTA action phases", "categories": [
        {"name": "Identify problem", "n": 0, "studies": []},
        {"name": "Adapt knowledge", "n": 3, "studies": [1, 2, 3]},
        {"name": "Assess barriers", "n": 0, "studies": []},
        {"name": "Sustain knowledge use", "n": 0, "studies": []}]}
    assert data["themes"] == [
        {"name": "Lack of time", "kind": "barrier", "levels": ["Individual"],
         "components": ["Opportunity, physical"], "n": 1, "studies": [1]},
        {"name": "Mentor <support>", "kind": "facilitator",
         "levels": ["Interpersonal", "Organizational"],
         "components": ["Motivation, reflective"], "n": 1, "studies": [3]}]
    assert csv_text.splitlines()[2] == ('framework,KTA action phases,Adapt knowledge,,,,,3,'
                                        '1-3,Cassidy 2021; Lee 2019; Nguyen 2020')
    assert xlsx["Content-Disposition"] == 'attachment; filename="ikt-charting.xlsx"'
    assert openpyxl.load_workbook(tmp_path / "c.xlsx")["Frameworks"]["D3"].value == 3
    assert client.get(url, {"format": "pdf"}).status_code == 404


def test_matrix_pages_the_studies(cast, client_for, coded, monkeypatch):
    from frameworks import charting_views

    fw, (s1, s2, s3) = coded
    monkeypatch.setattr(charting_views, "MATRIX_PAGE", 2)
    url = reverse("frameworks:matrix", args=["ikt", fw.kta.pk])
    client = client_for(cast.viewer)

    first = client.get(url).content.decode()
    second = client.get(url, {"page": 2}).content.decode()

    assert re.findall(r'<tr data-study="(\d+)">', first) == [str(s1.pk), str(s2.pk)]
    assert re.findall(r'<tr data-study="(\d+)">', second) == [str(s3.pk)]
    assert "Studies 3–3 of 3" in second
