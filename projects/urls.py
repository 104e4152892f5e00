from django.urls import path

from . import views

app_name = "projects"

urlpatterns = [
    path("", views.home, name="home"),
    path("projects/new/", views.project_create, name="create"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation"),
    path("p/<slug:slug>/team/", views.team, name="team"),
    path("p/<slug:slug>/team/invite/", views.team_invite, name="team_invite"),
    path("p/<slug:slug>/team/<int:membership_id>/role/", views.team_role, name="team_role"),
    path("p/<slug:slug>/team/<int:membership_id>/remove/", views.team_remove,
         name="team_remove"),
    path("p/<slug:slug>/invitations/<int:invitation_id>/revoke/", views.invitation_revoke,
         name="invitation_revoke"),
    path("p/<slug:slug>/settings/", views.project_settings, name="settings"),
    path("p/<slug:slug>/activity/", views.activity, name="activity"),
    path("p/<slug:slug>/jobs/", views.job_list, name="jobs"),
    path("p/<slug:slug>/jobs/health-check/", views.job_health_check, name="job_health_check"),
    path("p/<slug:slug>/jobs/<int:job_id>/", views.job_detail, name="job"),
    path("p/<slug:slug>/jobs/<int:job_id>/retry/", views.job_retry, name="job_retry"),
    path("p/<slug:slug>/jobs/<int:job_id>/file/", views.job_file, name="job_file"),
]
