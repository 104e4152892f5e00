"""A project's frameworks: picking (a copy of the catalogue), stopping, custom frameworks,
categories added, renamed, retired and restored without losing codes, McLeroy's subset, the
JSON round trip, theme rename and merge, and the coding settings; each with its audit."""

import json

import pytest

from frameworks import catalogue_services as cs
from frameworks.catalogue_services import FrameworkError
from frameworks.models import Category, CodingSettings, Excerpt, Framework, StudyCode, Theme
from projects.models import AuditEvent
from tests.factories import ProjectFactory, StudyFactory


def actions():
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


def top_keys(framework):
    return list(framework.categories.filter(parent=None).order_by("position", "id")
                .values_list("key", flat=True))


def test_using_a_catalogue_framework_copies_it_for_the_project(cast):
    kta = cs.use_framework(cast.project, "kta", user=cast.lead)
    source = Framework.objects.get(project=None, key="kta")
    assert (kta.project, kta.source_key, kta.rule, kta.name, kta.citation) == (
        cast.project, "kta", "multiple", source.name, source.citation)
    assert top_keys(kta) == top_keys(source) == [
        "identify-problem", "adapt-knowledge", "assess-barriers", "select-interventions",
        "monitor-use", "evaluate-outcomes", "sustain-use"]
    comb = cs.use_framework(cast.project, "com-b-tdf", user=cast.lead)
    assert comb.categories.count() == 21
    assert list(comb.categories.get(key="opportunity-social").children
                .values_list("key", flat=True)) == ["social-influences"]
    # The catalogue itself is untouched.
    assert Category.objects.filter(framework__project=None).count() == 58
    with pytest.raises(FrameworkError, match="already uses"):
        cs.use_framework(cast.project, "kta", user=cast.lead)
    with pytest.raises(FrameworkError, match="no framework 'nope'"):
        cs.use_framework(cast.project, "nope", user=cast.lead)
    assert actions() == ["frameworks.use", "frameworks.use"]


def test_stop_and_use_again_keeps_the_codes_and_changes(cast):
    iap2 = cs.use_framework(cast.project, "iap2", user=cast.lead)
    collaborate = iap2.categories.get(key="collaborate")
    cs.rename_category(cast.project, collaborate, name="Co-lead", user=cast.lead)
    study = StudyFactory(project=cast.project)
    StudyCode.objects.create(project=cast.project, study=study, category=collaborate,
                             coder=cast.ada)
    cs.stop_framework(cast.project, iap2, user=cast.lead)
    assert Framework.objects.filter(project=cast.project, active=True).count() == 0
    again = cs.use_framework(cast.project, "iap2", user=cast.lead)
    assert again.pk == iap2.pk and again.active is True
    assert list(StudyCode.objects.filter(study=study)
                .values_list("category__name", flat=True)) == ["Co-lead"]
    assert actions() == ["frameworks.use", "frameworks.category_rename", "frameworks.stop",
                         "frameworks.resume"]


def test_mcleroy_subset_at_pick_and_later(cast):
    levels = cs.use_framework(cast.project, "mcleroy", user=cast.lead,
                              category_keys=["individual", "interpersonal", "organizational"])
    assert top_keys(levels) == ["individual", "interpersonal", "organizational"]
    # Later: drop interpersonal (coded: retired, its code kept), drop organizational (not
    # coded: removed), add community back from the catalogue.
    study = StudyFactory(project=cast.project)
    excerpt = Excerpt.objects.create(project=cast.project, study=study, kind="barrier",
                                     text="No time", coder=cast.ada)
    interpersonal = levels.categories.get(key="interpersonal")
    excerpt.categories.add(interpersonal)
    cs.set_levels(cast.project, levels, ["individual", "community"], user=cast.lead)
    assert list(levels.categories.order_by("position").values_list("key", "retired")) == [
        ("individual", False), ("interpersonal", True), ("community", False)]
    assert list(excerpt.categories.values_list("key", flat=True)) == ["interpersonal"]
    cs.set_levels(cast.project, levels, ["individual", "interpersonal"], user=cast.lead)
    assert list(levels.categories.order_by("position").values_list("key", "retired")) == [
        ("individual", False), ("interpersonal", False)]
    event = AuditEvent.objects.filter(action="frameworks.levels").order_by("id").first()
    assert (event.before, event.after) == (
        {"levels": ["individual", "interpersonal", "organizational"]},
        {"levels": ["community", "individual"]})
    with pytest.raises(FrameworkError, match="no level 'galaxy'"):
        cs.set_levels(cast.project, levels, ["galaxy"], user=cast.lead)


