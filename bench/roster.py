"""Benchmark: rendering the roster PDF (reports.pdf) against WeasyPrint's plain auto-layout table.

    cd /work/main && .venv/bin/python bench/roster.py [--sizes 50,500,2000] [--repeat 1] [--parallel 2]

No database: the roster and its rows are unsaved model instances built in memory. Each render runs in a fresh
child process (multiprocessing "spawn", one process per render), so peak memory is that render's own and nothing
is cached between runs. See bench/README.md.
"""

import argparse
import datetime
import functools
import os
import random
import resource
import sys
import time
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FONT = '"Noto Sans CJK SC"'
HEADERS = ("序号", "姓名", "性别", "证件号码", "报考类别", "试用科室", "试用起止日期", "考核结果")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏建国文博思雨欣怡浩然子轩梓涵"
CATEGORIES = (
    "临床执业医师",
    "临床执业医师",
    "临床执业医师",
    "口腔执业医师",
    "公共卫生执业医师",
    "中医执业医师（具有规定学历）",
    "中西医结合执业医师",
    "临床执业助理医师",
)
DEPARTMENTS = "内科 外科 儿科 妇产科 急诊科 口腔科 中医科 麻醉科 影像科 检验科 全科医学科".split()


def setup_django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hbwsrc.settings")
    import contextlib
    import io

    import django

    with contextlib.redirect_stdout(io.StringIO()):  # django-axes greets on stdout
        django.setup()


# --- data --------------------------------------------------------------------------------------------------------


def build_roster(size: int, seed: int = 2027):
    """An unsaved roster of ``size`` persons with realistic, varied rows (some departments wrap)."""
    from django.utils import timezone

    from hbwsrc import identifiers
    from reports.models import Roster, RosterEntry, new_verification_code
    from trainees.models import ExamYear

    rng = random.Random(seed)
    roster = Roster(
        version=1,
        institution_name="武汉市武昌医院",
        institution_uscc="12420106000000019L",
        institution_licence="PDY00001842010617A1001",
        institution_head="王院长",
        office_name="武昌区",
        exam_year=ExamYear(year=2027),
        finalised_at=timezone.now(),
        verification_code=new_verification_code(),
        row_count=size,
    )
    entries = []
    for position in range(1, size + 1):
        birth = datetime.date(1990, 1, 1) + datetime.timedelta(days=rng.randrange(3650))
        sex = rng.choice("MF")
        sequence = rng.randrange(500) * 2 + (1 if sex == "M" else 0)
        first17 = f"420106{birth:%Y%m%d}{sequence:03d}"
        start = datetime.date(2025, 7, 1) - datetime.timedelta(days=rng.randrange(400))
        fresh = rng.random() < 0.1
        passed = not fresh or rng.random() < 0.5
        entries.append(
            RosterEntry(
                position=position,
                name=rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2)))),
                sex=sex,
                id_type="resident",
                id_number=first17 + identifiers.resident_id_check_character(first17),
                category=rng.choice(CATEGORIES),
                departments="、".join(rng.sample(DEPARTMENTS, rng.randint(2, 6))),
                start_date=start,
                end_date=start + datetime.timedelta(days=364) if passed else None,
                result="passed" if passed else "in_progress",
                is_fresh_graduate=fresh,
            )
        )
    return roster, entries


def plain_html(roster, entries) -> str:
    """The baseline: the same 8 columns and rows in an auto-layout table, same font and size, nothing else."""
    from django.utils.html import escape

    def row(e):
        period = f"{e.start_date:%Y.%m.%d}–" + (f"{e.end_date:%Y.%m.%d}" if e.end_date else "至今")
        result = "合格" if e.result == "passed" else "考核中" + ("（应届）" if e.is_fresh_graduate else "")
        cells = (
            e.position,
            e.name,
            "男" if e.sex == "M" else "女",
            e.id_number,
            e.category,
            e.departments,
            period,
            result,
        )
        return "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>"

    return (
        '<!doctype html><html lang="zh-hans"><head><meta charset="utf-8"><style>'
        f"@page {{ size: A4; margin: 22mm 12mm 20mm 12mm }} body {{ font: 9pt {FONT}; margin: 0 }}"
        "table { border-collapse: collapse } th, td { border: 0.5pt solid #000 }"
        "</style></head><body><table><thead><tr>"
        + "".join(f"<th>{h}</th>" for h in HEADERS)
        + "</tr></thead><tbody>"
        + "".join(row(e) for e in entries)
        + "</tbody></table></body></html>"
    )


