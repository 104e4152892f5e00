"""Journeys through the real UI: chromium, the live server, and (for jobs) a real Celery worker.

Each journey asserts what a person sees and then what the database holds afterwards.
"""

import json
import os
import re
import signal
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from accounts.models import User
from projects.models import Invitation, Job, Membership, Project, Role
from tests.browser.conftest import TIMEOUT, sign_in, wait_for_htmx

PROJECT = "Trainee-led IKT scoping review"


def exact_label(text: str) -> re.Pattern:
    """A label matcher that tolerates crispy's required-field asterisk ("Password*")."""
    return re.compile(rf"^\s*{re.escape(text)}\s*\*?\s*$")


def pipeline(page: Page):
    return page.get_by_role("navigation", name="Review pipeline")


# 1. Sign in ------------------------------------------------------------------------------

@pytest.mark.browser
def test_lead_signs_in_and_sees_their_projects(page, live_server, cast):
    sign_in(page, "lead")

    expect(page).to_have_url(f"{live_server.url}/", timeout=TIMEOUT)
    expect(page.get_by_role("heading", name="My projects", level=1)).to_be_visible(
        timeout=TIMEOUT)
    projects = page.locator(".list-group").get_by_role("link")
    expect(projects).to_have_count(1, timeout=TIMEOUT)
    project = page.get_by_role("link", name=PROJECT)
    expect(project).to_be_visible(timeout=TIMEOUT)
    expect(project).to_have_attribute("href", "/p/ikt/", timeout=TIMEOUT)
    expect(project.locator(".badge")).to_have_text("Lead", timeout=TIMEOUT)
    # The main navigation shows who is signed in.
    expect(page.get_by_role("button", name="Lena Lead")).to_be_attached(timeout=TIMEOUT)


@pytest.mark.browser
def test_wrong_password_shows_the_error_and_stays_on_sign_in(page, live_server, cast):
    sign_in(page, "lead", password="not-the-password")

    expect(page).to_have_url(f"{live_server.url}/accounts/login/", timeout=TIMEOUT)
    expect(page.get_by_role("heading", name="Sign in to Tandem")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text(
        "Please enter a correct username and password. "
        "Note that both fields may be case-sensitive.", exact=True,
    )).to_be_visible(timeout=TIMEOUT)
    # The username is kept, the password is not; nobody is signed in.
    expect(page.get_by_label("Username")).to_have_value("lead", timeout=TIMEOUT)
    expect(page.get_by_label("Password")).to_have_value("", timeout=TIMEOUT)
    assert "sessionid" not in {c["name"] for c in page.context.cookies()}
    page.goto("/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/", timeout=TIMEOUT)


# 2. Create a project ---------------------------------------------------------------------

@pytest.mark.browser
def test_a_user_creates_a_project_and_becomes_its_lead(page, live_server, cast):
    sign_in(page, "outsider")
    expect(page.get_by_text("You are not in any project yet.")).to_be_visible(timeout=TIMEOUT)

    page.get_by_role("link", name="New project").click()
    expect(page.get_by_role("heading", name="New review project")).to_be_visible(
        timeout=TIMEOUT)
    page.get_by_label(exact_label("Name")).fill("Peer mentoring for residents")
    page.get_by_label(exact_label("Short description")).fill("Mapping peer mentoring programmes.")
    page.get_by_label(exact_label("Review type")).select_option(label="Scoping review")
    page.get_by_label(exact_label("Inclusion criteria")).fill("Residents\nPeer mentoring")
    page.get_by_label(exact_label("Exclusion criteria")).fill("Faculty-only programmes")
    page.get_by_role("button", name="Create project").click()

    expect(page).to_have_url(f"{live_server.url}/p/peer-mentoring-for-residents/",
                             timeout=TIMEOUT)
    expect(page.get_by_role("heading", name="Peer mentoring for residents", level=1)
           ).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("Your role: Lead", exact=True)).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("Scoping review", exact=True)).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("status").filter(has_text="created")).to_have_text(
        "Project “Peer mentoring for residents” created. You are its lead.", timeout=TIMEOUT)
    expect(page.get_by_text("Mapping peer mentoring programmes.")).to_be_visible(
        timeout=TIMEOUT)
    # The lead sees the lead-only pages.
    expect(pipeline(page).get_by_role("link", name="Settings")).to_be_visible(timeout=TIMEOUT)

    project = Project.objects.get(slug="peer-mentoring-for-residents")
    assert (project.name, project.description, project.review_type) == (
        "Peer mentoring for residents", "Mapping peer mentoring programmes.",
        Project.ReviewType.SCOPING)
    # Browsers submit textarea line breaks as CRLF; Django's form field keeps them.
    assert project.inclusion_criteria.replace("\r\n", "\n") == "Residents\nPeer mentoring"
    assert project.exclusion_criteria == "Faculty-only programmes"
    assert project.created_by == cast.outsider
    assert list(project.memberships.values_list("user__username", "role")) == [
        ("outsider", Role.LEAD)]
    assert Project.objects.count() == 2


