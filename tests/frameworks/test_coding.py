"""Coding and verification at the service level: single versus multiple choice, WIDER text
and tags, excerpts with their categories and themes, verification, settlement, status,
sampling and agreement, each with exact values and its audit event."""

import pytest

from frameworks import services
from frameworks.models import (
    Category,
    CodingSettings,
    Excerpt,
    Framework,
    StudyCode,
    StudyCoding,
    Verification,
)
from frameworks.services import CodingError, Pick
from projects.models import AuditEvent
from tests.extraction.steps import include_studies
from tests.factories import StudyFactory

Rule = Framework.Rule
Status = StudyCoding.Status


def make_framework(project, key, rule, categories, *, position=0):
    """A project's framework with categories given as keys, or (key, parent key)."""
    fw = Framework.objects.create(project=project, key=key, source_key=key, name=key.upper(),
                                  rule=rule, position=position)
    made = {}
    for i, spec in enumerate(categories):
        ckey, parent = (spec, None) if isinstance(spec, str) else spec
        made[ckey] = Category.objects.create(framework=fw, key=ckey, name=ckey.title(),
                                             position=i, parent=made.get(parent))
    return fw, made


@pytest.fixture
def fws(cast):
    p = cast.project
    kta = make_framework(p, "kta", Rule.MULTIPLE, ["identify", "adapt", "assess"], position=1)
    iap2 = make_framework(p, "iap2", Rule.SINGLE, ["inform", "consult", "collaborate",
                                                    "not-reported"], position=2)
    wider = make_framework(p, "wider", Rule.TEXT, ["content", "mode", ("meetings", "mode"),
                                                    ("email", "mode")], position=3)
    comb = make_framework(p, "comb", Rule.EXCERPT, ["cap-psych", ("knowledge", "cap-psych"),
                                                    ("skills", "cap-psych"), "opp-social"],
                          position=4)
    mcleroy = make_framework(p, "mcleroy", Rule.EXCERPT, ["individual", "interpersonal",
                                                          "organizational"], position=5)
    return {"kta": kta, "iap2": iap2, "wider": wider, "comb": comb, "mcleroy": mcleroy}


def codes_of(study, fw):
    return list(StudyCode.objects.filter(study=study, category__framework=fw)
                .order_by("category__position").values_list("category__key", flat=True))


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_multiple_choice_framework_takes_several_categories(cast, fws):
    study, = include_studies(cast)
    kta, cats = fws["kta"]
    services.set_study_codes(cast.project, study, kta,
                             [Pick(cats["identify"], note="n1", quote="We asked", page="4"),
                              Pick(cats["assess"])], coder=cast.ada)
    assert codes_of(study, kta) == ["identify", "assess"]
    code = StudyCode.objects.get(study=study, category=cats["identify"])
    assert (code.note, code.quote, code.page, code.coder) == ("n1", "We asked", "4", cast.ada)
    event, = events("frameworks.code_study")
    assert event.before == {"framework": "kta", "codes": []}
    assert [c["category"] for c in event.after["codes"]] == ["identify", "assess"]
    assert StudyCoding.objects.get(study=study).status == Status.CODED


def test_single_choice_framework_refuses_a_second_category(cast, fws):
    study, = include_studies(cast)
    iap2, cats = fws["iap2"]
    with pytest.raises(CodingError, match="IAP2 takes one category per study; 2 were picked"):
        services.set_study_codes(cast.project, study, iap2,
                                 [Pick(cats["consult"]), Pick(cats["collaborate"])],
                                 coder=cast.ada)
    assert codes_of(study, iap2) == []
    services.set_study_codes(cast.project, study, iap2, [Pick(cats["consult"])],
                             coder=cast.ada)
    services.set_study_codes(cast.project, study, iap2, [Pick(cats["collaborate"])],
                             coder=cast.ada)
    assert codes_of(study, iap2) == ["collaborate"]
    assert len(events("frameworks.code_study")) == 2