# --- stretch experiment: page groups rendered in parallel, then joined ------------------------------------------
#
# WeasyPrint lays a document out in one thread. To use several processes the roster is paginated up front, each
# process renders a contiguous group of pages (its first page number and the total are written into its @page
# rules), and the groups' PDFs are joined into one file. The pagination is predicted from the font's advance widths
# and the template's box sizes (measured once on a one-row roster); each group's page count is then checked, and
# any mismatch falls back to the ordinary serial render, so the result is never wrong, only sometimes not faster.

FONT_FILE = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
COLUMNS = (5, 9, 5, 19, 15, 18, 21, 8)  # percent, as in the template's <colgroup>
NO_BREAK_BEFORE = set("、，。；：）》」–")
NO_BREAK_AFTER = set("（《「")
_metrics = {}


def _advances():
    if "advance" not in _metrics:
        from fontTools.ttLib import TTCollection

        face = next(
            f for f in TTCollection(FONT_FILE, lazy=True).fonts if f["name"].getDebugName(1) == "Noto Sans CJK SC"
        )
        cmap, hmtx, em = face.getBestCmap(), face["hmtx"], face["head"].unitsPerEm
        _metrics["advance"] = lambda ch: hmtx[cmap[ord(ch)]][0] / em if ord(ch) in cmap else 1.0
    return _metrics["advance"]


@functools.lru_cache(maxsize=4096)
def _lines(text: str, width: float, font_px: float) -> int:
    """Greedy line count of ``text`` in ``width`` px: CJK breaks anywhere (with the usual no-break punctuation),
    runs of ASCII letters, digits and dots are words; a word too long for a line is broken anywhere."""
    advance = _advances()
    tokens, word = [], ""
    for ch in text:
        if ch.isascii() and (ch.isalnum() or ch == "."):
            word += ch
            continue
        if word:
            tokens.append(word)
            word = ""
        if tokens and (ch in NO_BREAK_BEFORE or tokens[-1][-1] in NO_BREAK_AFTER):
            tokens[-1] += ch
        else:
            tokens.append(ch)
    if word:
        if tokens and tokens[-1][-1] in NO_BREAK_AFTER:
            tokens[-1] += word
        else:
            tokens.append(word)
    lines, used = 1, 0.0
    for token in tokens:
        size = sum(advance(ch) for ch in token) * font_px
        if used + size <= width + 0.01:
            used += size
        elif size <= width:
            lines, used = lines + 1, size
        else:  # overflow-wrap: anywhere
            for ch in token:
                size = advance(ch) * font_px
                if used + size > width + 0.01:
                    lines, used = lines + 1, 0.0
                used += size
    return lines


def _cells(e) -> tuple:
    period = f"{e.start_date:%Y.%m.%d}–" + (f"{e.end_date:%Y.%m.%d}" if e.end_date else "至今")
    result = "合格" if e.result == "passed" else "考核中" + ("（应届）" if e.is_fresh_graduate else "")
    return (
        str(e.position),
        e.name,
        "男" if e.sex == "M" else "女",
        e.id_number,
        e.category,
        e.departments,
        period,
        result,
    )


def calibrate(roster, entries) -> dict:
    """Box sizes of the real template (CSS px), measured on a one-row roster: page 1's table top, the heights of
    the header row, a one-line row and one more line, the tail (total, signature, seal) and the page's bottom."""
    from weasyprint import HTML

    from reports import pdf

    sample = [entries[0]]
    document = HTML(string=pdf.roster_html(roster, sample)).render()
    page = document.pages[0]._page_box
    boxes = {}

    def walk(box):
        element = getattr(box, "element", None)
        if element is not None:
            key = (box.element_tag, element.get("class"))
            boxes.setdefault(key, box)
            if box.element_tag == "tr":
                boxes.setdefault("rows", []).append(box)
        for child in getattr(box, "children", []):
            walk(child)

    walk(page)
    table = boxes[("table", "rows")]
    header_row, first_row = [r for r in boxes["rows"] if r.position_y >= table.position_y][:2]
    sign = boxes[("div", "sign")]
    cell_font_px = 8.5 * 4 / 3
    return {
        "content_top": page.content_box_y(),
        "content_bottom": page.content_box_y() + page.height,
        "table_top": table.position_y,
        "header_row": first_row.position_y - table.position_y,
        "row_base": header_row.margin_height() - 1.35 * cell_font_px,  # a one-line row without its text
        "line": 1.35 * cell_font_px,
        "tail": sign.position_y + sign.margin_height() - (first_row.position_y + first_row.margin_height()),
        "width": table.width,
        "font_px": cell_font_px,
        "padding": 2 * 96 / 25.4 + 0.5 * 4 / 3,
    }


