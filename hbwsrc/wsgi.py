import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hbwsrc.settings")
application = get_wsgi_application()


def warm_up() -> None:
    """Load what every process would otherwise load on its first request: the URLconf with every view module it
    imports, the URL resolver's index, and the translation catalogs. gunicorn's master (preload_app) does it once,
    and each worker forked from it, recycled every few thousand requests, answers its first request as fast as its
    next ones. Nothing here opens a database connection, which a forked worker must not share."""
    from django.conf import settings
    from django.urls import reverse
    from django.utils import translation

    reverse("healthz")
    for code, _name in settings.LANGUAGES:
        translation.activate(code)
    translation.deactivate()


warm_up()
