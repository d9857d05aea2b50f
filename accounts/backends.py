from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class AccountBackend(ModelBackend):
    """Django's backend, refusing also an issued or reset one-time password that has expired.

    The login form then shows its usual message, the same as for a wrong password or an unknown username. A
    session opened with such a password before it expired ends too: ``get_user`` asks the same question.
    """

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not getattr(user, "one_time_password_expired", False)

    def get_user(self, user_id):
        # Every page's layout names the account's office or institution, and many pages need its region (the
        # current exam year): read them with the account, in one query.
        try:
            user = (
                get_user_model()
                ._default_manager.select_related("office__region", "institution__region")
                .get(pk=user_id)
            )
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


def lockout_username(request, credentials=None):
    """The username django-axes counts failed logins under: as typed, cut to the longest username an account can
    have. Django's login form does not limit its length, and axes' table holds 255 characters: a longer one made
    the failure's INSERT fail (a 500 instead of the login page's message)."""
    source = credentials or getattr(request, "data", request.POST)
    username = source.get("username")
    if not isinstance(username, str):
        return username
    return username[: get_user_model()._meta.get_field("username").max_length]
