from django.urls import path

from trainees import views

app_name = "trainees"
urlpatterns = [
    path("", views.record_list, name="list"),
    path("new/", views.record_create, name="create"),
    path("conflicts/", views.conflict_list, name="conflicts"),
    path("exam-years/", views.exam_year_list, name="exam_years"),
    path("exam-years/new/", views.exam_year_edit, name="exam_year_create"),
    path("exam-years/<uuid:public_id>/", views.exam_year_edit, name="exam_year_edit"),
    path("<uuid:public_id>/", views.record_detail, name="detail"),
    path("<uuid:public_id>/edit/", views.record_edit, name="edit"),
    path("<uuid:public_id>/withdraw/", views.record_withdraw, name="withdraw"),
    path("<uuid:public_id>/history/", views.record_history, name="history"),
]
