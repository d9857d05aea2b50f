"""The application's URLs plus the benchmark's bare baseline view (used only with bench.settings)."""

from django.urls import include, path

from bench.views import baseline, baseline_logged_in

urlpatterns = [
    path("bench/baseline/", baseline, name="bench_baseline"),
    path("bench/baseline-logged-in/", baseline_logged_in, name="bench_baseline_logged_in"),
    path("", include("hbwsrc.urls")),
]