def paginate(entries, m) -> list[list[int]]:
    """Row indexes on each page as WeasyPrint is expected to lay them out (the tail may need one more page)."""
    widths = [m["width"] * percent / 100 - m["padding"] for percent in COLUMNS]
    pages, current = [], []
    y = m["table_top"] + m["header_row"]
    for index, entry in enumerate(entries):
        lines = max(_lines(text, width, m["font_px"]) for text, width in zip(_cells(entry), widths, strict=True))
        height = m["row_base"] + lines * m["line"]
        if current and y + height > m["content_bottom"] - 1:
            pages.append(current)
            current, y = [], m["content_top"] + m["header_row"]
        current.append(index)
        y += height
    pages.append(current)
    tail_page = y + m["tail"] > m["content_bottom"] - 1
    return pages, tail_page


def _render_group(args):
    from weasyprint import HTML

    (source,) = args
    cpu = time.process_time()
    document = HTML(string=source).render()
    return document.write_pdf(), len(document.pages), time.process_time() - cpu


def render_parallel(roster, entries, processes: int, pool=None):
    """(PDF bytes, pages, how, CPU seconds of each group): the roster rendered as ``processes`` page groups in
    parallel and joined."""
    import io
    import re

    from pypdf import PdfReader, PdfWriter

    from reports import pdf

    html = pdf.roster_html(roster, entries)
    style = html[html.index("<style>") + 7 : html.index("</style>")]
    top = html[html.index("<h1>") : html.index('<table class="rows">')]
    table_head = html[html.index("<colgroup>") : html.index("<tbody>")]
    body = html[html.index("<tbody>") + 7 : html.index("</tbody>")]
    rows = re.findall(r"<tr>.*?</tr>", body, re.S)
    tail = html[html.index('<p class="total">') : html.index("</body>")]
    assert len(rows) == len(entries)

    pages, tail_page = paginate(entries, calibrate(roster, entries))
    total = len(pages) + tail_page
    bounds = [round(i * len(pages) / processes) for i in range(processes + 1)]
    groups = [(bounds[i], bounds[i + 1]) for i in range(processes) if bounds[i] < bounds[i + 1]]
    sources, expected = [], []
    for number, (first, last) in enumerate(groups):
        is_last = number == len(groups) - 1
        # Literal total, and this group's first page number.
        group_style = style.replace("counter(pages)", f'"{total}"')
        group_style += f"@page :first {{ counter-reset: page {first + 1} }}"
        parts = [f'<!doctype html><html lang="zh-hans"><head><meta charset="utf-8"><style>{group_style}</style>']
        parts.append("</head><body>")
        if number == 0:
            parts.append(top)
        for offset, page in enumerate(pages[first:last]):
            brk = ' style="break-before: page"' if offset else ""
            page_rows = "".join(rows[i] for i in page)
            parts.append(f'<table class="rows"{brk}>{table_head}<tbody>{page_rows}</tbody></table>')
        if is_last:
            parts.append(tail)
        parts.append("</body></html>")
        sources.append(("".join(parts),))
        expected.append(last - first + (tail_page if is_last else 0))

    results = pool.map(_render_group, sources) if pool else list(map(_render_group, sources))
    worker_cpu = [cpu for _data, _pages, cpu in results]
    if [pages for _data, pages, _cpu in results] != expected:
        data, pages = _serial(roster, entries)
        return data, pages, "fallback", worker_cpu
    writer = PdfWriter()
    for data, _pages, _cpu in results:
        writer.append(PdfReader(io.BytesIO(data)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), total, f"{len(groups)} groups", worker_cpu


def _serial(roster, entries):
    from weasyprint import HTML

    from reports import pdf

    document = HTML(string=pdf.roster_html(roster, entries)).render()
    return document.write_pdf(), len(document.pages)


# --- one measured render (runs in a child process) ---------------------------------------------------------------


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(job):
    """Render one roster in this (fresh) process and report time, pages, size and peak memory."""
    kind, size, template, processes = job
    setup_django()
    from weasyprint import HTML

    from reports import pdf

    roster, entries = build_roster(size)
    if template:  # measure another version of templates/reports/roster_pdf.html
        from django.template import engines

        compiled = engines["django"].from_string(Path(template).read_text())
        pdf.render_to_string = lambda _name, context: compiled.render(context)
    # Warm up fonts and the template engine on a one-row roster, so the numbers are about the table.
    warm_roster, warm_entries = build_roster(1)
    HTML(string=pdf.roster_html(warm_roster, warm_entries)).render().write_pdf()
    if kind == "groups":
        _advances()
    before = _peak_mib()

    note, worker_cpu = "", [0.0]
    started, cpu_started, own_started = time.perf_counter(), _cpu(), time.process_time()
    if kind == "real":
        # What reports.pdf.render_roster_pdf does, minus the query for the rows.
        document = HTML(string=pdf.roster_html(roster, entries)).render()
        data, pages = document.write_pdf(), len(document.pages)
    elif kind == "plain":
        document = HTML(string=plain_html(roster, entries)).render()
        data, pages = document.write_pdf(), len(document.pages)
    else:
        with get_context("fork").Pool(processes) as pool:
            data, pages, note, worker_cpu = render_parallel(roster, entries, processes, pool)
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu_started
    # The critical path in CPU seconds: this process's own work plus the slowest group. On an idle machine with
    # enough cores the wall time comes close to it; on a busy one it says what the wall time would be.
    critical = time.process_time() - own_started + max(worker_cpu)
    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "kind": kind,
        "size": size,
        "seconds": seconds,
        "cpu": cpu,
        "critical": critical,
        "pages": pages,
        "bytes": len(data),
        "peak_mib": max(_peak_mib(), children_peak),
        "base_mib": before,
        "note": note,
    }


