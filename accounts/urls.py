from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("", views.account_list, name="list"),
    path("<uuid:public_id>/", views.account_detail, name="detail"),
    path("<uuid:public_id>/disable/", views.account_disable, name="disable"),
    path("<uuid:public_id>/enable/", views.account_enable, name="enable"),
    path("<uuid:public_id>/reset-password/", views.account_reset_password, name="reset_password"),
    path("issue/office/<uuid:public_id>/", views.issue_account, {"kind": "office"}, name="issue_office"),
    path(
        "issue/institution/<uuid:public_id>/",
        views.issue_account,
        {"kind": "institution"},
        name="issue_institution",
    ),
]
