from django.urls import path

from reports import audit_views, dashboard_views, lookup, verification, views

app_name = "reports"
urlpatterns = [
    path("rosters/", views.roster_home, name="roster_home"),
    path("rosters/finalise/", views.roster_finalise, name="roster_finalise"),
    path("rosters/filings/", views.filing_list, name="filing_list"),
    path("rosters/<uuid:public_id>/", views.roster_detail, name="roster_detail"),
    path("rosters/<uuid:public_id>/pdf/", views.roster_pdf, name="roster_pdf"),
    path("rosters/<uuid:public_id>/scan/", views.roster_scan, name="roster_scan"),
    path("rosters/<uuid:public_id>/status/", views.roster_status, name="roster_status"),
    path("rosters/<uuid:public_id>/<str:action>/", views.roster_transition, name="roster_transition"),
    path("filings/<uuid:institution_id>/reopen/", views.filing_reopen, name="filing_reopen"),
    path("verify/", verification.verify, name="verify"),
    path("verify/<str:code>/", verification.verify, name="verify_code"),
    path("lookup/", lookup.lookup, name="lookup"),
    path("dashboard/", dashboard_views.dashboard_view, name="dashboard"),
    path("dashboard/<uuid:public_id>/", dashboard_views.dashboard_view, name="dashboard_office"),
    path("dashboard/<uuid:public_id>/not-submitted/", dashboard_views.not_submitted_view, name="not_submitted"),
    path("audit/", audit_views.audit_events, name="audit_events"),
    path("audit/changes/", audit_views.data_changes, name="audit_changes"),
]
