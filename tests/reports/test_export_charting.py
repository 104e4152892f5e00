"""Charting: one sheet per framework (category, n, studies), the themes and the studies, and a
zip of the same tables as CSV with the barriers and facilitators figure."""

import csv
import io
import zipfile

import openpyxl
import pytest

from tests.extraction.tabledata import include_studies
from tests.frameworks.chartdata import code, excerpt, make_frameworks, theme
from tests.reports.test_export_data import file_bytes, run_export

pytestmark = pytest.mark.django_db

SHEETS = ["KTA action phases", "IAP2 spectrum", "WIDER checklist", "COM-B TDF",
          "McLeroy levels", "Outcome categories", "Themes", "Studies"]


def _coded(cast):
    fw = make_frameworks(cast.project)
    c = fw.cat
    s1, s2 = include_studies(cast, [("Cassidy, C", 2021), ("=Bad, B", 2019)])
    code(cast.project, s1, c["kta/identify"], cast.ada)
    code(cast.project, s2, c["kta/identify"], cast.ada)
    code(cast.project, s1, c["iap2/collaborate"], cast.ada)
    excerpt(cast.project, s1, "barrier", cast.ada,
            [c["com-b-tdf/knowledge"], c["mcleroy/individual"]],
            theme(cast.project, "@Unfamiliar methods"), text="Partners did not know them")
    return s1, s2


def _sheet(book, name):
    return [list(row) for row in book[name].iter_rows(values_only=True)]


def test_charting_xlsx_has_one_sheet_per_framework_and_the_themes(cast):
    s1, s2 = _coded(cast)

    job = run_export(cast, "charting", "xlsx")

    assert job.message == "The charting of 2 studies: 6 frameworks, 1 theme."
    book = openpyxl.load_workbook(io.BytesIO(file_bytes(job)))
    assert book.sheetnames == SHEETS
    assert _sheet(book, "KTA action phases") == [
        ["Category", "Under", "Retired", "n", "Studies", "References"],
        ["Identify problem", None, None, 2, "1, 2", "'=Bad 2019; Cassidy 2021"],
        ["Adapt knowledge", None, None, 0, None, None],
        ["Assess barriers", None, None, 0, None, None],
        ["Sustain knowledge use", None, None, 0, None, None]]
    assert _sheet(book, "COM-B TDF")[1:3] == [
        ["Capability, psychological", None, None, 1, "2", "Cassidy 2021"],
        ["Knowledge", "Capability, psychological", None, 1, "2", "Cassidy 2021"]]
    assert _sheet(book, "Themes") == [
        ["Theme", "Kind", "Levels", "Components", "n", "Studies", "References"],
        ["'@Unfamiliar methods", "barrier", "Individual", "Capability, psychological", 1, "2",
         "Cassidy 2021"]]
    assert _sheet(book, "Studies") == [["Number", "Study", "Study ID"], [1, "'=Bad 2019", s2.pk],
                                       [2, "Cassidy 2021", s1.pk]]


def test_charting_zip_holds_a_csv_per_table_and_the_figure(cast):
    _coded(cast)

    job = run_export(cast, "charting", "zip")

    assert job.result_file.name.endswith(".zip")
    archive = zipfile.ZipFile(io.BytesIO(file_bytes(job)))
    assert archive.namelist() == [
        "framework-kta-action-phases.csv", "framework-iap2-spectrum.csv",
        "framework-wider-checklist.csv", "framework-com-b-tdf.csv",
        "framework-mcleroy-levels.csv", "framework-outcome-categories.csv", "themes.csv",
        "studies.csv", "figure-2-barriers-and-facilitators.svg"]
    kta = list(csv.reader(io.StringIO(archive.read("framework-kta-action-phases.csv")
                                      .decode("utf-8-sig"))))
    assert kta[:2] == [["Category", "Under", "Retired", "n", "Studies", "References"],
                       ["Identify problem", "", "", "2", "1, 2", "'=Bad 2019; Cassidy 2021"]]
    themes = archive.read("themes.csv").decode("utf-8-sig")
    assert "'@Unfamiliar methods,barrier,Individual" in themes
    svg = archive.read("figure-2-barriers-and-facilitators.svg").decode()
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert "@Unfamiliar methods (n = 1)" in svg


def test_charting_of_a_project_without_frameworks_is_the_themes_and_studies_sheets(cast):
    job = run_export(cast, "charting", "xlsx")

    book = openpyxl.load_workbook(io.BytesIO(file_bytes(job)))
    assert book.sheetnames == ["Themes", "Studies"]