# 3. Invite and accept --------------------------------------------------------------------

@pytest.mark.browser
def test_lead_invites_a_newcomer_who_signs_up_and_joins(new_context, live_server, cast):
    lead = new_context().new_page()
    sign_in(lead, "lead")
    lead.goto("/p/ikt/")
    pipeline(lead).get_by_role("link", name="Team", exact=True).click()
    expect(lead).to_have_url(f"{live_server.url}/p/ikt/team/", timeout=TIMEOUT)
    expect(lead.get_by_role("heading", name="Pending invitations")).to_have_count(0)

    lead.get_by_label("Email address").fill("newcomer@example.org")
    lead.get_by_label("Role", exact=True).select_option(label="Viewer")
    lead.get_by_role("button", name="Invite", exact=True).click()

    expect(lead.get_by_role("status").filter(has_text="Invitation for")).to_have_text(
        "Invitation for newcomer@example.org created: send them the link below "
        "(it was also emailed).", timeout=TIMEOUT)
    expect(lead.get_by_role("heading", name="Pending invitations")).to_be_visible(
        timeout=TIMEOUT)
    expect(lead.get_by_text("newcomer@example.org as viewer · invited by Lena Lead")
           ).to_be_visible(timeout=TIMEOUT)
    link_field = lead.get_by_label("Invitation link for newcomer@example.org")
    expect(link_field).to_be_visible(timeout=TIMEOUT)
    expect(link_field).not_to_be_editable(timeout=TIMEOUT)
    link = link_field.input_value()
    invitation = Invitation.objects.get(email="newcomer@example.org")
    assert link == f"{live_server.url}/invitations/{invitation.token}/"
    assert (invitation.project, invitation.role, invitation.invited_by) == (
        cast.project, Role.VIEWER, cast.lead)

    # The email is sent by the live server's thread, in this process: the locmem outbox has it.
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["newcomer@example.org"]
    assert email.subject == f"Invitation to the review '{PROJECT}' on Tandem"
    assert link in email.body

    # The newcomer opens the link in a browser of their own, not signed in.
    newcomer = new_context().new_page()
    newcomer.goto(link)
    expect(newcomer.get_by_role("heading", name=f"Invitation to “{PROJECT}”")).to_be_visible(
        timeout=TIMEOUT)
    expect(newcomer.get_by_text(
        "Lena Lead invites newcomer@example.org to join this review as viewer.")
    ).to_be_visible(timeout=TIMEOUT)
    email_field = newcomer.get_by_label(exact_label("Email address"))
    expect(email_field).to_have_value("newcomer@example.org", timeout=TIMEOUT)
    expect(email_field).to_be_disabled(timeout=TIMEOUT)
    newcomer.get_by_label(exact_label("Username")).fill("newcomer")
    newcomer.get_by_label(exact_label("Display name")).fill("Nia Newcomer")
    newcomer.get_by_label(exact_label("Password")).fill("Scoping-2-review!")
    newcomer.get_by_label(exact_label("Password confirmation")).fill("Scoping-2-review!")
    newcomer.get_by_role("button", name="Create account and join").click()

    expect(newcomer).to_have_url(f"{live_server.url}/p/ikt/", timeout=TIMEOUT)
    expect(newcomer.get_by_role("heading", name=PROJECT, level=1)).to_be_visible(
        timeout=TIMEOUT)
    expect(newcomer.get_by_text("Your role: Viewer", exact=True)).to_be_visible(
        timeout=TIMEOUT)
    expect(newcomer.get_by_role("status").filter(has_text="You joined")).to_have_text(
        f"You joined “{PROJECT}” as viewer.", timeout=TIMEOUT)
    expect(newcomer.get_by_role("button", name="Nia Newcomer")).to_be_attached(
        timeout=TIMEOUT)

    user = User.objects.get(username="newcomer")
    assert (user.email, user.display_name) == ("newcomer@example.org", "Nia Newcomer")
    assert user.check_password("Scoping-2-review!")
    assert Membership.objects.get(project=cast.project, user=user).role == Role.VIEWER
    invitation.refresh_from_db()
    assert invitation.accepted_by == user and invitation.accepted_at is not None
    assert not invitation.is_pending

    # Back with the lead: the newcomer is in the team, the invitation is no longer pending.
    lead.reload()
    row = lead.get_by_role("row").filter(has_text="newcomer")
    expect(row).to_have_count(1, timeout=TIMEOUT)
    expect(row.get_by_role("cell").nth(0)).to_have_text("Nia Newcomer", timeout=TIMEOUT)
    expect(lead.get_by_label("Role of Nia Newcomer")).to_have_value("viewer", timeout=TIMEOUT)
    expect(lead.get_by_role("heading", name="Pending invitations")).to_have_count(0)
    expect(lead.get_by_label("Invitation link for newcomer@example.org")).to_have_count(0)
    # The used link now says so.
    newcomer.goto(link)
    expect(newcomer.get_by_role("alert")).to_have_text(
        "This invitation has expired, was revoked or was used already. "
        "Ask the project's lead for a new one.", timeout=TIMEOUT)
    assert len(mail.outbox) == 1


