from django.urls import path

from trainees import exports, import_views, views

app_name = "trainees"
urlpatterns = [
    path("", views.record_list, name="list"),
    path("new/", views.record_create, name="create"),
    path("conflicts/", views.conflict_list, name="conflicts"),
    path("exam-years/", views.exam_year_list, name="exam_years"),
    path("exam-years/new/", views.exam_year_edit, name="exam_year_create"),
    path("exam-years/<uuid:public_id>/", views.exam_year_edit, name="exam_year_edit"),
    path("import/", import_views.import_start, name="import"),
    path("import/template.xlsx", import_views.import_template, {"fmt": "xlsx"}, name="import_template_xlsx"),
    path("import/template.csv", import_views.import_template, {"fmt": "csv"}, name="import_template_csv"),
    path("import/<uuid:public_id>/", import_views.import_detail, name="import_detail"),
    path("import/<uuid:public_id>/report.csv", import_views.import_report, name="import_report"),
    path("export.xlsx", exports.export_records, {"fmt": "xlsx"}, name="export_xlsx"),
    path("export.csv", exports.export_records, {"fmt": "csv"}, name="export_csv"),
    path("<uuid:public_id>/", views.record_detail, name="detail"),
    path("<uuid:public_id>/edit/", views.record_edit, name="edit"),
    path("<uuid:public_id>/withdraw/", views.record_withdraw, name="withdraw"),
    path("<uuid:public_id>/history/", views.record_history, name="history"),
]
