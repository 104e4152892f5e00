from django.urls import path

from . import views

app_name = "ranking"

urlpatterns = [
    path("p/<slug:slug>/screening/<str:stage>/prioritised/", views.stage, name="stage"),
    path("p/<slug:slug>/screening/<str:stage>/prioritised/sample/", views.sample,
         name="sample"),
    path("p/<slug:slug>/screening/<str:stage>/prioritised/stop/", views.stop, name="stop"),
    path("p/<slug:slug>/screening/<str:stage>/prioritised/stop/<int:stop_id>/undo/",
         views.undo_stop, name="undo_stop"),
]
