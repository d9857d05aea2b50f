"""The page a user sees when the server fails: a generic message and an incident id, never a traceback.

The incident id is logged with the exception, so a user quoting it leads the operator to the right log entry.
"""

import logging
import uuid

from django.http import HttpResponseServerError
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

logger = logging.getLogger("hbwsrc.errors")


def new_incident_id() -> str:
    return uuid.uuid4().hex[:12]


@requires_csrf_token
def server_error(request):
    incident_id = new_incident_id()
    logger.error("Incident %s: unhandled exception on %s %s", incident_id, request.method, request.path, exc_info=True)
    try:
        # No request context: the page must render even when the database is what failed.
        html = loader.render_to_string("500.html", {"incident_id": incident_id})
    except Exception:  # the template itself failing must not hide the incident id
        logger.exception("Incident %s: the error page failed too", incident_id)
        html = f"<!doctype html><title>Server error</title><p>Server error. Incident {incident_id}.</p>"
    return HttpResponseServerError(html)
