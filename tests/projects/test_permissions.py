"""Every project URL, walked with every role and both methods.

The walk covers every URL pattern that takes a project `slug`, in every app, found from
the resolver: a view added later fails this test until ACCESS says who may use it.
"""

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from projects.models import Job, Role
from references.models import DuplicateCandidate, DuplicateDecisionBatch
from tests.factories import InvitationFactory, JobFactory, RecordFactory

# url name -> (role needed for GET, role needed for POST); None: the method is not allowed.
ACCESS = {
    "reports:overview": (Role.VIEWER, None),
    "reports:home": (Role.VIEWER, None),
    "reports:prisma": (Role.VIEWER, None),
    "reports:prisma_box": (Role.VIEWER, None),  # a conflict list is for leads (own test)
    "reports:prisma_box_key": (Role.VIEWER, None),
    "reports:prisma_download": (Role.VIEWER, None),
    "reports:exports": (Role.VIEWER, None),
    "reports:export_start": (None, Role.VIEWER),  # every export holds settled data only
    "reports:archive_export": (None, Role.LEAD),  # every vote and sealed event
    "projects:team": (Role.VIEWER, None),
    "projects:team_invite": (None, Role.LEAD),
    "projects:team_role": (None, Role.LEAD),
    "projects:team_remove": (None, Role.LEAD),
    "projects:invitation_revoke": (None, Role.LEAD),
    "projects:settings": (Role.LEAD, Role.LEAD),
    "projects:activity": (Role.LEAD, None),
    "projects:jobs": (Role.VIEWER, None),
    "projects:job_health_check": (None, Role.REVIEWER),
    "projects:job": (Role.VIEWER, None),
    "projects:job_retry": (None, Role.REVIEWER),
    "projects:job_file": (Role.VIEWER, None),
    "references:list": (Role.VIEWER, None),
    "references:import": (Role.REVIEWER, Role.REVIEWER),
    "references:import_mapping": (Role.REVIEWER, Role.REVIEWER),
    "references:export": (Role.VIEWER, None),
    "references:source": (Role.VIEWER, Role.REVIEWER),
    "references:record": (Role.VIEWER, None),
    "references:unmerge": (None, Role.LEAD),
    "references:remove": (None, Role.LEAD),
    "references:restore": (None, Role.LEAD),
    "references:link_study": (None, Role.REVIEWER),
    "references:unlink_study": (None, Role.REVIEWER),
    "references:duplicates": (Role.LEAD, None),
    "references:duplicate": (Role.LEAD, Role.LEAD),
    "references:duplicate_reopen": (None, Role.LEAD),
    "references:duplicate_group": (Role.LEAD, Role.LEAD),
    "references:duplicate_batch": (Role.LEAD, None),
    "references:duplicate_batch_undo": (None, Role.LEAD),
    "references:deduplicate": (None, Role.LEAD),
    "screening:title_abstract": (Role.VIEWER, None),
    "screening:full_text": (Role.VIEWER, None),
    "screening:screen": (Role.REVIEWER, None),
    "screening:progress": (Role.REVIEWER, None),
    "screening:ahead": (Role.REVIEWER, None),
    "screening:vote": (None, Role.REVIEWER),
    "screening:undo": (None, Role.REVIEWER),
    "screening:resolve": (Role.LEAD, Role.LEAD),  # a conflict; leads only by default
    "screening:conflicts": (Role.REVIEWER, None),
    "screening:records": (Role.VIEWER, None),
    "screening:assign": (None, Role.LEAD),
    "screening:fulltext_bulk": (Role.REVIEWER, Role.REVIEWER),
    "screening:fulltext": (Role.REVIEWER, Role.REVIEWER),
    "screening:fulltext_pdf": (Role.VIEWER, None),
    "screening:settings": (Role.LEAD, Role.LEAD),
    "screening:reasons": (None, Role.LEAD),
    "screening:agreement_csv": (Role.VIEWER, None),
    "screening:score": (Role.LEAD, None),  # a score could sway a reviewer's vote
    "ranking:stage": (Role.LEAD, None),
    "ranking:sample": (None, Role.LEAD),
    "ranking:stop": (None, Role.LEAD),
    "ranking:undo_stop": (None, Role.LEAD),
    "extraction:home": (Role.VIEWER, None),
    "extraction:form": (Role.LEAD, Role.LEAD),
    "extraction:section": (None, Role.LEAD),
    "extraction:field": (Role.LEAD, Role.LEAD),
    "extraction:preview": (Role.VIEWER, Role.VIEWER),  # posting only checks answers
    "extraction:form_export": (Role.VIEWER, None),
    "extraction:form_import": (Role.LEAD, Role.LEAD),
    "extraction:table": (Role.VIEWER, None),
    "extraction:table_export": (None, Role.VIEWER),  # settled data only: any member
    "extraction:studies": (Role.VIEWER, None),
    "extraction:study": (Role.VIEWER, None),
    # The url_kwargs study is assigned to ada and the lead, both complete; the lead allows
    # the pair to settle it (else an extractor gets 403 on consensus, a lead in the pair too).
    "extraction:extract": (Role.REVIEWER, Role.REVIEWER),
    "extraction:autosave": (None, Role.REVIEWER),
    "extraction:reopen": (None, Role.REVIEWER),
    "extraction:consensus": (Role.REVIEWER, Role.REVIEWER),
    "extraction:consensus_reopen": (None, Role.LEAD),
    "extraction:assignments": (Role.LEAD, Role.LEAD),
    "extraction:settings": (Role.LEAD, Role.LEAD),
    "extraction:pilot": (Role.LEAD, Role.LEAD),
    "extraction:start_main": (None, Role.LEAD),
    "frameworks:home": (Role.VIEWER, None),
    "frameworks:frameworks": (Role.VIEWER, None),
    "frameworks:use": (None, Role.LEAD),
    "frameworks:custom": (None, Role.LEAD),
    "frameworks:import": (Role.LEAD, Role.LEAD),
    "frameworks:framework": (Role.VIEWER, None),
    "frameworks:framework_stop": (None, Role.LEAD),
    "frameworks:framework_levels": (None, Role.LEAD),
    "frameworks:framework_export": (Role.VIEWER, None),
    "frameworks:category_add": (None, Role.LEAD),
    "frameworks:category": (None, Role.LEAD),
    "frameworks:themes": (Role.VIEWER, None),
    "frameworks:theme": (None, Role.LEAD),
    "frameworks:settings": (Role.LEAD, Role.LEAD),
    "frameworks:coding_studies": (Role.VIEWER, None),
    "frameworks:coding_study": (Role.VIEWER, None),
    "frameworks:coding_save": (None, Role.REVIEWER),
    "frameworks:coding_add_excerpt": (None, Role.REVIEWER),
    "frameworks:coding_edit_excerpt": (None, Role.REVIEWER),
    "frameworks:coding_delete_excerpt": (None, Role.REVIEWER),
    "frameworks:coding_verify": (None, Role.REVIEWER),
    "frameworks:coding_settle": (None, Role.REVIEWER),  # the coder (ada here) or a lead
    "frameworks:charting": (Role.VIEWER, None),
    "frameworks:charting_export": (Role.VIEWER, None),
    "frameworks:figure": (Role.VIEWER, None),
    "frameworks:matrix": (Role.VIEWER, None),
    "frameworks:matrix_cell": (Role.VIEWER, None),
}

