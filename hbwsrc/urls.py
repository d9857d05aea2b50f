from django.urls import include, path

from hbwsrc.admin import site as admin_site
from hbwsrc.health import healthz
from institutions.views import home

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("records/", include("trainees.urls")),
    path("", include("reports.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin_site.urls),
    path("", include("institutions.urls")),
]

# A generic page with an incident id, the id logged with the traceback (hbwsrc/errors.py).
handler500 = "hbwsrc.errors.server_error"
