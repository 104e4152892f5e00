from django.urls import path

from . import form_views, study_views, views

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
    # Extracting and settling (study_views).
    path("p/<slug:slug>/extraction/studies/", study_views.studies, name="studies"),
    path("p/<slug:slug>/extraction/studies/<int:study_id>/", study_views.study, name="study"),
    path("p/<slug:slug>/extraction/<str:round>/studies/<int:study_id>/extract/",
         study_views.extract, name="extract"),
    path("p/<slug:slug>/extraction/<str:round>/studies/<int:study_id>/extract/autosave/",
         study_views.autosave, name="autosave"),
    path("p/<slug:slug>/extraction/<str:round>/studies/<int:study_id>/extract/reopen/",
         study_views.reopen, name="reopen"),
    path("p/<slug:slug>/extraction/studies/<int:study_id>/consensus/", study_views.consensus,
         name="consensus"),
    path("p/<slug:slug>/extraction/studies/<int:study_id>/consensus/reopen/",
         study_views.consensus_reopen, name="consensus_reopen"),
    path("p/<slug:slug>/extraction/assignments/", study_views.assignments, name="assignments"),
    path("p/<slug:slug>/extraction/settings/", study_views.extraction_settings,
         name="settings"),
    path("p/<slug:slug>/extraction/pilot/", study_views.pilot, name="pilot"),
    path("p/<slug:slug>/extraction/pilot/start-main/", study_views.start_main,
         name="start_main"),
]
