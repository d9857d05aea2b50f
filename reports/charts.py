"""Small bar charts drawn on the server as inline SVG: no script and no network, since offices often work on closed
networks. Text is escaped (``escape``); every other value is a number formatted here. Every bar carries a <title>,
which browsers show on hover and screen readers read.
"""

from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

#: (attribute of a dashboard row, colour, label) in the order the segments are stacked.
FILING_SEGMENTS = (
    ("accepted", "#2e7d32", lambda: _("Filed")),
    ("submitted", "#1d5fa8", lambda: _("Submitted")),
    ("finalised", "#f0b429", lambda: _("Not submitted")),
    ("returned", "#b42318", lambda: _("Returned")),
    ("not_started", "#d5dbe1", lambda: _("Not started")),
)
WIDTH = 760
LABEL_WIDTH = 170
COUNT_WIDTH = 90
ROW_HEIGHT = 22


def _svg(label: str, height: int, parts: list[str]) -> str:
    return mark_safe(  # every part is built below from numbers and escaped text
        f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>'
    )


def _text_width(text: str) -> int:
    return sum(12 if ord(char) > 0x2E7F else 7 for char in text)  # CJK characters are about twice as wide


def _legend(y: int) -> list[str]:
    parts, x = [], LABEL_WIDTH
    for _name, colour, label in FILING_SEGMENTS:
        text = escape(label())
        parts.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="{y + 10}" font-size="12">{text}</text>')
        x += 30 + _text_width(label())
    return parts


def filing_progress(rows) -> str:
    """One stacked bar per row: its institutions by the state of their current roster, filed first."""
    rows = [row for row in rows if row.institutions]
    if not rows:
        return ""
    labels = {name: escape(label()) for name, _colour, label in FILING_SEGMENTS}
    bar_width = WIDTH - LABEL_WIDTH - COUNT_WIDTH
    parts = []
    for index, row in enumerate(rows):
        y = index * ROW_HEIGHT
        name = str(row.node)
        short = escape(name if len(name) <= 12 else name[:11] + "…")
        parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" font-size="12" text-anchor="end">{short}</text>')
        x = float(LABEL_WIDTH)
        for segment, colour, _label in FILING_SEGMENTS:
            count = getattr(row, segment)
            if not count:
                continue
            width = bar_width * count / row.institutions
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{width:.1f}" height="{ROW_HEIGHT - 6}" fill="{colour}">'
                f"<title>{escape(name)}: {labels[segment]} {count}</title></rect>"
            )
            x += width
        parts.append(
            f'<text x="{WIDTH - COUNT_WIDTH + 6}" y="{y + 15}" font-size="12">{row.filed} / {row.institutions}</text>'
        )
    height = ROW_HEIGHT * len(rows) + 30
    return _svg(_("Filing progress"), height, [*parts, *_legend(height - 20)])


def daily_entries(days) -> str:
    """One bar per day: records entered that day."""
    if not days:
        return ""
    height, top, bottom = 170, 18, 22
    plot = height - top - bottom
    peak = max(count for _day, count in days) or 1
    step = (WIDTH - 40) / len(days)
    parts = [
        f'<text x="0" y="12" font-size="12">{peak}</text>',
        f'<line x1="36" y1="{top + plot}" x2="{WIDTH}" y2="{top + plot}" stroke="#d5dbe1"/>',
    ]
    for index, (day, count) in enumerate(days):
        bar = plot * count / peak
        parts.append(
            f'<rect x="{40 + index * step:.1f}" y="{top + plot - bar:.1f}" width="{max(step - 1, 1):.1f}" '
            f'height="{bar:.1f}" fill="#1d5fa8"><title>{day.isoformat()}: {count}</title></rect>'
        )
    first, last = (escape(date_format(days[i][0], "SHORT_DATE_FORMAT")) for i in (0, -1))
    parts.append(f'<text x="40" y="{height - 4}" font-size="12">{first}</text>')
    parts.append(f'<text x="{WIDTH}" y="{height - 4}" font-size="12" text-anchor="end">{last}</text>')
    return _svg(_("Records entered per day"), height, parts)