RANK = {None: 0, "outsider": 0, Role.VIEWER: 1, Role.REVIEWER: 2, Role.LEAD: 3}
WHO = ["anonymous", "outsider", "viewer", "ada", "lead"]
ROLE_OF = {"anonymous": None, "outsider": "outsider", "viewer": Role.VIEWER,
           "ada": Role.REVIEWER, "lead": Role.LEAD}


def project_url_names() -> list[str]:
    names = []

    def walk(patterns, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, ":".join(filter(None, [namespace, p.namespace])))
            elif isinstance(p, URLPattern) and "slug" in p.pattern.converters:
                names.append(f"{namespace}:{p.name}" if namespace else p.name)

    walk(get_resolver().url_patterns, "")
    return sorted(set(names))


def test_every_project_url_is_in_the_access_table():
    names = project_url_names()
    assert sorted(ACCESS) == names, (
        "Project URLs and the ACCESS table differ: add new views to ACCESS with the roles "
        f"they need. Only in urls: {sorted(set(names) - set(ACCESS))}; "
        f"only in ACCESS: {sorted(set(ACCESS) - set(names))}"
    )


# The parameters whose objects are costly to make (an extracted and coded study): made only
# for the URLs that take one of them.
STUDY_PARAMS = {"study_id", "round", "theme_id", "framework_id", "excerpt_id",
                "verification_id", "category_id"}


