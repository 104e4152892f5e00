from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.forms import SignupForm
from accounts.services import create_account

from . import queries, services
from .access import get_project_for_user
from .forms import ActivityFilterForm, InvitationForm, ProjectForm, RoleForm
from .jobs import JobError, can_retry, retry_job
from .models import ROLE_HELP, Invitation, Job, Membership, Role


@login_required
@require_GET
def home(request):
    return render(request, "projects/home.html", {"memberships": queries.projects_of(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request):
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        project = services.create_project(user=request.user, **form.cleaned_data)
        messages.success(request, f"Project “{project.name}” created. You are its lead.")
        return redirect("reports:overview", slug=project.slug)
    return render(request, "projects/project_form.html", {"form": form})


@login_required
@require_GET
def team(request, slug):
    project = get_project_for_user(request, slug)
    is_lead = project.membership.has_role(Role.LEAD)
    invitations = [
        (inv, services.invitation_url(inv, request))
        for inv in project.invitations.select_related("invited_by") if inv.is_pending
    ]
    members = list(queries.team(project))
    return render(request, "projects/team.html", {
        "project": project,
        "section": "team",
        "members": members,
        "lead_count": sum(1 for m in members if m.role == Role.LEAD),
        "invitations": invitations if is_lead else [],
        "is_lead": is_lead,
        "invite_form": InvitationForm(),
        "roles": Role.choices,
        "role_help": [(label, ROLE_HELP[value]) for value, label in Role.choices],
    })


@login_required
@require_POST
def team_invite(request, slug):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    form = InvitationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a valid email address and a role.")
        return redirect("projects:team", slug=slug)
    try:
        invitation = services.invite_member(project, user=request.user, request=request,
                                            **form.cleaned_data)
    except services.ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Invitation for {invitation.email} created: send them the "
                                  "link below (it was also emailed).")
    return redirect("projects:team", slug=slug)


@login_required
@require_POST
def team_role(request, slug, membership_id):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    membership = get_object_or_404(Membership, pk=membership_id, project=project)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
        return redirect("projects:team", slug=slug)
    try:
        services.change_role(membership, role=form.cleaned_data["role"], user=request.user)
    except services.ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{membership.user} is now {membership.get_role_display()}.")
    return redirect("projects:team", slug=slug)


@login_required
@require_POST
def team_remove(request, slug, membership_id):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    membership = get_object_or_404(Membership, pk=membership_id, project=project)
    try:
        services.remove_member(membership, user=request.user)
    except services.ServiceError as exc:
        messages.error(request, str(exc))
        return redirect("projects:team", slug=slug)
    messages.success(request, f"{membership.user} was removed from the team. Their past "
                              "decisions stay in the project.")
    if membership.user == request.user:
        return redirect("projects:home")
    return redirect("projects:team", slug=slug)


@login_required
@require_POST
def invitation_revoke(request, slug, invitation_id):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    invitation = get_object_or_404(Invitation, pk=invitation_id, project=project)
    try:
        services.revoke_invitation(invitation, user=request.user)
    except services.ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"The invitation for {invitation.email} was revoked.")
    return redirect("projects:team", slug=slug)


@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    """The link from an invitation: join as the signed-in user, or create an account."""
    invitation = Invitation.objects.select_related("project", "invited_by").filter(
        token=token
    ).first()
    if invitation is None:
        raise Http404("This invitation link is not valid.")
    context = {"invitation": invitation}
    if not invitation.is_pending:
        return render(request, "projects/invitation.html", context, status=410)
    if request.user.is_authenticated:
        if request.method == "POST":
            return _join(request, invitation)
        return render(request, "projects/invitation.html", context)
    form = SignupForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        user = create_account(
            username=form.cleaned_data["username"], email=invitation.email,
            password=form.cleaned_data["password1"],
            display_name=form.cleaned_data["display_name"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return _join(request, invitation)
    context["form"] = form
    return render(request, "projects/invitation.html", context)


def _join(request, invitation):
    try:
        membership = services.accept_invitation(invitation.token, user=request.user)
    except services.ServiceError as exc:
        messages.error(request, str(exc))
        return redirect("projects:home")
    messages.success(request, f"You joined “{membership.project.name}” as "
                              f"{membership.get_role_display().lower()}.")
    return redirect("reports:overview", slug=membership.project.slug)


@login_required
@require_http_methods(["GET", "POST"])
def project_settings(request, slug):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    form = ProjectForm(request.POST or None, instance=project)
    if request.method == "POST" and form.is_valid():
        services.update_project(project, user=request.user, **form.cleaned_data)
        messages.success(request, "Settings saved.")
        return redirect("projects:settings", slug=slug)
    return render(request, "projects/settings.html",
                  {"project": project, "section": "settings", "form": form})


@login_required
@require_GET
def activity(request, slug):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    form = ActivityFilterForm(
        request.GET or None, actors=queries.activity_actors(project, user=request.user),
        actions=queries.activity_actions(project, user=request.user))
    actor_id = action = ""
    if form.is_valid():
        actor_id, action = form.cleaned_data["actor"], form.cleaned_data["action"]
    page = Paginator(
        queries.activity(project, user=request.user, actor_id=actor_id, action=action), 50
    ).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "projects/activity.html", {
        "project": project, "section": "activity", "form": form, "page": page,
        "query": query.urlencode(),
    })


@login_required
@require_GET
def job_list(request, slug):
    project = get_project_for_user(request, slug)
    page = Paginator(queries.jobs_of(project), 25).get_page(request.GET.get("page"))
    return render(request, "projects/job_list.html",
                  {"project": project, "section": "overview", "page": page})


@login_required
@require_POST
def job_health_check(request, slug):
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    job = services.start_health_check(project, user=request.user)
    return redirect("projects:job", slug=slug, job_id=job.pk)


@login_required
@require_GET
def job_detail(request, slug, job_id):
    project = get_project_for_user(request, slug)
    job = get_object_or_404(Job.objects.select_related("started_by"), pk=job_id, project=project)
    context = {"project": project, "section": "overview", "job": job,
               "can_retry": can_retry(job, project.membership)}
    if request.htmx:
        return render(request, "projects/job.html#progress", context)
    return render(request, "projects/job.html", context)


@login_required
@require_POST
def job_retry(request, slug, job_id):
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    job = get_object_or_404(Job, pk=job_id, project=project)
    try:
        new_job = retry_job(job, user=request.user)  # PermissionDenied (403) below its role
    except JobError as exc:
        messages.error(request, str(exc))
        return redirect("projects:job", slug=slug, job_id=job.pk)
    return redirect("projects:job", slug=slug, job_id=new_job.pk)


@login_required
@require_GET
def job_file(request, slug, job_id):
    project = get_project_for_user(request, slug)
    job = get_object_or_404(Job, pk=job_id, project=project)
    if not job.result_file:
        raise Http404("This job has no file.")
    return FileResponse(job.result_file.open("rb"), as_attachment=True,
                        filename=job.result_file.name.rsplit("/", 1)[-1])