def test_codes_refuse_categories_of_another_framework_retired_ones_and_excluded_studies(
        cast, fws):
    study, = include_studies(cast)
    kta, kcats = fws["kta"]
    _, icats = fws["iap2"]
    with pytest.raises(CodingError, match="Consult is not a category of KTA"):
        services.set_study_codes(cast.project, study, kta, [Pick(icats["consult"])],
                                 coder=cast.ada)
    services.set_study_codes(cast.project, study, kta, [Pick(kcats["adapt"])], coder=cast.ada)
    Category.objects.filter(pk=kcats["adapt"].pk).update(retired=True)
    kcats["adapt"].refresh_from_db()
    kcats["identify"].retired = False
    # A retired category keeps its code when the coder saves again ...
    services.set_study_codes(cast.project, study, kta,
                             [Pick(kcats["adapt"], note="kept"), Pick(kcats["identify"])],
                             coder=cast.ada)
    assert codes_of(study, kta) == ["identify", "adapt"]
    # ... but takes no new one.
    other, = include_studies(cast, title="Other")
    with pytest.raises(CodingError, match="Adapt is retired"):
        services.set_study_codes(cast.project, other, kta, [Pick(kcats["adapt"])],
                                 coder=cast.ada)
    outside = StudyFactory(project=cast.project)
    with pytest.raises(CodingError, match="Only included studies are coded"):
        services.set_study_codes(cast.project, outside, kta, [Pick(kcats["identify"])],
                                 coder=cast.ada)
    with pytest.raises(CodingError, match="Only reviewers and leads code studies"):
        services.set_study_codes(cast.project, study, kta, [], coder=cast.viewer)


def test_wider_items_take_text_and_mode_tags(cast, fws):
    study, = include_studies(cast)
    wider, cats = fws["wider"]
    with pytest.raises(CodingError, match="Write the text of Content"):
        services.set_study_codes(cast.project, study, wider, [Pick(cats["content"])],
                                 coder=cast.ada)
    services.set_study_codes(cast.project, study, wider,
                             [Pick(cats["content"], text="Monthly workshops"),
                              Pick(cats["mode"]), Pick(cats["meetings"]),
                              Pick(cats["email"])], coder=cast.ada)
    assert codes_of(study, wider) == ["content", "mode", "meetings", "email"]
    assert StudyCode.objects.get(study=study, category=cats["content"]).text == \
        "Monthly workshops"


def test_excerpt_level_framework_codes_no_study(cast, fws):
    study, = include_studies(cast)
    comb, cats = fws["comb"]
    with pytest.raises(CodingError, match="COMB codes excerpts, not studies"):
        services.set_study_codes(cast.project, study, comb, [Pick(cats["knowledge"])],
                                 coder=cast.ada)


def test_excerpt_with_tdf_domains_levels_and_a_new_theme(cast, fws):
    study, = include_studies(cast)
    _, comb = fws["comb"]
    _, lvl = fws["mcleroy"]
    kta, _ = fws["kta"]
    excerpt = services.add_excerpt(
        cast.project, study, kind="barrier", text="Clinicians lacked time", page="7",
        categories=[comb["knowledge"], comb["skills"], lvl["individual"],
                    lvl["organizational"]], theme="  Lack of   time ", coder=cast.ada)
    # The TDF domains bring their COM-B component.
    assert sorted(excerpt.categories.values_list("key", flat=True)) == [
        "cap-psych", "individual", "knowledge", "organizational", "skills"]
    assert excerpt.theme.name == "Lack of time"
    # The same theme, whatever its case, is picked rather than made again.
    second = services.add_excerpt(cast.project, study, kind="facilitator", text="Funding",
                                  theme="LACK OF TIME", coder=cast.ben)
    assert second.theme_id == excerpt.theme_id
    assert len(events("frameworks.create_theme")) == 1
    event = events("frameworks.add_excerpt")[0]
    assert event.after == {"kind": "barrier", "text": "Clinicians lacked time", "page": "7",
                           "answer": None, "theme": "Lack of time",
                           "categories": ["comb:cap-psych", "comb:knowledge", "comb:skills",
                                          "mcleroy:individual", "mcleroy:organizational"]}
    with pytest.raises(CodingError, match="KTA codes studies, not excerpts"):
        services.add_excerpt(cast.project, study, kind="barrier", text="x",
                             categories=[kta.categories.first()], coder=cast.ada)
    with pytest.raises(CodingError, match="An excerpt is a barrier, a facilitator"):
        services.add_excerpt(cast.project, study, kind="other", text="x", coder=cast.ada)
    assert Excerpt.objects.filter(study=study).count() == 2


