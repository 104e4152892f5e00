from django.urls import path

from . import coding_views, views

app_name = "frameworks"

urlpatterns = [
    path("p/<slug:slug>/coding/", views.home, name="home"),
    # The project's frameworks (views.py): pick, stop, custom, categories, JSON, themes.
    # Coding and verification (coding_views.py) and charting add their paths below.
    path("p/<slug:slug>/coding/studies/", coding_views.studies, name="coding_studies"),
    path("p/<slug:slug>/coding/studies/<int:study_id>/", coding_views.study,
         name="coding_study"),
    path("p/<slug:slug>/coding/studies/<int:study_id>/frameworks/<int:framework_id>/",
         coding_views.save_codes, name="coding_save"),
    path("p/<slug:slug>/coding/studies/<int:study_id>/excerpts/", coding_views.add_excerpt,
         name="coding_add_excerpt"),
    path("p/<slug:slug>/coding/excerpts/<int:excerpt_id>/delete/",
         coding_views.delete_excerpt, name="coding_delete_excerpt"),
    path("p/<slug:slug>/coding/studies/<int:study_id>/verify/", coding_views.verify,
         name="coding_verify"),
    path("p/<slug:slug>/coding/verifications/<int:verification_id>/settle/",
         coding_views.settle, name="coding_settle"),
]