def url_kwargs(cast, client, params=STUDY_PARAMS) -> dict:
    """A value for every URL parameter in `params` (and the cheap ones): add one here when a
    view takes a new kind of id."""
    first, second = RecordFactory.create_batch(2, project=cast.project)
    pair = DuplicateCandidate.objects.create(project=cast.project, record_a=first,
                                             record_b=second, score=0.8)
    first.duplicate_of = RecordFactory(project=cast.project)
    first.save()
    conflict = RecordFactory(project=cast.project)
    from screening.services import record_vote

    record_vote(conflict, stage="title_abstract", reviewer=cast.ada, decision="include")
    record_vote(conflict, stage="title_abstract", reviewer=cast.ben, decision="exclude")
    from screening.models import FullText

    FullText.objects.create(project=cast.project, record=conflict).pdf.save(
        "paper.pdf", ContentFile(b"%PDF-1.4 test"))
    token = _pending_import(cast, client)
    job = JobFactory(project=cast.project, started_by=cast.lead, status=Job.Status.FAILED,
                     message="boom")
    job.result_file.save("report.json", ContentFile(b"{}"))
    invitation = InvitationFactory(project=cast.project, invited_by=cast.lead)
    from extraction import forms_builder

    form = forms_builder.ensure_form(cast.project, user=cast.lead)
    form_section = forms_builder.add_section(form, title="Study", user=cast.lead)
    form_field = forms_builder.add_field(form_section, user=cast.lead, spec=forms_builder
                                         .FieldSpec(label="Country", type="country"))
    study_kwargs = {}
    if STUDY_PARAMS & set(params):
        study = _extracted_study(cast, form_field)
        study_kwargs = {"study_id": study.pk, "round": "main", **_coded_study(cast, study)}
    return {
        "slug": cast.project.slug,
        "membership_id": cast.ben.memberships.get().pk,
        "invitation_id": invitation.pk,
        "job_id": job.pk,
        "source_id": first.source_id,
        "record_id": conflict.pk,
        "pair_id": pair.pk,
        "signature": "below_certain,journal=case",
        "batch_id": DuplicateDecisionBatch.objects.create(
            project=cast.project, decision="duplicate", signature="below_certain",
            pair_ids=[pair.pk], decided_by=cast.lead).pk,
        "token": token,
        "stage": "title_abstract",
        "section_id": form_section.pk,
        "field_id": form_field.pk,
        "box": "identified_databases",  # PRISMA: a source's records
        "key": str(first.source_id),
        "fmt": "json",
        "stop_id": _early_stop(cast).pk,
        **study_kwargs,
    }


def _early_stop(cast):
    """A stop of title and abstract screening that marked no records."""
    from ranking.models import EarlyStop

    return EarlyStop.objects.create(project=cast.project, stage="title_abstract",
                                    note="Estimate says stop", stopped_by=cast.lead)


