from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("sessions/", views.session_list, name="sessions"),
    path("sessions/end-others/", views.session_end_others, name="sessions_end_others"),
    path("sessions/<uuid:public_id>/end/", views.session_end, name="session_end"),
    path("two-factor/", views.two_factor_manage, name="two_factor"),
    path("two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("two-factor/verify/", views.two_factor_verify, name="two_factor_verify"),
    path("two-factor/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("two-factor/disable/", views.two_factor_disable, name="two_factor_disable"),
    path("", views.account_list, name="list"),
    path("<uuid:public_id>/", views.account_detail, name="detail"),
    path("<uuid:public_id>/disable/", views.account_disable, name="disable"),
    path("<uuid:public_id>/enable/", views.account_enable, name="enable"),
    path("<uuid:public_id>/reset-password/", views.account_reset_password, name="reset_password"),
    path("<uuid:public_id>/unlock/", views.account_unlock, name="unlock"),
    path("<uuid:public_id>/reset-two-factor/", views.account_reset_two_factor, name="reset_two_factor"),
    path("issue/office/<uuid:public_id>/", views.issue_account, {"kind": "office"}, name="issue_office"),
    path(
        "issue/institution/<uuid:public_id>/",
        views.issue_account,
        {"kind": "institution"},
        name="issue_institution",
    ),
]
