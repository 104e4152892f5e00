import csv
import io
from pathlib import Path

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from projects.jobs import run_job
from projects.models import Job
from references import jobs
from references.models import DuplicateCandidate, Record, Source
from references.views import SESSION_KEY
from tests.factories import RecordFactory, SourceFactory
from tests.references.test_import import RIS


def upload_form(name="medline.ris", content=None, **extra):
    content = RIS.encode() if content is None else content
    return {"file": SimpleUploadedFile(name, content), "name": "MEDLINE (Ovid)",
            "kind": "database", "date_searched": "2020-06-24", "search_strategy": "trainee*",
            "file_format": "auto", **extra}


def test_upload_starts_an_import_job_that_stores_the_source(cast, client_for):
    response = client_for(cast.ada).post(reverse("references:import", args=["ikt"]),
                                         upload_form())

    job = Job.objects.get(kind=jobs.IMPORT)
    assert response["Location"] == reverse("projects:job", args=["ikt", job.pk])
    assert (job.params["source_name"], job.params["format"], job.params["date_searched"]) == (
        "MEDLINE (Ovid)", "ris", "2020-06-24")

    run_job(job.pk, jobs.run_import)

    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    assert job.message.startswith("Imported 3 records from medline.ris as source “MEDLINE "
                                  "(Ovid)”. 1 of them are unusable")
    line = Record.objects.get(source_position=3).source_line
    assert job.result["details"] == [f"Record 3 (line {line}): no title and no abstract"]
    assert Source.objects.get().date_searched.isoformat() == "2020-06-24"
    dedup = Job.objects.get(kind=jobs.DEDUPLICATE)
    assert (dedup.status, dedup.started_by) == ("queued", cast.ada)


def test_upload_refuses_a_file_that_is_not_references(cast, client_for):
    png = b"\x89PNG\r\n\x1a\n" + bytes(200)

    response = client_for(cast.ada).post(reverse("references:import", args=["ikt"]),
                                         upload_form(name="results.ris", content=png))

    assert response.status_code == 200
    assert "results.ris" in response.context["form"].errors["file"][0]
    assert Job.objects.count() == 0


def test_upload_refuses_a_file_over_the_limit(cast, client_for, settings):
    settings.MAX_UPLOAD_MB = 0

    response = client_for(cast.ada).post(reverse("references:import", args=["ikt"]),
                                         upload_form())

    assert response.context["form"].errors["file"] == [
        "medline.ris is 0 MB: the limit is 0 MB. Split the export into smaller files."]
    assert Job.objects.count() == 0


def test_a_failed_import_says_why_on_its_job(cast, client_for):
    client_for(cast.ada).post(reverse("references:import", args=["ikt"]),
                              upload_form(content=RIS.replace("ER  - \n\nTY  - JOUR\nID  - rec-2",
                                                              "TY  - JOUR\nID  - rec-2").encode()
                                          + b"TY  - JOUR\nTI  - unfinished\n"))
    job = Job.objects.get(kind=jobs.IMPORT)

    run_job(job.pk, jobs.run_import)

    job.refresh_from_db()
    assert job.status == "failed"
    assert job.message.startswith("medline.ris")
    assert Source.objects.count() == Record.objects.count() == 0


def test_csv_upload_asks_for_the_columns(cast, client_for):
    client = client_for(cast.ada)
    content = "Title,Authors,Publication Year,DOI,Notes\n" \
              "Peer mentoring for residents,Lee K; Okafor A,2020,10.1234/abc,n\n" \
              "Community advisory boards,Singh P,2019,,m\n"

    response = client.post(reverse("references:import", args=["ikt"]),
                           upload_form(name="grey.csv", content=content.encode(), kind="other"))

    mapping_url = response["Location"]
    page = client.get(mapping_url)
    assert page.context["columns"] == ["Title", "Authors", "Publication Year", "DOI", "Notes"]
    assert page.context["form"]["title"].value() == "Title"
    assert page.context["form"]["year"].value() == "Publication Year"

    response = client.post(mapping_url, {"title": "Title", "authors": "Authors",
                                         "year": "Publication Year", "doi": "DOI"})
    job = Job.objects.get(kind=jobs.IMPORT)
    assert response["Location"] == reverse("projects:job", args=["ikt", job.pk])
    run_job(job.pk, jobs.run_import)
    records = list(Record.objects.order_by("source_position").values_list(
        "title", "authors", "year", "doi"))
    assert records == [("Peer mentoring for residents", ["Lee K", "Okafor A"], 2020, "10.1234/abc"),
                       ("Community advisory boards", ["Singh P"], 2019, "")]
    assert Source.objects.get().kind == "other"


