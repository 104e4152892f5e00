"""The PRISMA page, the record list behind each number, the downloads, and who sees what."""

import csv
import io
import json
import re
import struct
from html import unescape

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from projects.models import Membership, Project
from reports import prisma
from reports.prisma_svg import render_svg
from tests.factories import MembershipFactory, ProjectFactory
from tests.reports import prismadata as data

LINKED_NUMBER = re.compile(r'<a href="([^"]+)"><text [^>]*>([^<]*)\(n = ([\d,]+)\)</text></a>')


def svg_text(markup: str) -> str:
    """The diagram's words, its wrapped lines joined by spaces."""
    return " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", markup))


def page_url(slug="ikt"):
    return reverse("reports:prisma", args=[slug])


def download(client, fmt, slug="ikt"):
    return client.get(reverse("reports:prisma_download", args=[slug, fmt]))


def test_page_draws_the_diagram_with_every_number_a_link(cast, client_for):
    data.several_states(cast)

    response = client_for(cast.lead).get(page_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and "Identification of studies via other methods" in html
    links = LINKED_NUMBER.findall(html)
    assert ("/p/ikt/reports/prisma/screened/", "Records screened ", "14") in links
    assert ("/p/ikt/reports/prisma/title_abstract_conflict/", "In conflict ", "2") in links
    assert ("/p/ikt/reports/prisma/not_retrieved/?column=other", "Reports not retrieved ",
            "1") in links
    assert ("/p/ikt/reports/prisma/identified_databases/register/", "Registers ", "2") in links
    assert len(links) == 32
    assert "do not add up" not in html
    assert "3 records awaiting title and abstract screening" in " ".join(html.split())


def test_every_link_of_the_diagram_opens_a_list_as_long_as_its_number(cast, client_for):
    data.several_states(cast)
    client = client_for(cast.lead)
    html = client.get(page_url()).content.decode()

    for url, _label, n in LINKED_NUMBER.findall(html):
        listed = client.get(unescape(url))
        body = listed.content.decode()
        assert f'<p id="prisma-box-count">n = {n}</p>' in body, url
        rows = body.split('id="prisma-box-items"')[1].split("</tbody>")[0]
        if "included_studies" in url:
            assert rows.count('<tr class="prisma-study">') == int(n), url
        else:
            assert rows.count("/references/records/") == int(n), url


def test_viewer_sees_the_numbers_but_no_conflict_links(cast, client_for):
    data.several_states(cast)

    html = client_for(cast.viewer).get(page_url()).content.decode()

    links = [url for url, _label, _n in LINKED_NUMBER.findall(html)]
    assert "/p/ikt/reports/prisma/screened/" in links
    assert not [url for url in links if "conflict" in url]
    assert ">In conflict (n = 2)</text>" in html  # the number, without a link
    assert len(links) == 29


def test_conflict_list_is_for_leads_only(cast, client_for):
    data.several_states(cast)
    url = reverse("reports:prisma_box", args=["ikt", "title_abstract_conflict"])

    assert client_for(cast.viewer).get(url).status_code == 403
    assert client_for(cast.ada).get(url).status_code == 403
    assert client_for(cast.lead).get(url).status_code == 200


def test_viewer_opens_a_record_list_with_links_to_each_record(cast, client_for):
    b = data.several_states(cast)
    url = reverse("reports:prisma_box", args=["ikt", "not_retrieved"])

    response = client_for(cast.viewer).get(url)

    body = response.content.decode()
    assert response.status_code == 200
    assert '<p id="prisma-box-count">n = 2</p>' in body
    for record in (b.medline[2], b.experts[1]):
        assert reverse("references:record", args=["ikt", record.pk]) in body


def test_a_source_list_names_its_source(cast, client_for):
    b = data.several_states(cast)
    url = reverse("reports:prisma_box_key",
                  args=["ikt", "identified_databases", b.trials[0].source_id])

    body = client_for(cast.viewer).get(url).content.decode()

    assert "Records identified from databases and registers: Trials" in body
    assert '<p id="prisma-box-count">n = 2</p>' in body


def test_a_list_is_paged_by_fifty(cast, client_for):
    data.import_source(cast.project, cast.lead, "MEDLINE", 55)
    client = client_for(cast.viewer)
    url = reverse("reports:prisma_box", args=["ikt", "screened"])

    first = client.get(url).content.decode()
    after = re.search(r'href="\?after=(\d+)"', first).group(1)
    second = client.get(f"{url}?after={after}").content.decode()

    assert first.count("/references/records/") == 50
    assert second.count("/references/records/") == 5
    assert 'href="?before=' in second and "?after=" not in second


@pytest.mark.parametrize("n", [1, 3])
def test_a_list_reads_in_a_fixed_number_of_queries(cast, client_for, n,
                                                   django_assert_num_queries):
    data.import_source(cast.project, cast.lead, "MEDLINE", n)
    client = client_for(cast.viewer)
    url = reverse("reports:prisma_box", args=["ikt", "screened"])

    # session, user, membership, the page, the count
    with django_assert_num_queries(5):
        client.get(url)


@pytest.mark.parametrize("path", ["nothing/", "screened/3/", "identified_other/x/",
                                  "excluded_eligibility/999999/", "screened/?column=left"])
def test_an_unknown_box_key_or_column_is_404(cast, client_for, path):
    response = client_for(cast.viewer).get(f"/p/ikt/reports/prisma/{path}")

    assert response.status_code == 404


def test_outsider_gets_404_everywhere(cast, client_for):
    client = client_for(cast.outsider)

    assert client.get(page_url()).status_code == 404
    assert client.get(reverse("reports:prisma_box", args=["ikt", "screened"])).status_code == 404
    assert download(client, "json").status_code == 404


def test_post_is_not_allowed(cast, client_for):
    client = client_for(cast.lead)

    assert client.post(page_url()).status_code == 405
    assert client.post(reverse("reports:prisma_download", args=["ikt", "json"])).status_code == 405


def test_a_scoping_review_says_sources_of_evidence(cast, client_for):
    Project.objects.filter(pk=cast.project.pk).update(review_type="scoping")
    data.import_source(cast.project, cast.lead, "MEDLINE", 1)

    html = client_for(cast.viewer).get(page_url()).content.decode()

    words = svg_text(html)
    assert "PRISMA-ScR flow diagram" in html
    assert "Sources of evidence sought for retrieval (n = 0)" in words
    assert "Sources of evidence included in review (n = 0)" in words
    assert "Reports of included sources of evidence (n = 0)" in words
    assert "Reports sought" not in words


def test_a_systematic_review_says_reports_and_studies(cast, client_for):
    Project.objects.filter(pk=cast.project.pk).update(review_type="systematic")
    data.import_source(cast.project, cast.lead, "MEDLINE", 1)

    html = client_for(cast.viewer).get(page_url()).content.decode()

    words = svg_text(html)
    assert "Reports sought for retrieval (n = 0)" in words
    assert "Studies included in review (n = 0)" in words
    assert "Identification of studies via other methods" not in html  # one column


def test_the_figure_says_plainly_when_the_numbers_do_not_add_up(cast):
    flow = prisma.flow(cast.project)
    flow.main.screened = 5  # nothing identified, yet five screened
    request = RequestFactory().get("/")
    request.user = cast.viewer
    project = cast.project
    project.membership = Membership.objects.get(project=project, user=cast.viewer)

    html = render_to_string("reports/includes/prisma_figure.html",
                            {"project": project, "flow": flow}, request=request)

    assert "These numbers do not add up." in html
    assert ("records identified (0) − removed before screening (0) = 0, but records "
            "screened = 5.") in html


def test_json_download_has_the_fixed_keys(cast, client_for):
    data.several_states(cast)

    response = download(client_for(cast.viewer), "json")

    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="ikt-prisma.json"'
    assert json.loads(response.content) == data.SEVERAL_STATES_JSON


def test_csv_download_has_one_row_per_number(cast, client_for):
    data.several_states(cast)

    response = download(client_for(cast.viewer), "csv")

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["key", "sub_key", "n"]
    assert rows[1:7] == [["identified_databases", "MEDLINE", "8"],
                         ["identified_databases", "Embase", "4"],
                         ["identified_databases", "Trials", "2"],
                         ["identified_databases", "Embase (2)", "1"],
                         ["identified_other", "Websites", "2"],
                         ["identified_other", "Experts", "3"]]
    assert ["screened", "", "14"] in rows
    assert ["excluded_eligibility", "Wrong design", "2"] in rows
    assert rows[-1] == ["in_progress", "full_text_conflict", "1"]
    assert len(rows) == 1 + 6 + 10 + 2 + 4  # header, sources, steps, reasons, open work


def test_svg_download_holds_the_numbers_and_escapes_a_hostile_source_name(cast, client_for):
    data.import_source(cast.project, cast.lead, '<script>alert("x")</script> & =cmd', 2)
    data.import_source(cast.project, cast.lead, "Experts", 1, kind="other", method="other",
                       starts_at_full_text=True)

    response = download(client_for(cast.viewer), "svg")

    svg = response.content.decode()
    assert response["Content-Type"] == "image/svg+xml"
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert "<script>" not in svg
    words = svg_text(svg)
    assert "&lt;script&gt;alert(\"x\")&lt;/script&gt; &amp; =cmd (n = 2)" in words
    assert "Records screened (n = 2)" in words
    assert "Other (e.g. experts): Experts (n = 1)" in words
    assert "<a " not in svg  # a file: no links into the app


def test_page_escapes_a_hostile_source_name(cast, client_for):
    data.import_source(cast.project, cast.lead, "<img src=x onerror=alert(1)>", 1)

    html = client_for(cast.viewer).get(page_url()).content.decode()

    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_png_download_is_a_png_of_the_svgs_size(cast, client_for):
    data.several_states(cast)
    svg = render_svg(prisma.flow(cast.project))
    width, height = (int(v) for v in re.match(r'<svg [^>]*width="(\d+)" height="(\d+)"',
                                              svg).groups())

    response = download(client_for(cast.viewer), "png")

    png = response.content
    assert response["Content-Type"] == "image/png"
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (width, height)


def test_prisma2020_download_follows_the_packages_template(cast, client_for):
    data.several_states(cast)

    response = download(client_for(cast.viewer), "prisma2020")

    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == ["data", "node", "box", "description", "boxtext", "tooltips", "url",
                             "n"]
    assert [r["data"] for r in rows] == [
        "NA", "previous_studies", "previous_reports", "NA", "database_results",
        "database_specific_results", "register_results", "register_specific_results", "NA",
        "website_results", "organisation_results", "citations_results", "duplicates",
        "excluded_automatic", "excluded_other", "records_screened", "records_excluded",
        "dbr_sought_reports", "dbr_notretrieved_reports", "other_sought_reports",
        "other_notretrieved_reports", "dbr_assessed", "dbr_excluded", "other_assessed",
        "other_excluded", "new_studies", "new_reports", "total_studies", "total_reports",
        "identification", "screening", "included"]
    n = {r["data"]: r["n"] for r in rows if r["data"] != "NA"}
    assert n == {
        "previous_studies": "0", "previous_reports": "0", "database_results": "13",
        "database_specific_results": "MEDLINE, 8; Embase, 4; Embase (2), 1",
        "register_results": "2", "register_specific_results": "Trials, 2",
        "website_results": "2", "organisation_results": "0", "citations_results": "3",
        "duplicates": "1", "excluded_automatic": "1", "excluded_other": "1",
        "records_screened": "14", "records_excluded": "3", "dbr_sought_reports": "6",
        "dbr_notretrieved_reports": "1", "other_sought_reports": "3",
        "other_notretrieved_reports": "1", "dbr_assessed": "5",
        "dbr_excluded": "Wrong design, 2; Author not a trainee, 1", "other_assessed": "2",
        "other_excluded": "", "new_studies": "1", "new_reports": "2", "total_studies": "1",
        "total_reports": "2", "identification": "0", "screening": "0", "included": "0"}
    citations = next(r for r in rows if r["data"] == "citations_results")
    assert citations["boxtext"] == "Citation searching and other methods"


def test_prisma2020_names_lose_the_packages_separators_and_formulas(cast, client_for):
    data.import_source(cast.project, cast.lead, "=Embase; Elsevier, 2020", 1)

    response = download(client_for(cast.viewer), "prisma2020")

    rows = {r["data"]: r for r in csv.DictReader(io.StringIO(response.content.decode()))}
    assert rows["database_specific_results"]["n"] == "'=Embase Elsevier 2020, 1"


def test_an_unknown_format_is_404(cast, client_for):
    assert download(client_for(cast.viewer), "docx").status_code == 404


def test_another_projects_records_never_show(cast, client_for):
    data.several_states(cast)
    other = ProjectFactory(slug="other")
    MembershipFactory(project=other, user=cast.viewer, role="viewer")

    response = client_for(cast.viewer).get(reverse("reports:prisma_box",
                                                   args=["other", "screened"]))

    assert '<p id="prisma-box-count">n = 0</p>' in response.content.decode()


def test_reports_home_links_the_diagram_and_its_downloads(cast, client_for):
    html = client_for(cast.viewer).get(reverse("reports:home", args=["ikt"])).content.decode()

    assert 'href="/p/ikt/reports/prisma/"' in html
    assert 'href="/p/ikt/reports/prisma/download/prisma2020/"' in html


def test_included_studies_are_listed_by_first_author_and_year_with_their_reports(cast,
                                                                                client_for):
    data.several_states(cast)

    body = client_for(cast.viewer).get("/p/ikt/reports/prisma/included_studies/").content.decode()

    rows = body.split('id="prisma-box-items"')[1].split("</tbody>")[0]
    assert rows.count('<tr class="prisma-study"><td>Author0 2000</td>') == 1
    assert rows.count("/references/records/") == 2  # MEDLINE 1 and Experts 1, its two reports
