from django.urls import path

from . import views

app_name = "screening"

urlpatterns = [
    path("p/<slug:slug>/screening/", views.stage_home, {"stage": "title_abstract"},
         name="title_abstract"),
    path("p/<slug:slug>/fulltext/", views.stage_home, {"stage": "full_text"}, name="full_text"),
    path("p/<slug:slug>/screening/<str:stage>/screen/", views.screen, name="screen"),
    path("p/<slug:slug>/screening/<str:stage>/screen/ahead/", views.ahead, name="ahead"),
    path("p/<slug:slug>/screening/<str:stage>/screen/progress/", views.progress,
         name="progress"),
    path("p/<slug:slug>/screening/<str:stage>/records/<int:record_id>/vote/", views.vote,
         name="vote"),
    path("p/<slug:slug>/screening/<str:stage>/records/<int:record_id>/undo/", views.undo,
         name="undo"),
    path("p/<slug:slug>/screening/<str:stage>/records/<int:record_id>/resolve/", views.resolve,
         name="resolve"),
    path("p/<slug:slug>/screening/<str:stage>/records/<int:record_id>/score/", views.score,
         name="score"),
    path("p/<slug:slug>/screening/<str:stage>/conflicts/", views.conflicts, name="conflicts"),
    path("p/<slug:slug>/screening/<str:stage>/assign/", views.assign, name="assign"),
    path("p/<slug:slug>/screening/<str:stage>/records/", views.record_list, name="records"),
    path("p/<slug:slug>/fulltext/records/<int:record_id>/", views.full_text, name="fulltext"),
    path("p/<slug:slug>/fulltext/pdfs/", views.full_text_bulk, name="fulltext_bulk"),
    path("p/<slug:slug>/fulltext/records/<int:record_id>/pdf/", views.full_text_pdf,
         name="fulltext_pdf"),
    path("p/<slug:slug>/screening/<str:stage>/settings/", views.stage_settings,
         name="settings"),
    path("p/<slug:slug>/screening/<str:stage>/settings/reasons/", views.stage_reason,
         name="reasons"),
    path("p/<slug:slug>/screening/<str:stage>/agreement.csv", views.agreement_csv,
         name="agreement_csv"),
]