def test_mapping_page_shows_the_columns_read_at_upload_without_reading_the_file_again(
        cast, client_for):
    client = client_for(cast.ada)
    content = "Title,Authors,Publication Year\n" + "".join(
        f"Study {n},Lee K,{2000 + n}\n" for n in range(1, 9))
    response = client.post(reverse("references:import", args=["ikt"]),
                           upload_form(name="grey.csv", content=content.encode()))
    mapping_url = response["Location"]
    [pending] = client.session[SESSION_KEY].values()
    Path(default_storage.path(pending["upload"])).write_bytes(b"")  # replaced on disk

    page = client.get(mapping_url)
    response = client.post(mapping_url, {"title": "Title", "authors": "Authors",
                                         "year": "Publication Year"})

    assert page.status_code == 200
    assert page.context["columns"] == ["Title", "Authors", "Publication Year"]
    assert page.context["sample"] == [[f"Study {n}", "Lee K", str(2000 + n)]
                                      for n in range(1, 6)]
    assert "Study 5" in page.text and "Study 6" not in page.text
    job = Job.objects.get(kind=jobs.IMPORT)
    assert response["Location"] == reverse("projects:job", args=["ikt", job.pk])
    assert (job.params["upload"], job.params["mapping"]) == (
        pending["upload"], {"title": "Title", "authors": "Authors", "year": "Publication Year"})
    assert SESSION_KEY not in client.session or client.session[SESSION_KEY] == {}


def test_upload_refuses_a_table_whose_first_rows_cannot_be_read(cast, client_for):
    response = client_for(cast.ada).post(reverse("references:import", args=["ikt"]), upload_form(
        name="grey.csv", content=b"Title,Year\nA study,2020\nA second, study,2021\n"))

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "grey.csv, line 3, record 2: this row has 3 cells but the header (line 1) has 2: is a "
        "delimiter or a quote \" too many or missing?"]
    assert Job.objects.count() == 0


def test_a_big_csv_through_the_mapping_page_lands_whole(cast, client_for):
    abstract = "Trainees and knowledge users, together.\n" * 30  # 1.2 KB, over lines
    rows = [["Title", "Abstract", "Year"]] + [
        [f"Study {n}", f"{abstract}End of {n}.", "2020"] for n in range(1, 1201)]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    content = out.getvalue().encode()
    assert len(content) > 1024 * 1024  # beyond the slice the preview reads
    client = client_for(cast.ada)
    response = client.post(reverse("references:import", args=["ikt"]),
                           upload_form(name="big.csv", content=content))

    page = client.get(response["Location"])
    client.post(response["Location"], {"title": "Title", "abstract": "Abstract", "year": "Year"})
    run_job(Job.objects.get(kind=jobs.IMPORT).pk, jobs.run_import)

    assert [row[0] for row in page.context["sample"]] == [f"Study {n}" for n in range(1, 6)]
    assert Record.objects.count() == 1200
    last = Record.objects.get(source_position=1200)
    assert (last.title, last.abstract) == ("Study 1200", f"{abstract}End of 1200.".strip())


def test_mapping_refuses_one_column_for_two_fields(cast, client_for):
    client = client_for(cast.ada)
    response = client.post(reverse("references:import", args=["ikt"]), upload_form(
        name="grey.csv", content=b"Title,Year\nA study,2020\n"))

    page = client.post(response["Location"], {"title": "Title", "abstract": "Title"})

    assert page.context["form"].non_field_errors() == [
        "The column “Title” is mapped to both Title and Abstract."]
    assert Job.objects.count() == 0


def test_reference_list_counts_per_source(cast, client_for):
    medline = SourceFactory(project=cast.project, name="MEDLINE")
    embase = SourceFactory(project=cast.project, name="Embase", kind="database")
    grey = SourceFactory(project=cast.project, name="Google", kind="other")
    kept = RecordFactory(project=cast.project, source=medline)
    RecordFactory(project=cast.project, source=embase, duplicate_of=kept)
    RecordFactory(project=cast.project, source=grey)

    response = client_for(cast.viewer).get(reverse("references:list", args=["ikt"]))

    counts = response.context["counts"]
    assert (counts["identified"], counts["from_databases"], counts["from_other"],
            counts["duplicates"], counts["remaining"]) == (3, 2, 1, 1, 2)
    assert [(s.name, s.records_in, s.duplicates) for s in response.context["sources"]] == [
        ("MEDLINE", 1, 0), ("Embase", 1, 1), ("Google", 1, 0)]


