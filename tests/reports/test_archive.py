"""The whole-project archive: a full project round-trips with every row and value, ids
mapped; the format covers every model that belongs to a project and every audit action that
logs an id; damaged and foreign archives are refused with what and where."""

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import models

from projects.models import AuditEvent, Membership, Project
from reports import archive
from reports.archive import TABLES, ArchiveError
from screening import services as screening_services
from screening.models import FullText, StageSettings
from screening.prisma import prisma_counts
from tests.factories import UserFactory
from tests.reports.fullproject import PDF, build_full_project

pytestmark = pytest.mark.postgres

User = get_user_model()


def rows_of(project, table) -> list[dict]:
    names = [f.attname for f in table.model._meta.concrete_fields]
    return [dict(zip(names, values, strict=True)) for values in
            table.model._default_manager.filter(**{table.scope: project.pk})
            .order_by("pk").values_list(*names)]


def expected_row(table, row: dict, restored, original_project) -> dict:
    """The row as the restore must have written it: every id through the restore's maps."""
    ids, users = restored.ids, restored.users
    out = {}
    for fld in table.model._meta.concrete_fields:
        value = row[fld.attname]
        if fld.primary_key:
            value = ids[table.label][value]
        elif fld.is_relation and value is not None:
            if fld.related_model is Project:
                assert value == original_project.pk
                value = restored.project.pk
            elif fld.related_model is User:
                value = users[value]
            else:
                value = ids[fld.related_model._meta.label][value]
        out[fld.attname] = value
    return out


def remap(restored, label, value):
    if value is None or isinstance(value, bool):
        return value
    if label == archive.USER:
        return restored.users[int(value)]
    new = restored.ids[label][int(value)]
    return str(new) if isinstance(value, str) else new


def remap_json(restored, value, specs):
    for path, label in specs:
        if label == archive.FILE:
            def fn(v):
                if not isinstance(v, str):
                    return v
                return re.sub(r"^fulltext/\d+/(\d+)/", lambda m: (
                    f"fulltext/{restored.project.pk}/{restored.ids[archive.RECORD][int(m[1])]}/"
                ), v)
        else:
            def fn(v, label=label):
                return remap(restored, label, v)
        value = archive._walk(value, path.split("."), fn)
    return value


def expected_repr(restored, label, text):
    """A target's name as written then, with the ids it names mapped ("#12 Title")."""
    if label not in archive.REPR_IDS:
        return text
    pattern, labels = archive.REPR_IDS[label]
    found = re.search(pattern, text)
    if not found:
        return text
    for i in reversed(range(1, len(labels) + 1)):
        new = remap(restored, labels[i - 1], int(found[i]))
        text = text[:found.start(i)] + str(new) + text[found.end(i):]
    return text


