import pytest
from django.core import mail
from django.urls import reverse

from projects import jobs, services
from projects.models import AuditEvent, Invitation, Job, Membership, Project, Role
from tests.factories import InvitationFactory, JobFactory, MembershipFactory, ProjectFactory


def test_home_lists_only_my_projects(cast, client_for):
    ProjectFactory(name="Somebody else's review")

    response = client_for(cast.ada).get(reverse("projects:home"))

    assert [m.project.name for m in response.context["memberships"]] == [
        "Trainee-led IKT scoping review"]
    assert "Somebody else" not in response.text


def test_home_query_count_does_not_grow_with_projects(cast, client_for,
                                                      django_assert_num_queries):
    client = client_for(cast.ada)
    with django_assert_num_queries(3) as one:
        client.get(reverse("projects:home"))
    for _ in range(2):
        MembershipFactory(user=cast.ada)
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(reverse("projects:home"))
    assert len(response.context["memberships"]) == 3


def test_create_project_view_makes_me_lead(db, client_for, cast):
    response = client_for(cast.outsider).post(reverse("projects:create"), {
        "name": "Nurse-led trials", "description": "", "review_type": "systematic",
        "inclusion_criteria": "RCTs", "exclusion_criteria": "",
    })

    project = Project.objects.get(name="Nurse-led trials")
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:overview", args=[project.slug])
    assert project.memberships.get().user == cast.outsider


def test_create_project_view_needs_a_name(cast, client_for):
    response = client_for(cast.outsider).post(reverse("projects:create"),
                                              {"review_type": "systematic"})

    assert response.status_code == 200
    assert response.context["form"].errors == {"name": ["This field is required."]}
    assert not Project.objects.filter(created_by=cast.outsider).exists()


def test_overview_escapes_criteria(cast, client_for):
    cast.project.inclusion_criteria = "<script>alert(1)</script> trainees"
    cast.project.save()

    response = client_for(cast.viewer).get(reverse("reports:overview", args=["ikt"]))

    assert "&lt;script&gt;alert(1)&lt;/script&gt; trainees" in response.text
    assert "<script>alert(1)" not in response.text


def test_overview_offers_the_health_check_to_writers_only(cast, client_for):
    url = reverse("reports:overview", args=["ikt"])

    assert "Run a health check" in client_for(cast.ada).get(url).text
    assert "Run a health check" not in client_for(cast.viewer).get(url).text


def test_navigation_shows_settings_and_activity_to_leads_only(cast, client_for):
    url = reverse("reports:overview", args=["ikt"])

    lead_page = client_for(cast.lead).get(url).text
    reviewer_page = client_for(cast.ada).get(url).text

    for label in ("Overview", "References", "Screening", "Full text", "Extraction", "Coding",
                  "Reports", "Team"):
        assert f">{label}</a>" in lead_page and f">{label}</a>" in reviewer_page
    assert ">Settings</a>" in lead_page and ">Activity</a>" in lead_page
    assert ">Settings</a>" not in reviewer_page and ">Activity</a>" not in reviewer_page


def test_team_page_shows_invitation_links_to_leads_only(cast, client_for):
    invitation = InvitationFactory(project=cast.project, invited_by=cast.lead,
                                   email="kim@example.org")
    url = reverse("projects:team", args=["ikt"])

    lead_page = client_for(cast.lead).get(url).text
    reviewer_page = client_for(cast.ada).get(url).text

    assert f"http://testserver/invitations/{invitation.token}/" in lead_page
    assert invitation.token not in reviewer_page and "kim@example.org" not in reviewer_page
    assert "Change role" not in reviewer_page


def test_team_query_count_does_not_grow_with_members(cast, client_for,
                                                     django_assert_num_queries):
    client = client_for(cast.lead)
    url = reverse("projects:team", args=["ikt"])
    with django_assert_num_queries(5) as before:
        client.get(url)
    for _ in range(3):
        MembershipFactory(project=cast.project)
        InvitationFactory(project=cast.project, invited_by=cast.lead)
    with django_assert_num_queries(len(before.captured_queries)):
        response = client.get(url)
    assert len(response.context["members"]) == 8
    assert len(response.context["invitations"]) == 3


