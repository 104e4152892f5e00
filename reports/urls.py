from django.urls import path

from . import archive_views, export_views, prisma_views, views

app_name = "reports"

urlpatterns = [
    path("p/<slug:slug>/", views.overview, name="overview"),
    path("p/<slug:slug>/reports/", views.home, name="home"),
    # PRISMA
    path("p/<slug:slug>/reports/prisma/", prisma_views.prisma_page, name="prisma"),
    path("p/<slug:slug>/reports/prisma/download/<slug:fmt>/", prisma_views.prisma_download,
         name="prisma_download"),
    path("p/<slug:slug>/reports/prisma/<slug:box>/", prisma_views.prisma_box,
         name="prisma_box"),
    path("p/<slug:slug>/reports/prisma/<slug:box>/<slug:key>/", prisma_views.prisma_box,
         name="prisma_box_key"),
    # Exports
    path("p/<slug:slug>/reports/exports/", export_views.exports, name="exports"),
    path("p/<slug:slug>/reports/exports/start/", export_views.export_start,
         name="export_start"),
    # Archive
    path("p/<slug:slug>/reports/archive/", archive_views.archive_export, name="archive_export"),
    path("projects/import/", archive_views.archive_import, name="archive_import"),
]
