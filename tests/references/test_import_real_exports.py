"""Every real export (../shared/benchdata formats/ and pipeline/) through the command line,
as a user's script would run it: the right record count lands in the database."""

import pytest
from django.core.management import call_command

from references.models import Record, Source
from tests.conftest import BENCHDATA
from tests.references.test_real_exports import FILES

pytestmark = pytest.mark.benchdata


@pytest.mark.parametrize("path", sorted(FILES))
def test_import_references_command_stores_every_record(cast, path, capsys):
    file_format, expected = FILES[path]

    call_command("import_references", "ikt", str(BENCHDATA / path), "--source", path)

    source = Source.objects.get()
    assert (source.file_format, source.record_count) == (file_format, expected)
    assert Record.objects.filter(source=source).count() == expected
    assert capsys.readouterr().out.startswith(
        f"Imported {expected} records from {path.rsplit('/', 1)[-1]} as source “{path}”.")


def test_wildfire_pipeline_imports_as_six_sources_and_deduplicates(cast, capsys):
    searches = ["wos_278", "medline_84", "econlit_3", "Dimensions_246", "lens_343",
                "envindex_100"]
    for name in searches:
        call_command("import_references", "ikt",
                     str(BENCHDATA / f"pipeline/citesource_wildfire_stages/{name}.ris"),
                     "--source", name)
    capsys.readouterr()

    call_command("deduplicate", "ikt")

    out = capsys.readouterr().out
    total = Record.objects.filter(project=cast.project).count()
    duplicates = Record.objects.filter(project=cast.project, duplicate_of__isnull=False).count()
    assert total == 1054
    assert out.splitlines()[0].startswith(f"Checked 1054 records: {duplicates} new duplicates "
                                          f"merged automatically, {duplicates} duplicates in all")
    # Every duplicate points at a primary of the same project that is itself no duplicate.
    assert not Record.objects.filter(project=cast.project,
                                     duplicate_of__duplicate_of__isnull=False).exists()
    assert duplicates > 0