def test_a_merged_theme_answers_with_its_target(cast, fws):
    study, = include_studies(cast)
    target = services.theme_named(cast.project, "Time", user=cast.lead)
    merged = services.theme_named(cast.project, "No time", user=cast.lead)
    merged.merged_into = target
    merged.save()
    excerpt = services.add_excerpt(cast.project, study, kind="barrier", text="busy",
                                   theme="no time", coder=cast.ada)
    assert excerpt.theme == target


def code_one(cast, fws, study):
    kta, kc = fws["kta"]
    iap2, ic = fws["iap2"]
    _, comb = fws["comb"]
    services.set_study_codes(cast.project, study, kta, [Pick(kc["identify"]),
                                                        Pick(kc["adapt"])], coder=cast.ada)
    services.set_study_codes(cast.project, study, iap2, [Pick(ic["consult"])], coder=cast.ada)
    return services.add_excerpt(cast.project, study, kind="barrier", text="Time",
                                categories=[comb["knowledge"]], theme="Time", coder=cast.ada)


def test_verification_agree_dispute_and_settle(cast, fws):
    study, = include_studies(cast)
    excerpt = code_one(cast, fws, study)
    kta, _ = fws["kta"]
    iap2, _ = fws["iap2"]
    comb, _ = fws["comb"]
    p = cast.project
    with pytest.raises(CodingError, match="The coder does not verify their own coding"):
        services.verify(p, study, kta, verifier=cast.ada, decision="agree")
    services.verify(p, study, kta, verifier=cast.ben, decision="agree")
    assert StudyCoding.objects.get(study=study).status == Status.CODED
    with pytest.raises(CodingError, match="Ben verifies this study"):
        services.verify(p, study, iap2, verifier=cast.cy, decision="agree")
    with pytest.raises(CodingError, match="Say why in a comment"):
        services.verify(p, study, iap2, verifier=cast.ben, decision="propose",
                        categories=["collaborate"])
    proposal = services.verify(p, study, iap2, verifier=cast.ben, decision="propose",
                               categories=["collaborate"], comment="They co-led it")
    assert proposal.proposal == {"categories": ["collaborate"]}
    services.verify(p, study, comb, verifier=cast.ben, excerpt=excerpt, decision="agree")
    assert StudyCoding.objects.get(study=study).status == Status.DISPUTED
    with pytest.raises(CodingError, match="The coder or a lead settles a proposal"):
        services.settle(p, proposal, accept=True, user=cast.ben)
    services.settle(p, proposal, accept=True, user=cast.ada)
    assert codes_of(study, iap2) == ["collaborate"]
    coding = StudyCoding.objects.get(study=study)
    assert (coding.status, coding.coder, coding.verifier) == (Status.VERIFIED, cast.ada,
                                                              cast.ben)
    assert coding.verified_at is not None
    settled = Verification.objects.get(pk=proposal.pk)
    assert (settled.outcome, settled.settled_by) == ("accepted", cast.ada)
    event, = events("frameworks.settle")
    assert (event.before, event.after) == (
        {"framework": "iap2", "codes": ["consult"]},
        {"framework": "iap2", "codes": ["collaborate"], "outcome": "accepted"})
    assert [e.after["decision"] for e in events("frameworks.verify")] == [
        "agree", "propose", "agree"]
    with pytest.raises(CodingError, match="already settled"):
        services.settle(p, proposal, accept=False, user=cast.lead)


