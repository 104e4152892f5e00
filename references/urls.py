from django.urls import path

from . import views

app_name = "references"

urlpatterns = [
    path("p/<slug:slug>/references/", views.reference_list, name="list"),
    path("p/<slug:slug>/references/import/", views.import_start, name="import"),
    path("p/<slug:slug>/references/import/<str:token>/columns/", views.import_mapping,
         name="import_mapping"),
    path("p/<slug:slug>/references/export.csv", views.export_csv, name="export"),
    path("p/<slug:slug>/references/sources/<int:source_id>/", views.source_edit, name="source"),
    path("p/<slug:slug>/references/records/<int:record_id>/", views.record_detail,
         name="record"),
    path("p/<slug:slug>/references/records/<int:record_id>/unmerge/", views.record_unmerge,
         name="unmerge"),
    path("p/<slug:slug>/references/records/<int:record_id>/remove/", views.record_remove,
         name="remove"),
    path("p/<slug:slug>/references/records/<int:record_id>/restore/", views.record_restore,
         name="restore"),
    path("p/<slug:slug>/references/records/<int:record_id>/study/link/",
         views.record_link_study, name="link_study"),
    path("p/<slug:slug>/references/records/<int:record_id>/study/unlink/",
         views.record_unlink_study, name="unlink_study"),
    path("p/<slug:slug>/references/duplicates/", views.duplicate_queue, name="duplicates"),
    path("p/<slug:slug>/references/duplicates/<int:pair_id>/", views.duplicate_pair,
         name="duplicate"),
    path("p/<slug:slug>/references/duplicates/<int:pair_id>/reopen/", views.duplicate_reopen,
         name="duplicate_reopen"),
    path("p/<slug:slug>/references/duplicates/groups/<str:signature>/", views.duplicate_group,
         name="duplicate_group"),
    path("p/<slug:slug>/references/duplicates/decisions/<int:batch_id>/",
         views.duplicate_batch, name="duplicate_batch"),
    path("p/<slug:slug>/references/duplicates/decisions/<int:batch_id>/undo/",
         views.duplicate_batch_undo, name="duplicate_batch_undo"),
    path("p/<slug:slug>/references/deduplicate/", views.deduplicate_start, name="deduplicate"),
]