@pytest.fixture
def full(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_full_project(cast)


def restore_bytes(data: bytes, **kwargs):
    return archive.restore(io.BytesIO(data), **kwargs)


def test_full_project_has_rows_in_every_table(cast, full):
    empty = [t.name for t in TABLES if not rows_of(cast.project, t)]
    assert empty == []


def test_round_trip_keeps_every_row_and_value_with_ids_mapped(cast, full):
    """Restored on a server where nobody of the team has an account: every id changes,
    users' too."""
    original = cast.project
    before = {t.name: rows_of(original, t) for t in TABLES}
    data = archive.build_archive(original)
    for user in User.objects.all():
        User.objects.filter(pk=user.pk).update(username=f"was-{user.username}",
                                               email=f"was-{user.email}")
    importer = UserFactory(username="importer")

    restored = restore_bytes(data, user=importer)

    new = restored.project
    assert new.pk != original.pk and new.slug == "ikt-2"
    assert restored.created_users == ["lead", "ada", "ben", "cy", "viewer"]
    assert set(restored.users.values()).isdisjoint(restored.users)
    assert new.created_by_id == restored.users[original.created_by_id]
    for f in ("name", "description", "review_type", "inclusion_criteria",
              "exclusion_criteria", "created_at"):
        assert getattr(new, f) == getattr(original, f), f
    assert restored.rows == {t.name: len(before[t.name]) for t in TABLES}
    moved = [c["moved"] for c in before["duplicate_candidates"] if c["moved"]]
    assert cast.ben.pk in [state[2] for m in moved for state in m["records"].values()]
    for table in TABLES:
        got = rows_of(new, table)
        if table.name in ("audit_events", "memberships"):  # the importer's come on top
            mapped = set(restored.ids[table.label].values())
            got = [r for r in got if r["id"] in mapped]
        want = [expected_row(table, r, restored, original) for r in before[table.name]]
        for spec_field, specs in table.json.items():
            for w, r in zip(want, before[table.name], strict=True):
                w[spec_field] = remap_json(restored, r[spec_field], specs)
        for ref, label in table.refs.items():
            for w, r in zip(want, before[table.name], strict=True):
                if label == archive.FLOOR:
                    old = [x["id"] for x in before["records"] if x["id"] <= r[ref]]
                    w[ref] = restored.ids[archive.RECORD][max(old)] if old else 0
                elif r[ref] is not None:
                    w[ref] = remap(restored, label, r[ref])
        if table.name == "full_texts":
            for w in want:
                if w["pdf"]:
                    w["pdf"] = (f"fulltext/{new.pk}/{w['record_id']}/"
                                f"{Path(w['pdf']).name}")
        if table.name == "audit_events":
            for w, r in zip(want, before[table.name], strict=True):
                specs = archive.AUDIT_IDS.get(r["action"], [])
                doc = remap_json(restored, {"before": r["before"], "after": r["after"]}, specs)
                w["before"], w["after"] = doc["before"], doc["after"]
                if r["target_id"].isdigit():
                    label = r["target_type"]
                    w["target_id"] = str(new.pk if label == "projects.Project"
                                         else restored.ids[label][int(r["target_id"])])
                w["target_repr"] = expected_repr(restored, r["target_type"], r["target_repr"])
        assert got == want, table.name


def test_round_trip_keeps_prisma_counts_and_sealed_events(cast, full):
    restored = restore_bytes(archive.build_archive(cast.project), user=cast.lead)

    assert prisma_counts(restored.project) == prisma_counts(cast.project)
    sealed = AuditEvent.objects.filter(project=cast.project, sealed=True)
    assert sealed.count() > 0
    assert AuditEvent.objects.filter(project=restored.project, sealed=True).count() == \
        sealed.count()


def test_round_trip_maps_ids_named_in_the_history(cast, full):
    restored = restore_bytes(archive.build_archive(cast.project), user=cast.lead)
    record_ids = restored.ids[archive.RECORD]
    new = restored.project

    old = AuditEvent.objects.get(project=cast.project, action="record.unmerge")
    event = AuditEvent.objects.get(project=new, action="record.unmerge")
    assert event.before["duplicate_of"] == record_ids[old.before["duplicate_of"]]
    assert event.target_id == str(record_ids[int(old.target_id)])
    assert event.target_repr.startswith(f"#{record_ids[int(old.target_id)]} ")
    # A study the merge dropped is gone from both; its id is reserved, not another's.
    gone = old.after["study"] if not new.studies.filter(
        pk=restored.ids[archive.STUDY][old.after["study"]]).exists() else None
    assert gone is None or restored.ids[archive.STUDY][gone] not in set(
        new.studies.values_list("pk", flat=True))
    deleted = AuditEvent.objects.get(project=new, action="frameworks.delete_excerpt")
    assert not apps.get_model(archive.EXCERPT).objects.filter(pk=deleted.target_id).exists()


R, S, C = archive.RECORD, archive.STUDY, archive.CANDIDATE
# Written from the services (not from the archive's own table): where the full project's
# audit events hold ids. Every other event's before/after must come back unchanged.
ORACLE = {
    "record.merge": {"before.duplicate_of": R, "after.duplicate_of": R},
    "duplicate.confirm": {"after.primary": R, "after.duplicate": R, "after.held.*": R,
                          "after.batch": archive.BATCH},
    "record.unmerge": {"before.study": S, "before.duplicate_of": R, "after.study": S,
                       "after.duplicate_of": R, "after.batch": archive.BATCH},
    "duplicate.reject": {"after.records.*": R, "after.batch": archive.BATCH},
    "duplicate.group": {"after.pairs.*": C, "after.skipped.*": C},
    "duplicate.group_undo": {"after.reopened.*": C, "after.skipped.*": C},
    "duplicate.reopen": {"before.batch": archive.BATCH},
    "study.link": {"before.study": S, "after.study": S, "after.with_record": R},
    "screening.assign": {"after.first": R, "after.last": R},
    "extraction.pilot": {"after.studies.*": S},
    "extraction.carry": {"before.extraction": archive.EXTRACTION},
    "extraction.main_round": {"after.carried.*": S},
    "consensus.complete": {"after.extractions.*": archive.EXTRACTION},
    "frameworks.add_excerpt": {"after.answer": archive.ANSWER},
    "frameworks.delete_excerpt": {"before.answer": archive.ANSWER},
    "frameworks.theme_merge": {"before.excerpts.*": archive.EXCERPT,
                               "after.merged_into": archive.THEME},
    "frameworks.verify": {"after.excerpt": archive.EXCERPT},
}


def leaves(doc, path=""):
    """(path with * for list items, value) of every scalar in a JSON value."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from leaves(v, f"{path}.{k}" if path else k)
    elif isinstance(doc, list):
        for v in doc:
            yield from leaves(v, f"{path}.*")
    else:
        yield path, doc


def test_round_trip_maps_every_id_in_the_history_and_nothing_else(cast, full):
    restored = restore_bytes(archive.build_archive(cast.project), user=cast.lead)
    mapped = restored.ids["projects.AuditEvent"]
    new_events = AuditEvent.objects.in_bulk(list(mapped.values()))
    checked = set()

    for old in AuditEvent.objects.filter(project=cast.project):
        new = new_events[mapped[old.pk]]
        doc_old = {"before": old.before, "after": old.after}
        doc_new = {"before": new.before, "after": new.after}
        pairs = list(zip(leaves(doc_old), leaves(doc_new), strict=True))
        ids = ORACLE.get(old.action, {})
        for (path, was), (path_new, now) in pairs:
            assert path == path_new
            if path in ids and was is not None:
                assert now == restored.ids[ids[path]][was], (old.action, path)
                checked.add(old.action)
            elif old.action == "fulltext.update" and path.endswith("pdf") and was:
                record = restored.ids[R][int(was.split("/")[2])]
                assert now == f"fulltext/{restored.project.pk}/{record}/cassidy_2021.pdf"
                checked.add(old.action)
            else:
                assert now == was, (old.action, path)
    assert checked == set(ORACLE) - {"frameworks.delete_excerpt"} | {"fulltext.update"}


def test_round_trip_maps_ids_inside_the_tables_json(cast, full):
    from frameworks.models import Excerpt
    from references.models import DuplicateCandidate, DuplicateDecisionBatch
    from screening.models import QueuePosition

    restored = restore_bytes(archive.build_archive(cast.project), user=cast.lead)
    ids, new = restored.ids, restored.project

    def rid(x):
        return None if x is None else ids[R][x]

    for old in DuplicateCandidate.objects.filter(project=cast.project).exclude(moved={}):
        got = DuplicateCandidate.objects.get(pk=ids[C][old.pk])
        assert got.moved == {"into": rid(old.moved["into"]), "records": {
            str(rid(int(k))): [rid(link), ids[S][study], by and restored.users[by], at]
            for k, (link, study, by, at) in old.moved["records"].items()}}
    batch = DuplicateDecisionBatch.objects.get(project=cast.project)
    got = DuplicateDecisionBatch.objects.get(project=new)
    assert got.pair_ids == [ids[C][x] for x in batch.pair_ids]
    excerpt = Excerpt.objects.get(project=cast.project, answer_id__isnull=False)
    assert Excerpt.objects.get(pk=ids[archive.EXCERPT][excerpt.pk]).answer_id == \
        ids[archive.ANSWER][excerpt.answer_id]
    position = QueuePosition.objects.get(project=cast.project)
    assert QueuePosition.objects.get(project=new).frontier == ids[R][position.frontier]
    event = AuditEvent.objects.filter(project=cast.project, target_type=archive.EXCERPT,
                                      target_repr__contains=" of study ").first()
    study = int(re.search(r" of study (\d+):", event.target_repr)[1])
    assert AuditEvent.objects.get(pk=ids["projects.AuditEvent"][event.pk]).target_repr == \
        event.target_repr.replace(f" of study {study}:", f" of study {ids[S][study]}:")


def test_round_trip_restores_the_pdf(cast, full):
    restored = restore_bytes(archive.build_archive(cast.project), user=cast.lead)

    full_text = FullText.objects.get(project=restored.project, pdf__gt="")
    assert full_text.pdf.name == (f"fulltext/{restored.project.pk}/{full_text.record_id}/"
                                  "cassidy_2021.pdf")
    with default_storage.open(full_text.pdf.name, "rb") as fh:
        assert fh.read() == PDF


def test_archive_zip_layout_and_manifest(cast, full):
    data = archive.build_archive(cast.project)

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        users = [json.loads(line.rstrip(",")) for line in
                 zf.read("users.json").decode().splitlines()[1:-1]]
    assert {"manifest.json", "project.json", "users.json"} | {t.file for t in TABLES} <= names
    pdf = FullText.objects.get(project=cast.project, pdf__gt="")
    assert f"pdfs/{pdf.pk}/cassidy_2021.pdf" in names
    assert (manifest["format"], manifest["format_version"]) == ("tandem-project-archive", 2)
    assert manifest["project"] == {"id": cast.project.pk, "slug": "ikt",
                                   "name": "Trainee-led IKT scoping review"}
    assert manifest["tables"]["records"]["rows"] == 19
    assert set(manifest["left_out"]) == {"projects.Job", "projects.Invitation",
                                         "screening.Claim", "screening.Priority",
                                         "ranking.RankingState", "ranking.Training"}
    assert manifest["files"] == 1
    assert sorted(u["username"] for u in users) == ["ada", "ben", "cy", "lead", "viewer"]


# --- users --------------------------------------------------------------------------------


def test_users_are_matched_by_username_then_email_and_missing_ones_made_inactive(cast):
    data = archive.build_archive(cast.project)
    Membership.objects.filter(project=cast.project).delete()
    User.objects.filter(username="ada").update(username="ada.lovelace")  # email still matches
    User.objects.filter(username="ben").update(username="benjamin", email="b@elsewhere.org")
    importer = UserFactory(username="importer")

    restored = restore_bytes(data, user=importer, name="Copy")

    members = dict(Membership.objects.filter(project=restored.project)
                   .values_list("user__username", "role"))
    assert members == {"lead": "lead", "ada.lovelace": "reviewer", "ben": "reviewer",
                       "cy": "reviewer", "viewer": "viewer", "importer": "lead"}
    assert restored.created_users == ["ben"]
    ben = User.objects.get(username="ben")
    assert (ben.is_active, ben.has_usable_password(), ben.email, ben.display_name) == (
        False, False, "ben@example.org", "Ben")
    assert restored.project.name == "Copy"


# --- refusals -----------------------------------------------------------------------------


def rewrite(data: bytes, **changes) -> bytes:
    """The archive with members replaced (bytes or str) or removed (None)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            key = info.filename.replace(".", "_").replace("/", "__")
            if key in changes:
                if changes[key] is not None:
                    dst.writestr(info.filename, changes[key])
            else:
                dst.writestr(info, src.read(info.filename))
    return out.getvalue()


def manifest_of(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return json.loads(zf.read("manifest.json"))


@pytest.fixture
def small(cast):
    from tests.factories import RecordFactory

    for i in range(3):
        RecordFactory(project=cast.project, title=f"Record {i}")
    return archive.build_archive(cast.project)


def refused(data: bytes, cast) -> str:
    projects = Project.objects.count()
    with pytest.raises(ArchiveError) as caught:
        restore_bytes(data, user=cast.lead)
    assert Project.objects.count() == projects  # nothing landed
    return str(caught.value)


def test_newer_format_version_is_refused_with_the_upgrade_message(cast, small):
    manifest = {**manifest_of(small), "format_version": 3}
    data = rewrite(small, manifest_json=json.dumps(manifest))

    assert refused(data, cast) == (
        "This archive was written by a newer version of Tandem (format 3); this server reads "
        "format 2. Upgrade Tandem to import it.")


def test_a_format_1_archive_is_restored_with_the_defaults_of_what_came_later(cast, small):
    """Format 1 had no stopping tables and no served order in the stage settings."""
    screening_services.settings_for(cast.project, "title_abstract")
    data = archive.build_archive(cast.project)
    manifest = manifest_of(data)
    manifest["format_version"] = 1
    for name in ("stopping_samples", "early_stops"):
        del manifest["tables"][name]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        rows = json.loads(zf.read("stage_settings.json"))
    old_rows = json.dumps([{k: v for k, v in row.items()
                            if k not in ("order", "order_seed", "scores_order")}
                           for row in rows])
    assert len(rows) == 1 and '"order"' not in old_rows
    old = rewrite(data, manifest_json=json.dumps(manifest), stopping_samples_json=None,
                  early_stops_json=None, stage_settings_json=old_rows)

    restored = restore_bytes(old, user=cast.lead).project

    settings = StageSettings.objects.get(project=restored)
    assert (settings.order, settings.order_seed, settings.scores_order) == ("relevance", 1, "")
    assert restored.records.count() == 3


def test_a_file_that_is_not_a_zip_is_refused(cast):
    assert refused(b"TY  - JOUR\nER  - \n", cast).startswith(
        "This file is not a zip archive: a Tandem project archive is the .zip file")


def test_a_zip_without_manifest_is_refused(cast, small):
    assert refused(rewrite(small, manifest_json=None), cast) == (
        "The archive has no manifest.json: it is not a Tandem project archive.")


def test_a_zip_of_another_format_is_refused(cast, small):
    data = rewrite(small, manifest_json=json.dumps({"format": "zotero-export"}))

    assert refused(data, cast) == ("manifest.json: the format is 'zotero-export', not "
                                   "'tandem-project-archive': this is not a Tandem project "
                                   "archive.")


def test_a_damaged_manifest_is_refused(cast, small):
    data = rewrite(small, manifest_json='{"format": "tandem-project-archive",')

    assert refused(data, cast).startswith("manifest.json is not valid JSON: ")


def test_a_damaged_row_is_named_by_file_and_row(cast, small):
    with zipfile.ZipFile(io.BytesIO(small)) as zf:
        lines = zf.read("records.json").decode().splitlines()
    lines[2] = lines[2][:40]  # the second row cut in the middle
    data = rewrite(small, records_json="\n".join(lines))

    assert refused(data, cast).startswith("records.json, row 2: damaged JSON (")


def test_a_row_with_a_wrong_value_is_named_by_file_row_and_field(cast, small):
    with zipfile.ZipFile(io.BytesIO(small)) as zf:
        lines = zf.read("records.json").decode().splitlines()
    row = json.loads(lines[3].rstrip(","))
    lines[3] = json.dumps({**row, "year": "two thousand"})
    data = rewrite(small, records_json="\n".join(lines))

    assert refused(data, cast) == ('records.json, row 3: year is not a whole number '
                                   '("two thousand").')


def test_a_row_missing_a_field_is_refused(cast, small):
    with zipfile.ZipFile(io.BytesIO(small)) as zf:
        lines = zf.read("records.json").decode().splitlines()
    row = json.loads(lines[1].rstrip(","))
    del row["title"]
    lines[1] = json.dumps(row) + ","
    data = rewrite(small, records_json="\n".join(lines))

    assert refused(data, cast) == "records.json, row 1: no value for title."


def test_a_cut_short_table_is_refused(cast, small):
    with zipfile.ZipFile(io.BytesIO(small)) as zf:
        lines = zf.read("records.json").decode().splitlines()
    data = rewrite(small, records_json="\n".join(lines[:2]))

    assert refused(data, cast) == ("records.json ends after row 1, before the end of the "
                                   "rows: the file was cut short.")


def test_a_table_with_fewer_rows_than_the_manifest_says_is_refused(cast, small):
    with zipfile.ZipFile(io.BytesIO(small)) as zf:
        lines = zf.read("records.json").decode().splitlines()
    data = rewrite(small, records_json="\n".join([lines[0], lines[1].rstrip(","), "]"]))

    assert refused(data, cast) == ("records.json holds 1 rows; manifest.json says 3: the "
                                   "archive is incomplete.")


def test_a_missing_table_file_is_refused(cast, small):
    assert refused(rewrite(small, votes_json=None), cast) == "The archive has no votes.json."


def test_a_row_pointing_outside_the_archive_is_refused(cast, small):
    with zipfile.ZipFile(io.BytesIO(small)) as zf:
        lines = zf.read("records.json").decode().splitlines()
    row = json.loads(lines[1].rstrip(","))
    lines[1] = json.dumps({**row, "study_id": 999999999}) + ","
    data = rewrite(small, records_json="\n".join(lines))

    assert refused(data, cast) == "records.json, row 1: study 999999999 is not in the archive."


def test_a_failed_restore_into_a_new_project_leaves_it_empty(cast, small):
    from projects.services import create_project

    into = create_project(user=cast.lead, name="Target")
    with zipfile.ZipFile(io.BytesIO(small)) as zf:
        lines = zf.read("records.json").decode().splitlines()
    row = json.loads(lines[1].rstrip(","))
    lines[1] = json.dumps({**row, "study_id": 999999999}) + ","

    with pytest.raises(ArchiveError):
        restore_bytes(rewrite(small, records_json="\n".join(lines)), user=cast.lead,
                      into=into)

    assert [t.name for t in TABLES if t.model._default_manager.filter(
        **{t.scope: into.pk}).exclude(pk__in=Membership.objects.filter(
            project=into, user=cast.lead)).exists() and t.name != "audit_events"] == []


def test_restoring_into_a_project_that_has_data_is_refused(cast, small):
    with pytest.raises(ArchiveError, match=r"The project ikt is not empty \(memberships\)"):
        restore_bytes(small, user=cast.lead, into=cast.project)


# --- the format covers everything ---------------------------------------------------------


def project_path(model, seen=()) -> bool:
    """Whether the model reaches Project through its foreign keys (not through users)."""
    for fld in model._meta.concrete_fields:
        target = fld.related_model if fld.is_relation else None
        if target is None or target is User or target in seen:
            continue
        if target is Project or project_path(target, (*seen, model)):
            return True
    return False


def test_every_model_that_belongs_to_a_project_is_archived_or_knowingly_left_out():
    covered = {t.label for t in TABLES} | set(archive.LEFT_OUT)
    belongs = {m._meta.label for m in apps.get_models(include_auto_created=True)
               if project_path(m)}

    assert belongs - covered == set(), "add these models to reports.archive.TABLES"
    assert covered - belongs == set()


def test_every_file_field_of_an_archived_model_has_a_folder():
    missing = [t.label for t in TABLES for f in t.model._meta.concrete_fields
               if isinstance(f, models.FileField) and not t.files]
    assert missing == []


def test_every_json_or_id_field_of_an_archived_model_is_declared():
    """A JSON field, or an integer named like an id, may hold ids: each is declared in the
    table's spec or listed here as holding none."""
    plain = {"references.Record.authors", "references.Record.other_ids",
             "references.Record.keywords", "references.Record.raw",
             "references.DuplicateCandidate.reasons", "extraction.FormVersion.definition",
             "extraction.Field.choices", "extraction.Answer.value",
             "frameworks.Verification.proposal", "projects.AuditEvent.before",
             "projects.AuditEvent.after", "ranking.EarlyStop.figures"}
    found = set()
    for t in TABLES:
        for f in t.model._meta.concrete_fields:
            holds = isinstance(f, models.JSONField) or (
                not f.is_relation and not f.primary_key
                and isinstance(f, models.IntegerField)
                and (f.name.endswith("_id") or f.name in ("frontier",)))
            if holds and f.attname not in t.json and f.attname not in t.refs:
                found.add(f"{t.label}.{f.name}")
    assert found == plain


def test_every_audit_action_the_code_writes_is_known_to_the_archive():
    root = Path(settings.BASE_DIR)
    written = set()
    for path in root.glob("*/**/*.py"):
        if path.parts[len(root.parts)] in (".venv", "tests", "bench", "node_modules"):
            continue
        text = path.read_text(encoding="utf-8")
        written |= set(re.findall(r'action="([a-z_]+\.[a-z_.]*[a-z])"', text))
        written |= {a + s for a in re.findall(r'action="([a-z_]+\.[a-z_]+_)" \+', text)
                    for s in ("archived", "restored")}
        written |= set(re.findall(r'^\s*"([a-z]+\.[a-z_]+)" if .* else "', text, re.M))
        written |= set(re.findall(r'else "([a-z]+\.[a-z_]+)"', text))
    known = set(archive.AUDIT_IDS) | archive.AUDIT_PLAIN
    assert written - known == set()
    assert "vote.cast" in written and "extraction.field_archived" in written