def test_rejected_proposal_keeps_the_codes_and_an_excerpt_proposal_moves_categories(cast, fws):
    study, = include_studies(cast)
    excerpt = code_one(cast, fws, study)
    kta, _ = fws["kta"]
    iap2, _ = fws["iap2"]
    comb, _ = fws["comb"]
    p = cast.project
    a = services.verify(p, study, kta, verifier=cast.ben, decision="propose",
                        categories=["identify"], comment="Not adapted")
    b = services.verify(p, study, comb, verifier=cast.ben, excerpt=excerpt,
                        decision="propose", categories=["skills"],
                        comment="Skills, not knowledge")
    services.verify(p, study, iap2, verifier=cast.ben, decision="agree")
    services.settle(p, a, accept=False, user=cast.lead)
    assert StudyCoding.objects.get(study=study).status == Status.DISPUTED
    services.settle(p, b, accept=True, user=cast.lead)
    assert codes_of(study, kta) == ["identify", "adapt"]
    assert sorted(excerpt.categories.values_list("key", flat=True)) == ["cap-psych", "skills"]
    assert StudyCoding.objects.get(study=study).status == Status.VERIFIED
    by_fw = {a.framework.key: (a.answered, a.unchanged, a.share)
             for a in services.agreement(p)}
    assert by_fw == {"kta": (1, 0, 0.0), "iap2": (1, 1, 1.0), "wider": (0, 0, None),
                     "comb": (1, 0, 0.0), "mcleroy": (0, 0, None)}


def test_status_not_started_then_coded_then_not_started_when_codes_go(cast, fws):
    study, = include_studies(cast)
    kta, kc = fws["kta"]
    coding = services.coding_for(cast.project, study)
    assert coding.status == Status.NOT_STARTED
    services.set_study_codes(cast.project, study, kta, [Pick(kc["identify"])],
                             coder=cast.ada)
    assert StudyCoding.objects.get(study=study).status == Status.CODED
    services.set_study_codes(cast.project, study, kta, [], coder=cast.ada)
    assert StudyCoding.objects.get(study=study).status == Status.NOT_STARTED


def test_sample_verification_first_n_then_a_repeatable_random_share(cast, fws):
    studies = include_studies(cast, 10)
    ids = [s.pk for s in studies]
    assert services.studies_needing_verification(cast.project) == set(ids)
    CodingSettings.objects.filter(project=cast.project).update(
        verify="sample", first_n=3, share=0.5, seed=7)
    drawn = services.studies_needing_verification(cast.project)
    # The first three, then half of the other seven rounded half up: four of them.
    assert len(drawn) == 7
    assert set(ids[:3]) <= drawn
    assert drawn == services.studies_needing_verification(cast.project)
    CodingSettings.objects.filter(project=cast.project).update(share=0.0)
    assert services.studies_needing_verification(cast.project) == set(ids[:3])
    CodingSettings.objects.filter(project=cast.project).update(share=1.0)
    assert services.studies_needing_verification(cast.project) == set(ids)


def test_the_sample_marks_which_coded_studies_need_a_verifier(cast, fws):
    from frameworks import catalogue_services

    studies = include_studies(cast, 2)
    kta, kc = fws["kta"]
    for study in studies:
        services.set_study_codes(cast.project, study, kta, [Pick(kc["identify"])],
                                 coder=cast.ada)
    assert list(StudyCoding.objects.order_by("study_id").values_list(
        "needs_verification", flat=True)) == [True, True]
    catalogue_services.update_coding_settings(cast.project, user=cast.lead, verify="sample",
                                              first_n=1, share=0.0, seed=3)
    assert list(StudyCoding.objects.order_by("study_id").values_list(
        "needs_verification", "status")) == [(True, "coded"), (False, "coded")]
    # A study outside the sample may still be verified.
    services.verify(cast.project, studies[1], kta, verifier=cast.ben, decision="agree")
    assert StudyCoding.objects.get(study=studies[1]).status == Status.VERIFIED


