from django.contrib import admin
from django.urls import include, path

from hbwsrc.health import healthz
from institutions.views import home

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("records/", include("trainees.urls")),
    path("", include("reports.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("institutions.urls")),
]