def test_invite_view_creates_invitation_and_sends_email(cast, client_for):
    response = client_for(cast.lead).post(reverse("projects:team_invite", args=["ikt"]),
                                          {"email": "kim@example.org", "role": "viewer"})

    assert response.status_code == 302
    invitation = Invitation.objects.get(email="kim@example.org")
    assert invitation.role == "viewer" and invitation.invited_by == cast.lead
    assert mail.outbox[0].to == ["kim@example.org"]


def test_invite_view_rejects_a_bad_address(cast, client_for):
    response = client_for(cast.lead).post(reverse("projects:team_invite", args=["ikt"]),
                                          {"email": "not-an-address", "role": "viewer"},
                                          follow=True)

    assert "Enter a valid email address and a role." in response.text
    assert Invitation.objects.count() == 0


def test_role_and_remove_views(cast, client_for):
    client = client_for(cast.lead)
    ben = cast.ben.memberships.get()

    client.post(reverse("projects:team_role", args=["ikt", ben.pk]), {"role": "viewer"})
    assert Membership.objects.get(pk=ben.pk).role == "viewer"

    client.post(reverse("projects:team_remove", args=["ikt", ben.pk]))
    assert not Membership.objects.filter(pk=ben.pk).exists()


def test_role_view_shows_the_last_lead_rule(cast, client_for):
    lead = cast.lead.memberships.get()

    response = client_for(cast.lead).post(reverse("projects:team_role", args=["ikt", lead.pk]),
                                          {"role": "viewer"}, follow=True)

    assert "A project needs at least one lead" in response.text
    assert Membership.objects.get(pk=lead.pk).role == "lead"


def test_membership_of_another_project_is_404(cast, client_for):
    other = MembershipFactory()

    response = client_for(cast.lead).post(
        reverse("projects:team_remove", args=["ikt", other.pk]))

    assert response.status_code == 404
    assert Membership.objects.filter(pk=other.pk).exists()


def test_invitation_page_lets_a_new_person_sign_up_and_join(cast, client):
    invitation = InvitationFactory(project=cast.project, invited_by=cast.lead, role="viewer",
                                   email="kim@example.org")
    url = reverse("projects:invitation", args=[invitation.token])

    response = client.post(url, {"username": "kim", "display_name": "Kim Lee",
                                 "password1": "a-long-pass-phrase-42",
                                 "password2": "a-long-pass-phrase-42",
                                 "email": "attacker@example.org"})

    assert response.status_code == 302
    assert response["Location"] == reverse("reports:overview", args=["ikt"])
    membership = Membership.objects.get(user__username="kim")
    assert (membership.project, membership.role) == (cast.project, "viewer")
    assert membership.user.email == "kim@example.org"  # the invitation fixes the address
    assert client.get(reverse("reports:overview", args=["ikt"])).status_code == 200


def test_invitation_page_lets_a_signed_in_user_join(cast, client_for):
    invitation = InvitationFactory(project=cast.project, invited_by=cast.lead, role="reviewer")
    client = client_for(cast.outsider)
    url = reverse("projects:invitation", args=[invitation.token])

    assert "Join as Otto Outsider" in client.get(url).text
    client.post(url)

    assert Membership.objects.get(user=cast.outsider).role == "reviewer"


def test_invitation_page_for_used_and_unknown_links(cast, client):
    used = InvitationFactory(project=cast.project, invited_by=cast.lead)
    services.accept_invitation(used.token, user=cast.outsider)

    gone = client.get(reverse("projects:invitation", args=[used.token]))
    unknown = client.get(reverse("projects:invitation", args=["no-such-token"]))

    assert gone.status_code == 410
    assert "expired, was revoked or was used already" in gone.text
    assert unknown.status_code == 404


