from django.urls import path

from . import export_views, views

app_name = "reports"

urlpatterns = [
    path("p/<slug:slug>/", views.overview, name="overview"),
    path("p/<slug:slug>/reports/", views.home, name="home"),
    # PRISMA
    # Exports
    path("p/<slug:slug>/reports/exports/", export_views.exports, name="exports"),
    path("p/<slug:slug>/reports/exports/start/", export_views.export_start,
         name="export_start"),
    # Archive
]