def test_custom_framework_single_or_multiple_with_definitions(cast):
    fw = cs.add_custom_framework(cast.project, name="Funding source", rule="single",
                                 user=cast.lead, categories=[("Public", "Government money"),
                                                             ("Private", "")])
    assert (fw.key, fw.rule, fw.source_key) == ("funding-source", "single", "")
    assert list(fw.categories.values_list("key", "name", "definition", "position")) == [
        ("public", "Public", "Government money", 0), ("private", "Private", "", 1)]
    with pytest.raises(FrameworkError, match="single or multiple"):
        cs.add_custom_framework(cast.project, name="X", rule="text", user=cast.lead,
                                categories=[("A", "")])
    with pytest.raises(FrameworkError, match="same name"):
        cs.add_custom_framework(cast.project, name="X", rule="multiple", user=cast.lead,
                                categories=[("A", ""), ("a", "")])
    assert actions() == ["frameworks.custom"]


def test_add_rename_retire_restore_keep_every_code(cast):
    kta = cs.use_framework(cast.project, "kta", user=cast.lead)
    adapt = kta.categories.get(key="adapt-knowledge")
    studies = StudyFactory.create_batch(2, project=cast.project)
    for study in studies:
        StudyCode.objects.create(project=cast.project, study=study, category=adapt,
                                 coder=cast.ada, quote="q")
    added = cs.add_category(cast.project, kta, name="Scale up", definition="Spread it",
                            user=cast.lead)
    assert (added.key, added.position) == ("scale-up", 7)
    cs.rename_category(cast.project, adapt, name="Adapt to context", definition="Fit it",
                       user=cast.lead)
    cs.set_category_retired(cast.project, adapt, retired=True, user=cast.lead)
    adapt.refresh_from_db()
    assert (adapt.name, adapt.definition, adapt.retired) == ("Adapt to context", "Fit it",
                                                             True)
    assert sorted(StudyCode.objects.filter(category=adapt).values_list("study_id", flat=True)
                  ) == sorted(s.pk for s in studies)
    cs.set_category_retired(cast.project, adapt, retired=False, user=cast.lead)
    assert Category.objects.get(pk=adapt.pk).retired is False
    assert StudyCode.objects.filter(category=adapt).count() == 2
    with pytest.raises(FrameworkError, match="already has a category 'monitor knowledge use'"):
        cs.rename_category(cast.project, adapt, name="monitor knowledge use", user=cast.lead)
    with pytest.raises(FrameworkError, match="already in use"):
        cs.set_category_retired(cast.project, adapt, retired=False, user=cast.lead)
    # The catalogue's own category is untouched.
    assert Category.objects.get(framework__project=None, key="adapt-knowledge").name == (
        "Adapt knowledge to local context")
    assert actions() == ["frameworks.use", "frameworks.category_add",
                         "frameworks.category_rename", "frameworks.category_retire",
                         "frameworks.category_restore"]


def test_wider_lead_adds_a_mode_of_delivery_tag(cast):
    wider = cs.use_framework(cast.project, "wider", user=cast.lead)
    mode = wider.categories.get(key="mode-of-delivery")
    cs.add_category(cast.project, wider, name="Video calls", parent=mode, user=cast.lead)
    assert list(mode.children.order_by("position").values_list("name", flat=True)) == [
        "Meetings", "Written communication", "Email", "Phone", "Video calls"]


