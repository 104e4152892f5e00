from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("", include("references.urls")),
    path("", include("screening.urls")),
    path("", include("extraction.urls")),
    path("", include("frameworks.urls")),
    path("", include("reports.urls")),
    path("", include("ranking.urls")),
    path("", include("projects.urls")),
]