def test_settings_view_saves_and_logs(cast, client_for):
    response = client_for(cast.lead).post(reverse("projects:settings", args=["ikt"]), {
        "name": "IKT review", "description": "d", "review_type": "scoping",
        "inclusion_criteria": "Trainee-led", "exclusion_criteria": "Not health",
    })

    assert response.status_code == 302
    cast.project.refresh_from_db()
    assert (cast.project.name, cast.project.review_type, cast.project.exclusion_criteria) == (
        "IKT review", "scoping", "Not health")
    assert AuditEvent.objects.get(action="project.update").actor == cast.lead


def test_activity_is_newest_first_and_filters(cast, client_for):
    services.change_role(cast.ben.memberships.get(), role=Role.VIEWER, user=cast.lead)
    services.update_project(cast.project, user=cast.ada, description="x")
    url = reverse("projects:activity", args=["ikt"])
    client = client_for(cast.lead)

    everything = [e.action for e in client.get(url).context["page"]]
    by_ada = [e.action for e in client.get(url, {"actor": cast.ada.pk}).context["page"]]
    roles = [e.target_repr for e in client.get(url, {"action": "member.role"}).context["page"]]

    assert everything == ["project.update", "member.role"]
    assert by_ada == ["project.update"]
    assert roles == ["Ben (Viewer) in Trainee-led IKT scoping review"]


def test_activity_query_count_does_not_grow(cast, client_for, django_assert_num_queries):
    client = client_for(cast.lead)
    url = reverse("projects:activity", args=["ikt"])
    services.update_project(cast.project, user=cast.ada, description="1")
    with django_assert_num_queries(7) as before:
        client.get(url)
    for n in range(2, 5):
        services.update_project(cast.project, user=cast.ben, description=str(n))
    with django_assert_num_queries(len(before.captured_queries)):
        response = client.get(url)
    assert len(response.context["page"]) == 4


def test_health_check_view_starts_a_job_and_shows_its_page(cast, client_for):
    client = client_for(cast.ada)

    response = client.post(reverse("projects:job_health_check", args=["ikt"]))

    job = Job.objects.get()
    assert response["Location"] == reverse("projects:job", args=["ikt", job.pk])
    page = client.get(response["Location"])
    assert 'data-status="queued"' in page.text and "Waiting for a worker" in page.text
    assert 'hx-trigger="every 1s"' in page.text


def test_job_page_htmx_request_gets_only_the_progress_fragment(cast, client_for):
    job = JobFactory(project=cast.project, status=Job.Status.RUNNING, progress_done=2,
                     progress_total=8, message="Counting")
    url = reverse("projects:job", args=["ikt", job.pk])

    fragment = client_for(cast.viewer).get(url, headers={"HX-Request": "true"}).text

    assert fragment.lstrip().startswith('<div id="job-progress"')
    assert "<html" not in fragment
    assert 'aria-valuenow="25"' in fragment and "Counting (2 of 8)" in fragment


def test_finished_job_stops_polling_and_shows_the_result(cast, client_for):
    done = JobFactory(project=cast.project, status=Job.Status.SUCCEEDED, message="All good.")
    failed = JobFactory(project=cast.project, status=Job.Status.FAILED, message="No lead.")
    client = client_for(cast.ada)

    done_page = client.get(reverse("projects:job", args=["ikt", done.pk])).text
    failed_page = client.get(reverse("projects:job", args=["ikt", failed.pk])).text

    assert "hx-trigger" not in done_page and "All good." in done_page
    assert "hx-trigger" not in failed_page and "The job failed.</strong> No lead." in failed_page
    assert ">Retry</button>" in failed_page


@pytest.mark.parametrize("view", ["projects:job", "projects:job_file"])
def test_job_of_another_project_is_404(cast, client_for, view):
    other = JobFactory()

    response = client_for(cast.lead).get(reverse(view, args=["ikt", other.pk]))

    assert response.status_code == 404


