"""For accounts no one above can manage in the platform (region-office accounts): a lost phone, reset by the
system administrator from the server, audited like a superior's reset."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import audit, sessions, two_factor
from accounts.models import AuditEvent, User


class Command(BaseCommand):
    help = "Remove an account's authenticator and recovery codes and end its sessions (audited)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="why, e.g. the ticket number of the identity check")

    def handle(self, username, reason, **options):
        account = User.objects.filter(username=username).first()
        if account is None:
            raise CommandError(f"No account {username!r}.")
        with transaction.atomic():
            removed = two_factor.delete_devices(account)
            sessions.end_all(account)
            audit.record(
                AuditEvent.Kind.TWO_FACTOR_RESET,
                target=account,
                actor_username="manage.py reset_two_factor",
                changes={"devices": removed, "reason": reason[:500]},
            )
        self.stdout.write(f"{removed} device(s) removed; {username} sets up a new authenticator at the next login.")