def _coded_study(cast, study) -> dict:
    """The study coded by ada in a framework of the project, with an excerpt, and ben's
    open proposal on her codes."""
    from frameworks import services as coding
    from frameworks.models import Category, Framework

    framework = Framework.objects.create(project=cast.project, key="kta-test", name="KTA",
                                         rule=Framework.Rule.MULTIPLE)
    first, second = (Category.objects.create(framework=framework, key=k, name=k, position=i)
                     for i, k in enumerate(["identify", "adapt"]))
    coding.set_study_codes(cast.project, study, framework, [coding.Pick(first)],
                           coder=cast.ada)
    excerpt = coding.add_excerpt(cast.project, study, kind="barrier", text="No time",
                                 coder=cast.ada)
    proposal = coding.verify(cast.project, study, framework, verifier=cast.ben,
                             decision="propose", categories=["adapt"], comment="Adapted")
    theme = coding.theme_named(cast.project, "Time", user=cast.ada)
    return {"theme_id": theme.pk, "framework_id": framework.pk, "excerpt_id": excerpt.pk,
            "verification_id": proposal.pk, "category_id": first.pk}


def _extracted_study(cast, field):
    """An included study that ada and the lead have both extracted (complete), in a project
    whose lead lets the pair settle consensus."""
    from extraction import services as extraction
    from screening.services import record_vote

    record = RecordFactory(project=cast.project)
    for stage in ("title_abstract", "full_text"):
        for who in (cast.ada, cast.ben):
            record_vote(record, stage=stage, reviewer=who, decision="include")
    extraction.update_settings(cast.project, user=cast.lead, mode="dual", consensus_by="pair")
    extraction.assign_study(cast.project, record.study, reviewers=[cast.ada, cast.lead],
                            user=cast.lead)
    for who, country in ((cast.ada, "CA"), (cast.lead, "NO")):
        extraction.save_answers(cast.project, record.study, round="main", reviewer=who,
                                inputs={field.key: extraction.AnswerInput(raw=country)})
        extraction.complete_extraction(cast.project, record.study, round="main", reviewer=who)
    return record.study


def _pending_import(cast, client) -> str:
    """A CSV upload waiting for its column mapping, in the session of `client`."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from references import services
    from references.views import SESSION_KEY

    upload = services.save_upload(cast.project, SimpleUploadedFile(
        "refs.csv", b"Title,Year\nPeer mentoring,2020\n"))
    session = client.session
    session[SESSION_KEY] = {"tok": {
        "upload": upload, "filename": "refs.csv", "source_name": "Grey", "source_kind": "other",
        "date_searched": None, "search_strategy": "", "file_format": "csv"}}
    session.save()
    return "tok"


def expected_status(method: str, needed, role) -> int:
    if role is None:
        return 302  # to the sign-in page
    if needed is None:
        return 405
    if role == "outsider":
        return 404
    if RANK[role] < RANK[needed]:
        return 403
    return 200


@pytest.mark.parametrize("name", sorted(ACCESS))
@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("method", ["get", "post"])
def test_project_url_access(cast, client_for, name, who, method):
    get_role, post_role = ACCESS[name]
    needed = get_role if method == "get" else post_role
    role = ROLE_OF[who]
    client = client_for(None if who == "anonymous" else cast.user(who))
    pattern_kwargs = _pattern_params(name)
    kwargs = url_kwargs(cast, client, pattern_kwargs)
    url = reverse(name, kwargs={k: kwargs[k] for k in pattern_kwargs})

    response = getattr(client, method)(url)

    expected = expected_status(method, needed, role)
    if expected == 200 and method == "post":
        # A permitted write answers with a redirect, or re-renders its form with errors.
        assert response.status_code in (200, 302), (name, who, response.status_code)
    elif expected == 302:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login") + "?next=")
    else:
        assert response.status_code == expected, (name, who, method, response.status_code)


def _pattern_params(name: str) -> list[str]:
    """The parameter names of the URL pattern `name` (e.g. ["slug", "job_id"])."""
    namespace, _, url_name = name.rpartition(":")
    resolver = get_resolver()
    for ns in filter(None, namespace.split(":")):
        resolver = resolver.namespace_dict[ns][1]
    possibilities = resolver.reverse_dict.getlist(url_name)
    return list(possibilities[0][0][0][1])


def test_outsider_gets_404_not_403_on_a_project_that_exists(cast, client_for):
    response = client_for(cast.outsider).get(reverse("reports:overview", args=["ikt"]))
    missing = client_for(cast.outsider).get(reverse("reports:overview", args=["no-such"]))

    assert response.status_code == missing.status_code == 404