def test_catalogue_copies_code_by_their_rules(cast):
    """The built-in IAP2 (one level), KTA (several phases), COM-B/TDF and outcome categories,
    copied into the project, coded through the same services."""
    from frameworks import catalogue_services

    study, = include_studies(cast)
    use = {key: catalogue_services.use_framework(cast.project, key, user=cast.lead)
           for key in ("kta", "iap2", "com-b-tdf", "outcomes")}
    iap2, kta = use["iap2"], use["kta"]
    levels = list(iap2.categories.order_by("position"))
    with pytest.raises(CodingError, match="takes one category per study; 2 were picked"):
        services.set_study_codes(cast.project, study, iap2,
                                 [Pick(levels[0]), Pick(levels[1])], coder=cast.ada)
    phases = list(kta.categories.order_by("position")[:3])
    services.set_study_codes(cast.project, study, kta, [Pick(c) for c in phases],
                             coder=cast.ada)
    assert len(codes_of(study, kta)) == 3
    immediate = use["outcomes"].categories.get(key="immediate")
    with pytest.raises(CodingError, match="codes outcomes, not barriers or facilitators"):
        services.add_excerpt(cast.project, study, kind="barrier", text="x",
                             categories=[immediate], coder=cast.ada)
    outcome = services.add_excerpt(cast.project, study, kind="outcome", text="Trust grew",
                                   categories=[immediate], coder=cast.ada)
    assert list(outcome.categories.values_list("key", flat=True)) == ["immediate"]
    domain = use["com-b-tdf"].categories.filter(parent__isnull=False).first()
    barrier = services.add_excerpt(cast.project, study, kind="barrier", text="No skills",
                                   categories=[domain], coder=cast.ada)
    assert sorted(barrier.categories.values_list("key", flat=True)) == sorted(
        [domain.key, domain.parent.key])


def test_an_excerpt_quotes_an_extracted_answer_of_its_study(cast, fws):
    from tests.factories import AnswerFactory

    study, other = include_studies(cast, 2)
    answer = AnswerFactory(extraction__study=study, quote="Partners set the questions",
                           page="12")
    excerpt = services.add_excerpt(cast.project, study, kind="facilitator", text="",
                                   answer_id=answer.pk, coder=cast.ada)
    assert (excerpt.text, excerpt.page, excerpt.answer_id) == (
        "Partners set the questions", "12", answer.pk)
    with pytest.raises(CodingError, match="That extracted answer is not of this study"):
        services.add_excerpt(cast.project, other, kind="barrier", text="",
                             answer_id=answer.pk, coder=cast.ada)


def test_update_excerpt_keeps_a_retired_category_and_audits_the_change(cast, fws):
    study, = include_studies(cast)
    _, lvl = fws["mcleroy"]
    excerpt = services.add_excerpt(cast.project, study, kind="barrier", text="Turnover",
                                   categories=[lvl["individual"]], coder=cast.ada)
    Category.objects.filter(pk=lvl["individual"].pk).update(retired=True)
    lvl["individual"].refresh_from_db()
    lvl["interpersonal"].retired = False
    services.update_excerpt(cast.project, excerpt, kind="facilitator", text="Turnover",
                            categories=[lvl["individual"], lvl["interpersonal"]],
                            theme="Staff", coder=cast.ada)
    excerpt.refresh_from_db()
    assert (excerpt.kind, excerpt.theme.name) == ("facilitator", "Staff")
    assert sorted(excerpt.categories.values_list("key", flat=True)) == [
        "individual", "interpersonal"]
    other = services.add_excerpt(cast.project, study, kind="barrier", text="Cost",
                                 coder=cast.ada)
    with pytest.raises(CodingError, match="Individual is retired"):
        services.update_excerpt(cast.project, other, kind="barrier", text="Cost",
                                categories=[lvl["individual"]], coder=cast.ada)
    event, = events("frameworks.update_excerpt")
    assert (event.before["kind"], event.after["kind"]) == ("barrier", "facilitator")
    assert event.after["categories"] == ["mcleroy:individual", "mcleroy:interpersonal"]