def check(size: int, processes: int) -> None:
    """Render ``size`` persons serially and as page groups; the text of every page must be the same."""
    import io
    import re

    from pypdf import PdfReader

    setup_django()
    roster, entries = build_roster(size)
    with get_context("fork").Pool(processes) as pool:
        grouped, pages, note, _cpu = render_parallel(roster, entries, processes, pool)
    serial, serial_pages = _serial(roster, entries)

    def texts(data):
        return [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages]

    same = texts(grouped) == texts(serial)
    numbered = all(re.search(rf"第 ?{n} ?页 ?共 ?{pages} ?页", text) for n, text in enumerate(texts(grouped), start=1))
    print(f"{size:>7} persons: {note}, {pages} pages (serial {serial_pages}); same text: {same}; numbered: {numbered}")


def _child(job, connection):
    connection.send(measure(job))
    connection.close()


def run(job):
    """``measure(job)`` in a fresh spawned process (not a Pool worker: those may not start processes of their own,
    which the page-group experiment needs), so its peak memory is its own."""
    context = get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(job, sender))
    process.start()
    sender.close()
    result = receiver.recv()
    process.join()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="50,500,2000", help="comma-separated numbers of persons")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size and kind; the fastest is reported")
    parser.add_argument("--template", help="an alternative roster_pdf.html to measure instead of the real one")
    parser.add_argument("--parallel", type=int, default=2, help="processes for the page-group experiment (0: skip it)")
    parser.add_argument("--check", action="store_true", help="instead: do the page groups give the serial text?")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.check:
        for size in sizes:
            check(size, args.parallel or 2)
        return
    kinds = ["plain", "real"] + (["groups"] if args.parallel else [])

    print(
        f"WeasyPrint {__import__('weasyprint').__version__}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f}; best of {args.repeat}; every render in a fresh process"
    )
    print(
        f"{'persons':>7} {'kind':>6} {'wall s':>7} {'cpu s':>7} {'crit s':>7} {'pages':>5} {'PDF KiB':>7} "
        f"{'peak MiB':>8} {'+MiB':>5} {'wall/plain':>10} {'cpu/plain':>9} {'crit/plain':>10}  note"
    )
    for size in sizes:
        plain = None
        for kind in kinds:
            runs = [run((kind, size, args.template, args.parallel)) for _ in range(args.repeat)]
            best = dict(runs[0], **{key: min(r[key] for r in runs) for key in ("seconds", "cpu", "critical")})
            plain = plain or best
            note = best["note"] + (f" ({args.parallel} processes)" if kind == "groups" else "")
            print(
                f"{size:>7} {kind:>6} {best['seconds']:>7.2f} {best['cpu']:>7.2f} {best['critical']:>7.2f} "
                f"{best['pages']:>5} {best['bytes'] / 1024:>7.0f} {best['peak_mib']:>8.0f} "
                f"{best['peak_mib'] - best['base_mib']:>5.0f} {best['seconds'] / plain['seconds']:>10.2f} "
                f"{best['cpu'] / plain['cpu']:>9.2f} {best['critical'] / plain['critical']:>10.2f}  {note}",
                flush=True,
            )


if __name__ == "__main__":
    main()
