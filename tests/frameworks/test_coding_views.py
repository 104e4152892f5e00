"""The coding pages: the studies to code, a study's coding page, and the writes behind its
forms (codes, excerpts, verification, settling), with what each changes exactly."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from frameworks import services
from frameworks.models import Excerpt, StudyCode, StudyCoding, Verification
from frameworks.services import Pick
from projects.models import AuditEvent
from tests.extraction.steps import include_studies
from tests.frameworks.test_coding import fws  # noqa: F401  (the fixture)


def url(name, *args):
    return reverse(f"frameworks:{name}", args=["ikt", *args])


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_codes_saved_from_the_form_with_their_evidence(cast, fws, client_for):  # noqa: F811
    study, = include_studies(cast)
    kta, kc = fws["kta"]
    client = client_for(cast.ada)
    response = client.post(url("coding_save", study.pk, kta.pk), {
        "category": [kc["identify"].pk, kc["assess"].pk],
        f"note-{kc['identify'].pk}": "Co-designed", f"quote-{kc['identify'].pk}": "We met",
        f"page-{kc['identify'].pk}": "3"}, follow=True)
    assert messages_of(response) == ["KTA: codes saved."]
    assert list(StudyCode.objects.filter(study=study).order_by("category__position")
                .values_list("category__key", "note", "quote", "page")) == [
        ("identify", "Co-designed", "We met", "3"), ("assess", "", "", "")]
    page = response.content.decode()
    assert 'id="coding-status" data-status="coded"' in page


def test_two_categories_of_a_single_choice_framework_are_refused(cast, fws,  # noqa: F811
                                                                 client_for):
    study, = include_studies(cast)
    iap2, ic = fws["iap2"]
    response = client_for(cast.ada).post(url("coding_save", study.pk, iap2.pk), {
        "category": [ic["inform"].pk, ic["consult"].pk]}, follow=True)
    assert messages_of(response) == ["IAP2 takes one category per study; 2 were picked."]
    assert StudyCode.objects.filter(study=study).count() == 0


def test_excerpt_added_with_a_new_theme_and_tdf_domain(cast, fws, client_for):  # noqa: F811
    study, = include_studies(cast)
    _, comb = fws["comb"]
    _, lvl = fws["mcleroy"]
    response = client_for(cast.ada).post(url("coding_add_excerpt", study.pk), {
        "kind": "barrier", "text": "Staff had no time", "page": "5", "theme": "Time",
        "category": [comb["knowledge"].pk, lvl["interpersonal"].pk]}, follow=True)
    assert messages_of(response) == ["Excerpt added."]
    excerpt = Excerpt.objects.get(study=study)
    assert (excerpt.kind, excerpt.text, excerpt.page, excerpt.theme.name) == (
        "barrier", "Staff had no time", "5", "Time")
    assert sorted(excerpt.categories.values_list("key", flat=True)) == [
        "cap-psych", "interpersonal", "knowledge"]
    assert "Staff had no time" in response.content.decode()
    response = client_for(cast.ada).post(url("coding_delete_excerpt", excerpt.pk),
                                         follow=True)
    assert messages_of(response) == ["Excerpt removed."]
    assert Excerpt.objects.filter(study=study).count() == 0
    assert AuditEvent.objects.filter(action="frameworks.delete_excerpt").count() == 1


def test_a_second_reviewer_proposes_and_the_coder_accepts(cast, fws, client_for):  # noqa: F811
    study, = include_studies(cast)
    iap2, ic = fws["iap2"]
    services.set_study_codes(cast.project, study, iap2, [Pick(ic["consult"])], coder=cast.ada)
    # The coder sees no verification form; the second reviewer does.
    assert "Agree with IAP2" not in client_for(cast.ada).get(
        url("coding_study", study.pk)).content.decode()
    client = client_for(cast.ben)
    assert "Agree with IAP2" in client.get(url("coding_study", study.pk)).content.decode()
    response = client.post(url("coding_verify", study.pk), {
        "framework": iap2.pk, "decision": "propose", "category": [ic["collaborate"].pk],
        "comment": "Partners co-led"}, follow=True)
    assert messages_of(response) == ["IAP2: your answer is saved."]
    assert StudyCoding.objects.get(study=study).status == "disputed"
    proposal = Verification.objects.get()
    assert proposal.proposal == {"categories": ["collaborate"]}
    # Ben may not settle his own proposal; ada, the coder, may.
    assert client_for(cast.ben).post(url("coding_settle", proposal.pk),
                                     {"accept": "1"}).status_code == 403
    response = client_for(cast.ada).post(url("coding_settle", proposal.pk), {"accept": "1"},
                                         follow=True)
    assert messages_of(response) == ["The proposal is settled."]
    assert list(StudyCode.objects.filter(study=study).values_list("category__key",
                                                                   flat=True)) == [
        "collaborate"]
    assert StudyCoding.objects.get(study=study).status == "verified"


def test_studies_page_shows_status_and_agreement(cast, fws, client_for):  # noqa: F811
    first, second = include_studies(cast, 2)
    kta, kc = fws["kta"]
    services.set_study_codes(cast.project, first, kta, [Pick(kc["adapt"])], coder=cast.ada)
    services.verify(cast.project, first, kta, verifier=cast.ben, decision="agree")
    response = client_for(cast.viewer).get(url("coding_studies"))
    page = response.content.decode()
    assert f'data-study="{first.pk}" data-status="verified"' in page
    assert f'data-study="{second.pk}" data-status="not_started"' in page
    assert ('<tr data-framework="kta"><td>KTA</td><td>1</td><td>1</td><td>100%</td></tr>'
            in page)
    assert '<tr data-framework="iap2"><td>IAP2</td><td>0</td><td>0</td><td>—</td></tr>' in page


def test_viewer_reads_but_cannot_code(cast, fws, client_for):  # noqa: F811
    study, = include_studies(cast)
    kta, kc = fws["kta"]
    client = client_for(cast.viewer)
    page = client.get(url("coding_study", study.pk)).content.decode()
    assert "Save KTA" not in page
    assert client.post(url("coding_save", study.pk, kta.pk),
                       {"category": [kc["adapt"].pk]}).status_code == 403
    assert client_for(cast.outsider).get(url("coding_study", study.pk)).status_code == 404
    assert client_for(cast.ada).get(url("coding_save", study.pk, kta.pk)).status_code == 405
    assert StudyCode.objects.count() == 0


@pytest.mark.parametrize("n", [1, 3])
def test_studies_page_queries_do_not_grow_with_studies(cast, fws, client_for, n):  # noqa: F811
    studies = include_studies(cast, n)
    kta, kc = fws["kta"]
    for study in studies:
        services.set_study_codes(cast.project, study, kta, [Pick(kc["adapt"])],
                                 coder=cast.ada)
    client = client_for(cast.lead)
    client.get(url("coding_studies"))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url("coding_studies")).status_code == 200
    assert len(queries) == 12


def test_coding_home_links_to_the_studies_to_code(cast, client_for):
    page = client_for(cast.viewer).get(reverse("frameworks:home", args=["ikt"]))
    assert f'href="{url("coding_studies")}">Studies to code</a>' in page.content.decode()


def test_studies_filtered_by_status_and_a_study_page_writes_nothing(cast, fws,  # noqa: F811
                                                                   client_for):
    first, second = include_studies(cast, 2)
    kta, kc = fws["kta"]
    services.set_study_codes(cast.project, first, kta, [Pick(kc["adapt"])], coder=cast.ada)
    client = client_for(cast.ben)
    page = client.get(url("coding_studies"), {"status": "coded"}).content.decode()
    assert f'data-study="{first.pk}"' in page
    assert f'data-study="{second.pk}"' not in page
    page = client.get(url("coding_studies"), {"status": "not_started"}).content.decode()
    assert f'data-study="{first.pk}"' not in page
    assert f'data-study="{second.pk}"' in page
    assert client.get(url("coding_study", second.pk)).status_code == 200
    assert list(StudyCoding.objects.values_list("study_id", flat=True)) == [first.pk]


def test_an_excerpt_edited_from_its_form(cast, fws, client_for):  # noqa: F811
    study, = include_studies(cast)
    _, lvl = fws["mcleroy"]
    excerpt = services.add_excerpt(cast.project, study, kind="barrier", text="No time",
                                   categories=[lvl["individual"]], coder=cast.ada)
    client = client_for(cast.ada)
    assert "Save excerpt 1" in client.get(url("coding_study", study.pk)).content.decode()
    response = client.post(url("coding_edit_excerpt", excerpt.pk), {
        "kind": "facilitator", "text": "Protected time", "page": "8", "theme": "Time",
        "category": [lvl["interpersonal"].pk]}, follow=True)
    assert messages_of(response) == ["Excerpt saved."]
    excerpt.refresh_from_db()
    assert (excerpt.kind, excerpt.text, excerpt.page, excerpt.theme.name) == (
        "facilitator", "Protected time", "8", "Time")
    assert list(excerpt.categories.values_list("key", flat=True)) == ["interpersonal"]
    assert client_for(cast.viewer).post(url("coding_edit_excerpt", excerpt.pk),
                                        {"kind": "barrier", "text": "x"}).status_code == 403