def test_changing_verified_codes_asks_for_a_new_answer(cast, fws):
    study, = include_studies(cast)
    excerpt = code_one(cast, fws, study)
    kta, kc = fws["kta"]
    iap2, _ = fws["iap2"]
    comb, cc = fws["comb"]
    p = cast.project
    for fw, ex in ((kta, None), (iap2, None), (comb, excerpt)):
        services.verify(p, study, fw, verifier=cast.ben, excerpt=ex, decision="agree")
    assert StudyCoding.objects.get(study=study).status == Status.VERIFIED
    # A note changes nothing the verifier answered; a new category does.
    services.set_study_codes(p, study, kta, [Pick(kc["identify"], note="see p. 3"),
                                             Pick(kc["adapt"])], coder=cast.ada)
    assert StudyCoding.objects.get(study=study).status == Status.VERIFIED
    services.set_study_codes(p, study, kta, [Pick(kc["identify"])], coder=cast.ada)
    assert StudyCoding.objects.get(study=study).status == Status.CODED
    services.update_excerpt(p, excerpt, kind="barrier", text="Time",
                            categories=[cc["skills"]], theme="Time", coder=cast.ada)
    assert list(Verification.objects.filter(coding__study=study).order_by("id")
                .values_list("framework__key", flat=True)) == ["iap2"]
    reset = events("frameworks.reset_verification")
    assert [(e.before["framework"], e.before["decision"]) for e in reset] == [
        ("kta", "agree"), ("comb", "agree")]
    services.verify(p, study, kta, verifier=cast.ben, decision="agree")
    services.verify(p, study, comb, verifier=cast.ben, excerpt=excerpt, decision="agree")
    assert StudyCoding.objects.get(study=study).status == Status.VERIFIED


def test_one_study_needs_verification_exactly_when_the_sample_draws_it(cast, fws):
    studies = include_studies(cast, 12)
    outside = StudyFactory(project=cast.project)
    p = cast.project
    for first_n, share, seed in ((3, 0.5, 7), (0, 0.25, 11), (20, 0.5, 1), (2, 1.0, 5)):
        CodingSettings.objects.update_or_create(project=p, defaults={
            "verify": "sample", "first_n": first_n, "share": share, "seed": seed})
        drawn = services.studies_needing_verification(p)

        one_by_one = {s.pk for s in studies if services.needs_verification(p, s.pk)}

        assert one_by_one == drawn
        assert services.needs_verification(p, outside.pk) is False
    CodingSettings.objects.filter(project=p).update(verify="all")
    assert [services.needs_verification(p, s.pk) for s in (studies[0], outside)] == [True,
                                                                                     False]


@pytest.mark.parametrize("verify", ["all", "sample"])
def test_a_coding_write_costs_the_same_queries_with_3_and_30_included_studies(
        cast, fws, verify, django_assert_num_queries):
    kta, kc = fws["kta"]
    p = cast.project
    CodingSettings.objects.create(project=p, verify=verify, first_n=1, share=0.5, seed=3)
    few = include_studies(cast, 3)

    with django_assert_num_queries(20) as three:
        services.set_study_codes(p, few[1], kta, [Pick(kc["identify"])], coder=cast.ada)
    with django_assert_num_queries(15):
        services.verify(p, few[1], kta, verifier=cast.ben, decision="agree")
    many = few + include_studies(cast, 27, title="More partnerships")
    with django_assert_num_queries(len(three.captured_queries)):
        services.set_study_codes(p, many[20], kta, [Pick(kc["identify"])], coder=cast.ada)
    with django_assert_num_queries(15):
        services.verify(p, many[20], kta, verifier=cast.ben, decision="agree")

    assert list(StudyCoding.objects.order_by("study_id").values_list("status", flat=True)) == [
        "verified", "verified"]
    # The write asks whether the study is included and where it stands (EXISTS, COUNT); it
    # never lists the included studies.
    assert [q["sql"][:40] for q in three.captured_queries if 'FROM "references_study"' in
            q["sql"] and not q["sql"].startswith(("SELECT 1 AS", "SELECT COUNT("))] == []
