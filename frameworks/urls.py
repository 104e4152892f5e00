from django.urls import path

from . import charting_views, coding_views, views

app_name = "frameworks"

urlpatterns = [
    path("p/<slug:slug>/coding/", views.home, name="home"),
    # The project's frameworks (views.py): pick, stop, custom, categories, JSON, themes.
    path("p/<slug:slug>/coding/frameworks/", views.frameworks, name="frameworks"),
    path("p/<slug:slug>/coding/frameworks/use/", views.use, name="use"),
    path("p/<slug:slug>/coding/frameworks/custom/", views.custom, name="custom"),
    path("p/<slug:slug>/coding/frameworks/import/", views.framework_import, name="import"),
    path("p/<slug:slug>/coding/frameworks/<int:framework_id>/", views.framework,
         name="framework"),
    path("p/<slug:slug>/coding/frameworks/<int:framework_id>/stop/", views.framework_stop,
         name="framework_stop"),
    path("p/<slug:slug>/coding/frameworks/<int:framework_id>/levels/",
         views.framework_levels, name="framework_levels"),
    path("p/<slug:slug>/coding/frameworks/<int:framework_id>/export/",
         views.framework_export, name="framework_export"),
    path("p/<slug:slug>/coding/frameworks/<int:framework_id>/categories/",
         views.category_add, name="category_add"),
    path("p/<slug:slug>/coding/categories/<int:category_id>/", views.category,
         name="category"),
    path("p/<slug:slug>/coding/themes/", views.themes, name="themes"),
    path("p/<slug:slug>/coding/themes/<int:theme_id>/", views.theme, name="theme"),
    path("p/<slug:slug>/coding/settings/", views.coding_settings, name="settings"),
    # Coding and verification (coding_views.py) and charting add their paths below.
    path("p/<slug:slug>/coding/studies/", coding_views.studies, name="coding_studies"),
    path("p/<slug:slug>/coding/studies/<int:study_id>/", coding_views.study,
         name="coding_study"),
    path("p/<slug:slug>/coding/studies/<int:study_id>/frameworks/<int:framework_id>/",
         coding_views.save_codes, name="coding_save"),
    path("p/<slug:slug>/coding/studies/<int:study_id>/excerpts/", coding_views.add_excerpt,
         name="coding_add_excerpt"),
    path("p/<slug:slug>/coding/excerpts/<int:excerpt_id>/", coding_views.edit_excerpt,
         name="coding_edit_excerpt"),
    path("p/<slug:slug>/coding/excerpts/<int:excerpt_id>/delete/",
         coding_views.delete_excerpt, name="coding_delete_excerpt"),
    path("p/<slug:slug>/coding/studies/<int:study_id>/verify/", coding_views.verify,
         name="coding_verify"),
    path("p/<slug:slug>/coding/verifications/<int:verification_id>/settle/",
         coding_views.settle, name="coding_settle"),
    # Charting (charting_views.py).
    path("p/<slug:slug>/coding/charting/", charting_views.charting, name="charting"),
    path("p/<slug:slug>/coding/charting/export/", charting_views.export,
         name="charting_export"),
    path("p/<slug:slug>/coding/charting/figure.svg", charting_views.figure_download,
         name="figure"),
    path("p/<slug:slug>/coding/charting/frameworks/<int:framework_id>/",
         charting_views.matrix, name="matrix"),
    path("p/<slug:slug>/coding/charting/frameworks/<int:framework_id>/studies/<int:study_id>/"
         "categories/<int:category_id>/", charting_views.matrix_cell, name="matrix_cell"),
]
