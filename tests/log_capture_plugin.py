"""Keeps every log line the whole test session writes, for tests/test_log_hygiene.py (which runs last).

Loaded with ``-p tests.log_capture_plugin`` (pyproject.toml). During the session the root logger lets DEBUG
through to a capturing handler that applies the console handler's filters, so the test sees what production
would write. Also remembered: every session key made, and every one-time password and recovery code issued.

Left out: ``django.db.backends``, which logs SQL with its parameters only when DEBUG is True or a test forces the
debug cursor (assertNumQueries); production runs with DEBUG=False (tests/test_production.py).
"""

import logging

import pytest

CAPTURED: list[str] = []
SESSION_KEYS: set[str] = set()
ISSUED_SECRETS: set[str] = set()
HYGIENE_FILE = "test_log_hygiene.py"


class _CaptureHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("django.db.backends"):
            return
        try:
            CAPTURED.append(self.format(record))
        except Exception:  # a record that cannot be formatted is still kept as raw text
            CAPTURED.append(f"{record.msg!r} {record.args!r}")


def _remember(function, store):
    def wrapper(*args, **kwargs):
        value = function(*args, **kwargs)
        store.add(str(value))
        return value

    return wrapper


@pytest.fixture(scope="session", autouse=True)
def capture_every_log_line():
    from django.contrib.sessions.models import Session
    from django.db.models.signals import post_save
    from django_otp.plugins.otp_static.models import StaticToken

    from accounts import actions

    root = logging.getLogger()
    handler = _CaptureHandler(level=logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    for existing in root.handlers:
        for log_filter in existing.filters:
            handler.addFilter(log_filter)
    levels = {existing: existing.level for existing in root.handlers}
    for existing in root.handlers:
        existing.setLevel(max(existing.level, root.level))  # the console stays as quiet as configured
    old_level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    # Loggers that do not pass their records up to the root (e.g. django.server) get the handler too.
    isolated = [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    for logger in isolated:
        logger.addHandler(handler)

    def remember_session(sender, instance, **kwargs):
        SESSION_KEYS.add(instance.session_key)

    post_save.connect(remember_session, sender=Session, weak=False, dispatch_uid="log_capture_sessions")
    original_password = actions.generate_one_time_password
    original_token = StaticToken.random_token
    actions.generate_one_time_password = _remember(original_password, ISSUED_SECRETS)
    StaticToken.random_token = staticmethod(_remember(original_token, ISSUED_SECRETS))
    yield
    StaticToken.random_token = staticmethod(original_token)
    actions.generate_one_time_password = original_password
    post_save.disconnect(sender=Session, dispatch_uid="log_capture_sessions")
    root.removeHandler(handler)
    for logger in isolated:
        logger.removeHandler(handler)
    root.setLevel(old_level)
    for existing, level in levels.items():
        existing.setLevel(level)


def pytest_collection_modifyitems(session, config, items):
    """The hygiene test reads what every other test logged: it runs last."""
    last = [item for item in items if HYGIENE_FILE in item.nodeid]
    items[:] = [item for item in items if HYGIENE_FILE not in item.nodeid] + last
