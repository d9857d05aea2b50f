from django.urls import path

from institutions import views

app_name = "institutions"
urlpatterns = [
    path("offices/", views.office_list, name="office_list"),
    path("offices/<uuid:public_id>/", views.office_detail, name="office_detail"),
    path("offices/<uuid:public_id>/edit/", views.office_edit, name="office_edit"),
    path("offices/<uuid:public_id>/new-office/", views.office_create, name="office_create"),
    path("offices/<uuid:public_id>/new-institution/", views.institution_create, name="institution_create"),
    path("institutions/", views.institution_list, name="institution_list"),
    path("institutions/<uuid:public_id>/", views.institution_detail, name="institution_detail"),
    path("institutions/<uuid:public_id>/edit/", views.institution_edit, name="institution_edit"),
    path("institutions/<uuid:public_id>/profile/", views.institution_profile, name="institution_profile"),
]
