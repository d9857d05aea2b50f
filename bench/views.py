"""The benchmark's yardstick: a bare Django view rendering a 50-row template, with no database query."""

import datetime

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

ROWS = [
    {
        "name": f"学员{n:02d}",
        "id_number": f"420106********{n:04d}",
        "institution": "武汉市武昌医院",
        "start": datetime.date(2025, 9, 1),
        "end": datetime.date(2026, 8, 31),
        "result": "合格",
    }
    for n in range(1, 51)
]


def baseline(request):
    return render(request, "bench/baseline.html", {"rows": ROWS})


@login_required
def baseline_logged_in(request):
    """The same 50 rows for a logged-in account, inside the site's layout: what every real page pays before its
    own queries (session, account, session registry, grants in the menu)."""
    return render(request, "bench/baseline_layout.html", {"rows": ROWS})
