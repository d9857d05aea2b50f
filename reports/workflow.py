"""The roster filing state machine: every allowed transition in one table, with who may take it."""

from reports.models import Roster

S = Roster.Status

#: (from status, action) -> to status. Anything not listed is refused.
TRANSITIONS = {
    (S.FINALISED, "cancel"): S.CANCELLED,
    (S.FINALISED, "submit"): S.SUBMITTED,
    (S.SUBMITTED, "accept"): S.ACCEPTED,
    (S.SUBMITTED, "return"): S.RETURNED,
}
INSTITUTION_ACTIONS = {"cancel", "submit"}
OFFICE_ACTIONS = {"accept", "return"}


class TransitionRefused(Exception):
    pass


def next_status(status: str, action: str) -> str:
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise TransitionRefused(f"{action} is not allowed from {status}") from None


def allowed_actions(status: str) -> set[str]:
    return {action for (source, action) in TRANSITIONS if source == status}