def test_reference_list_search_and_status_filters(cast, client_for):
    source = SourceFactory(project=cast.project)
    hit = RecordFactory(project=cast.project, source=source, title="Nurse-led co-design")
    other = RecordFactory(project=cast.project, source=source, title="Unrelated")
    dup = RecordFactory(project=cast.project, source=source, title="Copy", duplicate_of=other)
    client = client_for(cast.viewer)
    url = reverse("references:list", args=["ikt"])

    assert [r.pk for r in client.get(url, {"q": "nurse-LED"}).context["records"]] == [hit.pk]
    assert [r.pk for r in client.get(url, {"status": "duplicate"}).context["records"]] == [dup.pk]
    assert [r.pk for r in client.get(url, {"status": "primary"}).context["records"]] == [other.pk]
    assert [r.pk for r in client.get(url, {"status": "unique"}).context["records"]] == [hit.pk]


def test_reference_list_pages_by_id(cast, client_for):
    source = SourceFactory(project=cast.project)
    records = RecordFactory.create_batch(55, project=cast.project, source=source)
    client = client_for(cast.viewer)
    url = reverse("references:list", args=["ikt"])

    first = client.get(url).context
    second = client.get(url, {"after": first["last"]}).context
    back = client.get(url, {"before": second["first"]}).context

    assert [r.pk for r in first["records"]] == [r.pk for r in records[:50]]
    assert [r.pk for r in second["records"]] == [r.pk for r in records[50:]]
    assert (first["more_after"], second["more_after"], second["more_before"]) == (
        True, False, True)
    assert [r.pk for r in back["records"]] == [r.pk for r in records[:50]]


def test_reference_list_query_count_is_constant(cast, client_for, django_assert_num_queries):
    source = SourceFactory(project=cast.project)
    RecordFactory(project=cast.project, source=source)
    client = client_for(cast.viewer)
    url = reverse("references:list", args=["ikt"])
    with django_assert_num_queries(7) as one:
        client.get(url)
    RecordFactory.create_batch(2, project=cast.project, source=source)
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(url)
    assert len(response.context["records"]) == 3


def test_record_page_escapes_imported_text(cast, client_for):
    record = RecordFactory(project=cast.project, title="<img src=x onerror=alert(1)>",
                           abstract="<script>alert(2)</script>", raw={"TI": "<b>raw</b>"})

    page = client_for(cast.viewer).get(reverse("references:record", args=["ikt", record.pk]))

    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page.text
    assert "<b>raw</b>" not in page.text and "<script>alert(2)" not in page.text


def test_duplicate_pair_page_highlights_differences_and_decides(cast, client_for):
    source = SourceFactory(project=cast.project)
    a = RecordFactory(project=cast.project, source=source, title="Peer <mentoring> in 2019",
                      year=2019)
    b = RecordFactory(project=cast.project, source=source, title="Peer <mentoring> in 2020",
                      year=2020)
    pair = DuplicateCandidate.objects.create(project=cast.project, record_a=a, record_b=b,
                                             score=0.9)
    client = client_for(cast.lead)
    url = reverse("references:duplicate", args=["ikt", pair.pk])

    page = client.get(url).text
    assert "Peer &lt;mentoring&gt; in <mark>2019</mark>" in page
    assert "Peer &lt;mentoring&gt; in <mark>2020</mark>" in page

    response = client.post(url, {"decision": "duplicate", "primary": str(b.pk)})
    assert response["Location"] == reverse("references:duplicates", args=["ikt"])
    a.refresh_from_db()
    assert a.duplicate_of == b


def test_link_and_unlink_reports_of_a_study(cast, client_for):
    thesis = RecordFactory(project=cast.project, title="A thesis")
    article = RecordFactory(project=cast.project, title="The article from it")
    client = client_for(cast.ada)

    client.post(reverse("references:link_study", args=["ikt", article.pk]),
                {"record": thesis.pk})
    article.refresh_from_db()
    assert article.study_id == thesis.study_id

    client.post(reverse("references:unlink_study", args=["ikt", article.pk]))
    article.refresh_from_db()
    assert article.study_id != thesis.study_id


def test_link_refuses_a_record_of_another_project(cast, client_for):
    mine = RecordFactory(project=cast.project)
    theirs = RecordFactory()

    response = client_for(cast.ada).post(reverse("references:link_study", args=["ikt", mine.pk]),
                                         {"record": theirs.pk}, follow=True)

    assert "Enter the number of another record of this project." in response.text
    mine.refresh_from_db()
    assert mine.study.project == cast.project


