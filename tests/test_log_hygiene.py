"""Nothing the whole test suite logged holds a full resident ID number, a password or a session key.

tests/log_capture_plugin.py captures every log line of the session (DEBUG included) and what was issued; this
test runs after all the others.
"""

import re

from tests import log_capture_plugin as captured
from tests.world import PASSWORD

# An 18-character resident ID number: address code, a real-looking birth date, sequence and check character.
RESIDENT_ID = re.compile(
    r"(?<![0-9A-Za-z])[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]"
    r"(?![0-9A-Za-z])",
    re.ASCII,
)
KNOWN_PASSWORDS = {PASSWORD, "Lotus-Yellow-Crane-77", "Hubei-Demo-2026", "Root-Password-2026"}


def test_the_log_of_the_whole_suite_holds_no_id_number_password_or_session_key():
    text = "\n".join(captured.CAPTURED)
    assert not RESIDENT_ID.findall(text), RESIDENT_ID.findall(text)[:5]
    leaked = [secret for secret in KNOWN_PASSWORDS | captured.ISSUED_SECRETS if secret and secret in text]
    assert not leaked
    keys = [key for key in captured.SESSION_KEYS if key and key in text]
    assert not keys


def test_the_capture_works():
    # The capture runs for the whole session; without it the test above would pass on an empty log.
    import logging

    logging.getLogger("hbwsrc.hygiene").debug("probe 110105********002X")
    assert any("probe 110105********002X" in line for line in captured.CAPTURED)
    logging.getLogger("hbwsrc.hygiene").warning("leak 11010519491231002X")
    assert "leak 110105********002X" in captured.CAPTURED[-1]  # the console's redaction applies to the capture
