"""The pages of a project's frameworks: a lead picks, edits, exports and imports frameworks,
renames and merges themes and sets the verification; others only read."""

import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from frameworks import catalogue_services as cs
from frameworks.models import Category, CodingSettings, Excerpt, Framework, Theme
from tests.factories import StudyFactory


def url(name, cast, *args):
    return reverse(f"frameworks:{name}", args=[cast.project.slug, *args])


def test_lead_picks_mcleroy_with_three_levels_and_renames_a_category(cast, client):
    client.force_login(cast.lead)
    response = client.post(url("use", cast), {"key": "mcleroy", "levels": [
        "individual", "interpersonal", "organizational"]})
    levels = Framework.objects.get(project=cast.project, source_key="mcleroy")
    assert response.status_code == 302
    assert response["Location"] == url("framework", cast, levels.pk)
    assert list(levels.categories.values_list("key", flat=True)) == [
        "individual", "interpersonal", "organizational"]
    individual = levels.categories.get(key="individual")
    client.post(url("category", cast, individual.pk), {"action": "rename", "name": "Person",
                                                       "definition": "One trainee"})
    client.post(url("category", cast, individual.pk), {"action": "retire"})
    individual.refresh_from_db()
    assert (individual.name, individual.definition, individual.retired) == (
        "Person", "One trainee", True)
    page = client.get(url("framework", cast, levels.pk)).content.decode()
    assert "Person" in page and "Retired" in page
    home = client.get(url("home", cast)).content.decode()
    assert "McLeroy social-ecological model" in home


def test_custom_framework_from_lines(cast, client):
    client.force_login(cast.lead)
    client.post(url("custom", cast), {"name": "Funding", "rule": "multiple",
                                      "categories": "Public: Government money\nPrivate\n"})
    fw = Framework.objects.get(project=cast.project, key="funding")
    assert list(fw.categories.values_list("name", "definition")) == [
        ("Public", "Government money"), ("Private", "")]


def test_export_then_import_through_the_pages(cast, client):
    client.force_login(cast.lead)
    kta = cs.use_framework(cast.project, "kta", user=cast.lead)
    exported = client.get(url("framework_export", cast, kta.pk))
    assert exported["Content-Disposition"] == 'attachment; filename="kta.json"'
    doc = json.loads(exported.content)
    assert doc["tandem_framework"] == 1 and len(doc["categories"]) == 7
    response = client.post(url("import", cast), {"file": SimpleUploadedFile(
        "kta.json", exported.content, content_type="application/json")})
    copy = Framework.objects.get(project=cast.project, name=f"{kta.name} (2)")
    assert response["Location"] == url("framework", cast, copy.pk)
    bad = client.post(url("import", cast), {"file": SimpleUploadedFile(
        "bad.json", b'{"tandem_framework": 1, "name": "X", "rule": "multiple", '
                    b'"categories": [{"name": 5}]}')})
    assert bad.status_code == 200
    assert "categories[0].name: must be text" in bad.content.decode()


def test_viewer_reads_but_cannot_stop_a_framework(cast, client):
    kta = cs.use_framework(cast.project, "kta", user=cast.lead)
    client.force_login(cast.viewer)
    assert client.get(url("framework", cast, kta.pk)).status_code == 200
    assert client.post(url("framework_stop", cast, kta.pk)).status_code == 403
    assert Framework.objects.get(pk=kta.pk).active is True


def test_themes_page_merges(cast, client):
    p = cast.project
    study = StudyFactory(project=p)
    time, busy = (Theme.objects.create(project=p, name=n) for n in ("Time", "Busy"))
    excerpt = Excerpt.objects.create(project=p, study=study, kind="barrier", text="x",
                                     theme=busy, coder=cast.ada)
    client.force_login(cast.lead)
    client.post(url("theme", cast, busy.pk), {"action": "merge", "into": time.pk})
    assert Excerpt.objects.get(pk=excerpt.pk).theme_id == time.pk
    page = client.get(url("themes", cast)).content.decode()
    assert "Busy → Time" in page


def test_settings_page_saves_a_sample(cast, client):
    client.force_login(cast.lead)
    client.post(url("settings", cast), {"verify": "sample", "first_n": "5",
                                        "share_percent": "20", "seed": "3"})
    settings = CodingSettings.objects.get(project=cast.project)
    assert (settings.verify, settings.first_n, settings.share, settings.seed) == (
        "sample", 5, 0.2, 3)
    assert Category.objects.filter(framework__project=None).count() == 58