def test_job_list_query_count_does_not_grow(cast, client_for, django_assert_num_queries):
    client = client_for(cast.viewer)
    url = reverse("projects:jobs", args=["ikt"])
    JobFactory(project=cast.project, started_by=cast.ada)
    with django_assert_num_queries(5) as before:
        client.get(url)
    for _ in range(2):
        JobFactory(project=cast.project, started_by=cast.ben)
    with django_assert_num_queries(len(before.captured_queries)):
        response = client.get(url)
    assert len(response.context["page"]) == 3


def test_team_page_offers_no_remove_for_the_only_lead(cast, client_for):
    url = reverse("projects:team", args=["ikt"])
    lead = cast.lead.memberships.get()
    ada = cast.ada.memberships.get()

    page = client_for(cast.lead).get(url).text

    assert "only lead" in page
    assert reverse("projects:team_remove", args=["ikt", lead.pk]) not in page
    assert reverse("projects:team_remove", args=["ikt", ada.pk]) in page


def test_job_file_downloads_under_its_own_name(cast, client_for):
    first, second = (JobFactory(project=cast.project) for _ in range(2))
    for job in (first, second):
        jobs.run_job(job.pk, services.health_check)

    response = client_for(cast.viewer).get(reverse("projects:job_file", args=["ikt", second.pk]))

    assert response["Content-Disposition"] == 'attachment; filename="health-check-ikt.json"'
    assert b'"members": 5' in b"".join(response.streaming_content)


def failed_deduplication(cast) -> Job:
    return JobFactory(project=cast.project, kind="deduplicate", label="Deduplication",
                      task_name="references.deduplicate", status=Job.Status.FAILED,
                      started_by=cast.lead, message="Worker lost.")


def test_a_reviewer_retrying_a_failed_deduplication_gets_403_and_no_new_job(cast, client_for):
    failed = failed_deduplication(cast)

    response = client_for(cast.ada).post(reverse("projects:job_retry", args=["ikt", failed.pk]))

    assert response.status_code == 403
    assert list(Job.objects.values_list("pk", flat=True)) == [failed.pk]
    assert not AuditEvent.objects.filter(action="job.start").exists()


def test_a_lead_retries_a_failed_deduplication(cast, client_for):
    failed = failed_deduplication(cast)

    response = client_for(cast.lead).post(reverse("projects:job_retry", args=["ikt", failed.pk]))

    retry = Job.objects.exclude(pk=failed.pk).get()
    assert response["Location"] == reverse("projects:job", args=["ikt", retry.pk])
    assert (retry.kind, retry.status, retry.retry_of, retry.started_by) == (
        "deduplicate", "queued", failed, cast.lead)


def test_a_job_of_an_unregistered_kind_is_not_retried(cast, client_for):
    failed = JobFactory(project=cast.project, kind="mystery", status=Job.Status.FAILED)
    client = client_for(cast.lead)

    response = client.post(reverse("projects:job_retry", args=["ikt", failed.pk]), follow=True)

    assert Job.objects.count() == 1
    assert [str(m) for m in response.context["messages"]] == [
        "This kind of job cannot be retried."]
    assert ">Retry</button>" not in response.text


@pytest.mark.parametrize(("who", "on_deduplication", "on_health_check"), [
    ("lead", True, True), ("ada", False, True), ("viewer", False, False)])
def test_retry_button_is_shown_to_roles_that_may_retry(cast, client_for, who,
                                                       on_deduplication, on_health_check):
    dedup = failed_deduplication(cast)
    check = JobFactory(project=cast.project, status=Job.Status.FAILED, message="No lead.")
    client = client_for(cast.user(who))

    shown = [">Retry</button>" in client.get(reverse("projects:job", args=["ikt", job.pk])).text
             for job in (dedup, check)]
    fragment = client.get(reverse("projects:job", args=["ikt", dedup.pk]),
                          headers={"HX-Request": "true"}).text

    assert shown == [on_deduplication, on_health_check]
    assert (">Retry</button>" in fragment) == on_deduplication
