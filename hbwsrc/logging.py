"""One JSON object per log line on stdout, for log collectors in production; and a filter that keeps resident ID
numbers out of every log line, whatever an exception message or a library happens to print."""

import json
import logging
import re

# 18-character resident ID numbers (GB 11643), full-width digits included, standing alone.
_RESIDENT_ID = re.compile(
    r"(?<![0-9A-Za-z０-９])([1-9１-９][0-9０-９]{5})[0-9０-９]{8}([0-9０-９]{3}[0-9Xx０-９Ｘｘ])(?![0-9A-Za-z])"
)


def redact(text: str) -> str:
    """420106199803010012 -> 420106********0012, as trainees.models.mask_id_number shows it."""
    return _RESIDENT_ID.sub(lambda match: f"{match.group(1)}********{match.group(2)}", text)


class RedactFilter(logging.Filter):
    """Mask resident ID numbers in the message and in the traceback before any handler writes them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
