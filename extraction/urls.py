from django.urls import path

from . import form_views, views

app_name = "extraction"

urlpatterns = [
    path("p/<slug:slug>/extraction/", views.home, name="home"),
    path("p/<slug:slug>/extraction/form/", form_views.form_builder, name="form"),
    path("p/<slug:slug>/extraction/form/sections/<int:section_id>/", form_views.section_edit,
         name="section"),
    path("p/<slug:slug>/extraction/form/fields/<int:field_id>/", form_views.field_edit,
         name="field"),
    path("p/<slug:slug>/extraction/form/preview/", form_views.preview, name="preview"),
    path("p/<slug:slug>/extraction/form/export/", form_views.form_export, name="form_export"),
    path("p/<slug:slug>/extraction/form/import/", form_views.form_import, name="form_import"),
    path("p/<slug:slug>/extraction/table/", views.table, name="table"),
    path("p/<slug:slug>/extraction/table/export/", views.table_export, name="table_export"),
]