def test_json_round_trip(cast):
    other_project = ProjectFactory(created_by=cast.lead)
    comb = cs.use_framework(cast.project, "com-b-tdf", user=cast.lead)
    cs.set_category_retired(cast.project, comb.categories.get(key="optimism"), retired=True,
                            user=cast.lead)
    doc = cs.export_framework(comb)
    text = cs.dumps(doc)
    assert json.loads(text)["tandem_framework"] == 1
    copy = cs.import_framework(other_project, cs.parse(text), user=cast.lead)
    assert cs.export_framework(copy) == {**doc, "source_key": ""}
    assert (copy.name, copy.rule, copy.categories.count()) == (comb.name, "excerpt", 21)
    assert copy.categories.get(key="optimism").retired is True
    assert copy.categories.get(key="optimism").parent.key == "motivation-reflective"
    # Importing into the same project again gets a distinct name.
    again = cs.import_framework(cast.project, doc, user=cast.lead)
    assert again.name == f"{comb.name} (2)"


def test_import_messages_name_the_path(cast):
    bad = {"tandem_framework": 1, "name": "", "rule": "some", "colour": "red",
           "categories": [{"name": "A"}, {"name": "a", "key": "Not a key"},
                          {"name": "B", "children": [{"definition": 3}]}]}
    with pytest.raises(FrameworkError) as error:
        cs.validate(bad)
    assert error.value.errors == [
        "(document).colour: unknown property",
        "(document).name: enter a name",
        "categories[1].name: 'a' appears twice",
        "categories[1].key: letters, digits and hyphens only",
        "categories[2].children[0].name: enter a name",
        "categories[2].children[0].definition: must be text",
        "rule: one of single, multiple, text, excerpt, not 'some'",
    ]
    with pytest.raises(FrameworkError, match="format 1, not 2"):
        cs.validate({"tandem_framework": 2})
    with pytest.raises(FrameworkError, match=r"\(file\): not valid JSON at line 1"):
        cs.parse("{")


def test_theme_rename_and_merge_keep_every_excerpt(cast):
    p = cast.project
    study_a, study_b = StudyFactory.create_batch(2, project=p)
    time = Theme.objects.create(project=p, name="Time")
    workload = Theme.objects.create(project=p, name="Workload")
    busy = Theme.objects.create(project=p, name="Busy")
    cs.merge_themes(p, busy, workload, user=cast.lead)
    e1 = Excerpt.objects.create(project=p, study=study_a, kind="barrier", text="1",
                                theme=time, coder=cast.ada)
    e2 = Excerpt.objects.create(project=p, study=study_b, kind="barrier", text="2",
                                theme=workload, coder=cast.ada)
    cs.rename_theme(p, time, name="Lack of time", user=cast.lead)
    into = cs.merge_themes(p, workload, time, user=cast.lead)
    assert into == time
    assert sorted(Excerpt.objects.filter(theme=time).values_list("pk", flat=True)) == [
        e1.pk, e2.pk]
    workload.refresh_from_db()
    busy.refresh_from_db()
    assert (workload.merged_into_id, busy.merged_into_id) == (time.pk, time.pk)
    with pytest.raises(FrameworkError, match="was merged"):
        cs.rename_theme(p, workload, name="W", user=cast.lead)
    with pytest.raises(FrameworkError, match="already a theme 'lack of time'"):
        cs.rename_theme(p, Theme.objects.create(project=p, name="X"), name="lack of time",
                        user=cast.lead)
    event = AuditEvent.objects.filter(action="frameworks.theme_merge").order_by("id").last()
    assert (event.before, event.after) == ({"excerpts": [e2.pk]},
                                           {"merged_into": time.pk, "into_name": "Lack of time"})


def test_coding_settings(cast):
    settings = cs.update_coding_settings(cast.project, user=cast.lead, verify="sample",
                                         first_n=5, share=0.25, seed=7)
    assert (CodingSettings.objects.get(project=cast.project).verify, settings.first_n,
            settings.share, settings.seed) == ("sample", 5, 0.25, 7)
    event = AuditEvent.objects.get(action="frameworks.settings")
    assert (event.before, event.after) == (
        {"verify": "all", "first_n": 5, "share": 0.2, "seed": 0},
        {"verify": "sample", "first_n": 5, "share": 0.25, "seed": 7})
    with pytest.raises(FrameworkError, match="between 0 and 1"):
        cs.update_coding_settings(cast.project, user=cast.lead, verify="sample", share=1.5)
