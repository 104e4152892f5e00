"""The import service and command: a file lands whole as one source, or not at all."""

import csv

import pytest
from django.core.management import CommandError, call_command

from projects.models import AuditEvent
from references import services
from references.models import Record, Source, Study
from references.parsers.base import ImportFileError

RIS = """TY  - JOUR
ID  - rec-1
AU  - Lee, Kim
AU  - Okafor, Ada
TI  - Trainee-led partnership research in primary care
T2  - Health Research Policy and Systems
PY  - 2019
VL  - 17
IS  - 2
SP  - 101
EP  - 110
DO  - https://doi.org/10.1186/S12961-019-0001-X
AB  - We describe how graduate students engaged knowledge users.
KW  - integrated knowledge translation
ER  -

TY  - JOUR
ID  - rec-2
AU  - Singh, Priya
TI  - Co-designing a nursing study with patients
T2  - Nursing Inquiry
PY  - 2021
ER  -

TY  - JOUR
ID  - rec-3
AU  - Brown, Sam
PY  - 2018
ER  -
"""


def import_ris(project, text=RIS, name="MEDLINE (Ovid)", **kwargs):
    return services.import_file(project=project, data=text.encode(), filename="medline.ris",
                                source_name=name, **kwargs)


def test_import_stores_every_record_with_its_fields(cast):
    report = import_ris(cast.project, user=cast.ada, search_strategy="trainee* AND partner*")

    source = Source.objects.get()
    assert (source.name, source.kind, source.file_name, source.file_format, source.record_count,
            source.search_strategy, source.imported_by) == (
        "MEDLINE (Ovid)", "database", "medline.ris", "ris", 3, "trainee* AND partner*", cast.ada)
    first, second, third = Record.objects.order_by("source_position")
    assert (first.title, first.authors, first.year, first.journal, first.volume, first.issue,
            first.doi, first.source_record_id, first.source_position) == (
        "Trainee-led partnership research in primary care", ["Lee, Kim", "Okafor, Ada"], 2019,
        "Health Research Policy and Systems", "17", "2", "10.1186/s12961-019-0001-x", "rec-1", 1)
    assert first.pages.startswith("101")
    assert first.keywords == ["integrated knowledge translation"]
    assert first.raw  # the record as parsed is kept
    assert (second.source_position, third.source_position) == (2, 3)
    assert report.imported == 3
    assert report.unusable == [{"position": 3, "line": third.source_line,
                                "problem": "no title and no abstract"}]


def test_every_record_starts_as_its_own_study(cast):
    import_ris(cast.project)

    assert Study.objects.filter(project=cast.project).count() == 3
    assert len(set(Record.objects.values_list("study_id", flat=True))) == 3


def test_import_is_audited(cast):
    import_ris(cast.project, user=cast.lead)

    event = AuditEvent.objects.get(action="source.import")
    assert (event.actor, event.after) == (cast.lead, {
        "file": "medline.ris", "format": "ris", "records": 3, "unusable": 1})


def test_a_bad_file_stores_nothing(cast):
    with pytest.raises(ImportFileError) as error:
        services.import_file(project=cast.project, data=b"\x00\x01 not a reference file",
                             filename="junk.bin", source_name="Junk")

    assert "junk.bin" in str(error.value)
    assert Source.objects.count() == Record.objects.count() == Study.objects.count() == 0


def test_import_needs_a_source_name(cast):
    with pytest.raises(services.ServiceError, match="needs a name"):
        import_ris(cast.project, name="  ")
    assert Source.objects.count() == 0


def test_a_second_import_is_a_second_source(cast):
    import_ris(cast.project, name="MEDLINE")
    import_ris(cast.project, name="Embase")

    assert list(Source.objects.values_list("name", "record_count")) == [
        ("MEDLINE", 3), ("Embase", 3)]
    assert Record.objects.filter(project=cast.project).count() == 6


def test_nul_characters_do_not_break_the_import(cast):
    import_ris(cast.project, text=RIS.replace("Co-designing", "Co-\x00designing"))

    assert Record.objects.get(source_position=2).title == "Co-designing a nursing study with " \
                                                           "patients"


def test_import_command_prints_counts(cast, tmp_path, capsys):
    path = tmp_path / "medline.ris"
    path.write_text(RIS)

    call_command("import_references", "ikt", str(path), "--source", "MEDLINE (Ovid)",
                 "--date-searched", "2020-06-24")

    out = capsys.readouterr().out
    assert out.startswith("Imported 3 records from medline.ris as source “MEDLINE (Ovid)”. "
                          "1 of them are unusable")
    assert "unusable: record 3" in out
    assert Source.objects.get().date_searched.isoformat() == "2020-06-24"


def test_import_command_fails_with_the_message_of_the_page(cast, tmp_path):
    path = tmp_path / "broken.ris"
    path.write_bytes(b"\x00\x01 not a reference file")

    with pytest.raises(CommandError) as error:
        call_command("import_references", "ikt", str(path), "--source", "X")

    with pytest.raises(ImportFileError) as direct:
        services.import_file(project=cast.project, data=path.read_bytes(),
                             filename="broken.ris", source_name="X")
    assert str(error.value) == str(direct.value)
    assert Source.objects.count() == 0


def test_export_records_command(cast, tmp_path):
    import_ris(cast.project)
    out = tmp_path / "records.csv"

    call_command("export_records", "ikt", "--out", str(out))

    rows = list(csv.DictReader(out.open()))
    assert [r["source_record_id"] for r in rows] == ["rec-1", "rec-2", "rec-3"]
    assert {r["dedup_status"] for r in rows} == {"unique"}
    assert rows[0]["doi"] == "10.1186/s12961-019-0001-x"
    assert (rows[0]["source"], rows[0]["source_position"], rows[0]["year"]) == (
        "MEDLINE (Ovid)", "1", "2019")