def test_export_csv_download(cast, client_for):
    source = SourceFactory(project=cast.project, name="MEDLINE")
    record = RecordFactory(project=cast.project, source=source, doi="10.1/x")

    response = client_for(cast.viewer).get(reverse("references:export", args=["ikt"]))

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert response["Content-Disposition"] == 'attachment; filename="ikt-records.csv"'
    assert [(r["record_id"], r["source"], r["doi"], r["dedup_status"]) for r in rows] == [
        (str(record.pk), "MEDLINE", "10.1/x", "unique")]


def test_xlsx_upload_is_recognised_and_asks_for_the_columns(cast, client_for, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Title", "Year"])
    for n in range(8000):  # over 64 KB: the zip directory is far from the start
        book.active.append([f"Advisory boards in trainee research, number {n}", 2020])
    book.save(tmp_path / "grey.xlsx")
    client = client_for(cast.ada)

    response = client.post(reverse("references:import", args=["ikt"]), upload_form(
        name="grey.xlsx", content=(tmp_path / "grey.xlsx").read_bytes()))

    assert response.status_code == 302, response.context["form"].errors
    page = client.get(response["Location"])
    assert page.context["columns"] == ["Title", "Year"]
    assert page.context["sample"] == [
        [f"Advisory boards in trainee research, number {n}", "2020"] for n in range(5)]


def test_a_lead_removes_a_record_before_screening_and_puts_it_back(cast, client_for):
    record = RecordFactory(project=cast.project, title="Out of scope by the ranking")
    client = client_for(cast.lead)

    page = client.get(reverse("references:record", args=["ikt", record.pk]))
    assert "Remove before screening" in page.content.decode()
    response = client.post(reverse("references:remove", args=["ikt", record.pk]),
                           {"reason": "automation", "note": "below the stopping point"})

    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.removed_reason, record.removed_note, record.removed_by) == (
        "automation", "below the stopping point", cast.lead)
    page = client.get(reverse("references:record", args=["ikt", record.pk])).content.decode()
    assert "Removed before screening: marked ineligible by automation tools" in page
    assert "Put it back into screening" in page

    client.post(reverse("references:restore", args=["ikt", record.pk]))

    record.refresh_from_db()
    assert record.removed_reason == ""


def test_a_reviewer_cannot_remove_records(cast, client_for):
    record = RecordFactory(project=cast.project)

    response = client_for(cast.ada).post(reverse("references:remove", args=["ikt", record.pk]),
                                         {"reason": "other"})

    assert response.status_code == 403
    record.refresh_from_db()
    assert record.removed_reason == ""


def test_a_held_record_offers_no_removal_and_says_why(cast, client_for):
    from references import holds

    record = RecordFactory(project=cast.project)
    holds.set_hold([record.pk], holds.Hold.SCREENING)

    page = client_for(cast.lead).get(reverse("references:record", args=["ikt", record.pk]))

    text = page.content.decode()
    assert "Has screening votes" in text and "Remove before screening" not in text


def test_the_pair_page_says_which_record_carries_decisions(cast, client_for):
    from references import holds

    a, b = RecordFactory(project=cast.project), RecordFactory(project=cast.project)
    holds.set_hold([b.pk], holds.Hold.SCREENING)
    pair = DuplicateCandidate.objects.create(project=cast.project, record_a=a, record_b=b)

    page = client_for(cast.lead).get(reverse("references:duplicate", args=["ikt", pair.pk]))

    text = page.content.decode()
    assert f"Record #{b.pk} has screening votes. If you keep the other record" in text
    assert f"Record #{a.pk} has" not in text


def test_an_upload_from_citation_searching_can_start_at_full_text(cast, client_for):
    client_for(cast.ada).post(reverse("references:import", args=["ikt"]), upload_form(
        name="chaining.ris", kind="other", method="citation_searching",
        starts_at_full_text="on"))

    run_job(Job.objects.get(kind=jobs.IMPORT).pk, jobs.run_import)

    source = Source.objects.get()
    assert (source.kind, source.method, source.starts_at_full_text) == (
        "other", "citation_searching", True)


def test_an_upload_from_a_database_cannot_start_at_full_text(cast, client_for):
    response = client_for(cast.ada).post(reverse("references:import", args=["ikt"]),
                                         upload_form(starts_at_full_text="on"))

    assert response.status_code == 200
    assert "Only a source of other methods can start at full text" in response.content.decode()
    assert not Job.objects.exists()