# 4. Job progress -------------------------------------------------------------------------

@pytest.mark.browser
@pytest.mark.postgres
@pytest.mark.redis
def test_health_check_progress_is_polled_until_it_succeeds(page, live_server, cast,
                                                           celery_worker, tmp_path):
    sign_in(page, "lead")
    page.goto("/p/ikt/")
    expect(page.get_by_text("None yet.")).to_be_visible(timeout=TIMEOUT)
    polls = []
    page.on("request", lambda request: request.headers.get("hx-request") and polls.append(
        request.url))

    # Pause the worker (the fixture's own process) so the page first shows the queued job
    # and the progress region really has to poll its way to the end.
    os.kill(celery_worker.pid, signal.SIGSTOP)
    try:
        page.get_by_role("button", name="Run a health check").click()
        expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/p/ikt/jobs/\d+/$"),
                                 timeout=TIMEOUT)
        progress = page.locator("#job-progress")
        expect(progress.locator(".job-status")).to_have_text("Queued", timeout=TIMEOUT)
        expect(progress).to_contain_text("Waiting for a worker…", timeout=TIMEOUT)
        expect(progress).to_have_attribute("hx-trigger", "every 1s", timeout=TIMEOUT)
    finally:
        os.kill(celery_worker.pid, signal.SIGCONT)

    job = Job.objects.get()
    expect(page.get_by_role("heading", name=f"Project health check #{job.pk}")).to_be_visible(
        timeout=TIMEOUT)
    expect(progress.locator(".job-status")).to_have_text("Succeeded", timeout=10_000)
    wait_for_htmx(page)
    bar = progress.get_by_role("progressbar", name="Project health check progress")
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=TIMEOUT)
    expect(bar).to_have_text("100%", timeout=TIMEOUT)
    expect(progress.get_by_role("status")).to_have_text(
        "5 members (1 lead, 3 reviewers, 1 viewer), 0 pending invitations.", timeout=TIMEOUT)
    # A finished job stops polling.
    expect(progress).not_to_have_attribute("hx-get", re.compile(".*"), timeout=TIMEOUT)
    assert polls and all(url.endswith(f"/p/ikt/jobs/{job.pk}/") for url in polls)

    download_link = progress.get_by_role("link", name="Download the report")
    expect(download_link).to_be_visible(timeout=TIMEOUT)
    with page.expect_download(timeout=TIMEOUT) as download_info:
        download_link.click()
    download = download_info.value
    assert download.suggested_filename == "health-check-ikt.json"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    report = json.loads(Path(target).read_text())
    assert report["members"] == 5
    assert report["members_by_role"] == {"viewer": 1, "reviewer": 3, "lead": 1}
    assert (report["project"], report["pending_invitations"]) == ("ikt", 0)

    job.refresh_from_db()
    assert (job.status, job.started_by, job.progress_done, job.progress_total) == (
        Job.Status.SUCCEEDED, cast.lead, 4, 4)
    assert job.message == "5 members (1 lead, 3 reviewers, 1 viewer), 0 pending invitations."
    assert job.result["members"] == 5


# 5. A phone-sized screen -----------------------------------------------------------------

@pytest.mark.browser
def test_reviewer_on_a_phone_reaches_the_team_page(new_context, live_server, cast):
    page = new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                       has_touch=True).new_page()
    sign_in(page, "ada")
    page.goto("/p/ikt/")

    expect(page.get_by_text("Your role: Reviewer", exact=True)).to_be_visible(timeout=TIMEOUT)
    nav = pipeline(page)
    expect(nav).to_be_visible(timeout=TIMEOUT)
    expect(nav.get_by_role("link")).to_have_text(
        ["Overview", "References", "Screening", "Full text", "Extraction", "Coding", "Reports",
         "Team"], timeout=TIMEOUT)
    expect(nav.get_by_role("link", name="Settings")).to_have_count(0)
    expect(nav.get_by_role("link", name="Activity")).to_have_count(0)
    # The pipeline scrolls inside its own strip: the page itself does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    team = nav.get_by_role("link", name="Team", exact=True)
    team.scroll_into_view_if_needed()
    expect(team).to_be_in_viewport(timeout=TIMEOUT)
    team.tap()

    expect(page).to_have_url(f"{live_server.url}/p/ikt/team/", timeout=TIMEOUT)
    expect(page.get_by_role("heading", name="Team", level=2)).to_be_visible(timeout=TIMEOUT)
    expect(pipeline(page).get_by_role("link", name="Team", exact=True)).to_have_attribute(
        "aria-current", "page", timeout=TIMEOUT)
    expect(pipeline(page).get_by_role("link", name="Settings")).to_have_count(0)
    # A reviewer sees the team but cannot manage it.
    expect(page.get_by_role("button", name="Invite")).to_have_count(0)
    expect(page.get_by_role("row").filter(has_text="ada")).to_contain_text("Reviewer",
                                                                            timeout=TIMEOUT)
