"""`manage.py export_prisma <slug> --format ... --out FILE` writes what the page offers."""

import csv
import json

import pytest
from django.core.management import CommandError, call_command

from reports import prisma
from tests.reports import prismadata as data


def test_json_written_by_the_command_has_the_fixed_keys_and_the_flow_s_numbers(cast, tmp_path):
    data.several_states(cast)
    out = tmp_path / "flow.json"

    call_command("export_prisma", "ikt", "--format", "json", "--out", str(out))

    written = json.loads(out.read_text())
    assert list(written) == list(prisma.JSON_KEYS)
    assert written == prisma.flow(cast.project).as_json()
    assert written["screened"] == 14
    assert written["excluded_screening"] == 3


def test_prisma2020_csv_has_the_package_s_columns(cast, tmp_path):
    data.several_states(cast)
    out = tmp_path / "PRISMA.csv"

    call_command("export_prisma", "ikt", "--format", "prisma2020", "--out", str(out))

    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["data", "node", "box", "description", "boxtext", "tooltips",
                             "url", "n"]
    n = {row["data"]: row["n"] for row in rows}
    assert n["records_screened"] == "14"
    assert n["records_excluded"] == "3"
    assert n["dbr_excluded"] == "Wrong design, 2; Author not a trainee, 1"


def test_png_starts_with_the_png_signature(cast, tmp_path):
    data.several_states(cast)
    out = tmp_path / "flow.png"

    call_command("export_prisma", "ikt", "--format", "png", "--out", str(out))

    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_project_is_refused_with_its_slug(db, tmp_path):
    with pytest.raises(CommandError, match="No project with the slug 'nope'"):
        call_command("export_prisma", "nope", "--out", str(tmp_path / "x.json"))
