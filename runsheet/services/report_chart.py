"""The report's timeline chart: each item's planned bar against its actual bars, as SVG.

Drawn on the server from the report (``services.report``), so that the page, its print and
the PDF show one picture. The SVG uses presentation attributes only (no ``style``, no
script), so it may sit inline in a page under a Content-Security-Policy that allows neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.sax.saxutils import escape, quoteattr

from . import shapes

WIDTH = 960
LABEL_WIDTH = 300
RIGHT_MARGIN = 16
AXIS_HEIGHT = 34
ROW_HEIGHT = 30
LEGEND_HEIGHT = 30
LABEL_CHARACTERS = 42
TICK_MINUTES = (1, 2, 5, 10, 15, 20, 30, 60, 120, 240)
MAX_TICKS = 12

PLANNED_FILL = "#9fb7d6"
ON_TIME_FILL = "#1f7a45"
OVER_FILL = "#c0501a"
GRID_STROKE = "#d5dbe4"
INK = "#14181f"
SOFT_INK = "#5b6473"


@dataclass(frozen=True)
class ChartWords:
    """The chart's words, in the page's language."""

    title: str
    planned: str
    actual: str
    over: str
    skipped: str


def timeline_svg(report: shapes.Report, words: ChartWords) -> str:
    """Return the SVG of the report's items: planned bars against actual bars, on one axis."""
    items = report["items"]
    zone_of = datetime.fromisoformat(report["ceremony"]["planned_start"]).tzinfo
    moments = []
    for item in items:
        moments += [_time(item["planned_start"]), _time(item["planned_end"])]
        for span in item["spans"]:
            moments.append(_time(span["started_at"]))
            moments.append(_time(span["ended_at"]) if span["ended_at"] else _until(span))
    first, last = min(moments), max(moments)
    if last - first < timedelta(minutes=1):
        last = first + timedelta(minutes=1)
    tick = _tick_minutes(last - first)
    first = _floor(first, tick)
    last = max(last, first + timedelta(minutes=tick))
    plot = WIDTH - LABEL_WIDTH - RIGHT_MARGIN
    scale = plot / (last - first).total_seconds()

    def x(moment: datetime) -> float:
        return round(LABEL_WIDTH + (moment - first).total_seconds() * scale, 1)

    height = AXIS_HEIGHT + ROW_HEIGHT * len(items) + LEGEND_HEIGHT
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'font-family="system-ui, Segoe UI, Roboto, Noto Sans, Arial, sans-serif" '
        f"aria-label={quoteattr(words.title)}>",
        f"<title>{escape(words.title)}</title>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
    ]
    moment = first
    while moment <= last:
        left = x(moment)
        label = moment.astimezone(zone_of).strftime("%H:%M")
        parts.append(
            f'<line x1="{left}" y1="{AXIS_HEIGHT - 6}" x2="{left}" '
            f'y2="{AXIS_HEIGHT + ROW_HEIGHT * len(items)}" stroke="{GRID_STROKE}"/>'
        )
        parts.append(
            f'<text x="{left}" y="{AXIS_HEIGHT - 12}" font-size="12" fill="{SOFT_INK}" '
            f'text-anchor="middle">{label}</text>'
        )
        moment += timedelta(minutes=tick)
    for row, item in enumerate(items):
        top = AXIS_HEIGHT + row * ROW_HEIGHT
        parts.append(_row(item, top, x, words))
    legend_top = AXIS_HEIGHT + ROW_HEIGHT * len(items) + 10
    parts.append(_legend(legend_top, words))
    parts.append("</svg>")
    return "".join(parts)


def _row(item: shapes.ReportItem, top: int, x, words: ChartWords) -> str:  # noqa: ANN001
    skipped = item["status"] == "skipped"
    mark = f" ({words.skipped})" if skipped else ""
    label = f"{item['position']}. {_shorten(item['title'], LABEL_CHARACTERS - len(mark))}{mark}"
    fill = SOFT_INK if skipped else INK
    parts = [
        f'<g class="report-chart-row" data-item={quoteattr(item["id"])}>',
        f'<text x="{LABEL_WIDTH - 8}" y="{top + 19}" font-size="12.5" fill="{fill}" '
        f'text-anchor="end">{escape(label)}<title>{escape(item["title"])}</title></text>',
    ]
    start, end = _time(item["planned_start"]), _time(item["planned_end"])
    parts.append(
        f'<rect class="bar-planned" x="{x(start)}" y="{top + 4}" '
        f'width="{max(1.0, round(x(end) - x(start), 1))}" height="9" rx="2" '
        f'fill="{PLANNED_FILL}"/>'
    )
    over = (item["over_under_seconds"] or 0) > 0
    for span in item["spans"]:
        span_start = _time(span["started_at"])
        span_end = _time(span["ended_at"]) if span["ended_at"] else _until(span)
        parts.append(
            f'<rect class="bar-actual" x="{x(span_start)}" y="{top + 15}" '
            f'width="{max(1.5, round(x(span_end) - x(span_start), 1))}" height="11" rx="2" '
            f'fill="{OVER_FILL if over else ON_TIME_FILL}"/>'
        )
    parts.append("</g>")
    return "".join(parts)


def _legend(top: int, words: ChartWords) -> str:
    entries = [(PLANNED_FILL, words.planned), (ON_TIME_FILL, words.actual), (OVER_FILL, words.over)]
    parts = ['<g class="report-chart-legend">']
    left = LABEL_WIDTH
    for fill, text in entries:
        parts.append(f'<rect x="{left}" y="{top}" width="18" height="10" rx="2" fill="{fill}"/>')
        parts.append(
            f'<text x="{left + 24}" y="{top + 10}" font-size="12.5" fill="{INK}">'
            f"{escape(text)}</text>"
        )
        left += 36 + 8 * len(text)
    parts.append("</g>")
    return "".join(parts)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _until(span: shapes.ReportSpan) -> datetime:
    """The end of a stretch still open: its start and the seconds it has lasted."""
    return _time(span["started_at"]) + timedelta(seconds=span["seconds"])


def _tick_minutes(length: timedelta) -> int:
    minutes = length.total_seconds() / 60
    return next((step for step in TICK_MINUTES if minutes / step <= MAX_TICKS), TICK_MINUTES[-1])


def _floor(moment: datetime, minutes: int) -> datetime:
    """Round down to a whole number of ``minutes`` past the hour (in the moment's zone)."""
    dropped = moment.minute % minutes if minutes < 60 else moment.minute
    return moment.replace(second=0, microsecond=0) - timedelta(minutes=dropped)


def _shorten(text: str, length: int = LABEL_CHARACTERS) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"
