"""Server-rendered SVG charts: readable without JavaScript, titled and described for screen
readers, and always shown next to a table with the same numbers."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from blendkit.courses import AttendancePoint, FunnelStep
from blendkit.progression import MilestoneCount

_INK = "#1b1b1f"
_MUTED = "#55555f"
_COLOURS = {"completed": "#1a6b3c", "open": "#1f5fa8", "overdue": "#a3361b", "locked": "#5c5c66"}


def _svg(width: int, height: int, title: str, desc: str, *, body: str, chart_id: str) -> Markup:
    # Every text that reaches ``body`` went through html.escape; numbers are formatted here.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'class="chart" id="{chart_id}">'
        f'<title id="{chart_id}-t">{escape(title)}</title>'
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>{body}</svg>'
    )


Segment = tuple[int, str, str]
"""One part of a bar: the count, the words for it, its colour."""


def _stacked_bars(
    rows: Sequence[tuple[str, Sequence[Segment]]], total: int, legend: Sequence[tuple[str, str]]
) -> tuple[int, int, str]:
    """Horizontal stacked bars, one per ``(title, segments)`` row, each segment titled and
    counted in text, and a legend naming every colour: the width, height and SVG body."""
    row, left, width = 34, 190, 620
    height = 40 + row * max(len(rows), 1) + 30
    parts = []
    for index, (title, segments) in enumerate(rows):
        y = 30 + index * row
        label = title if len(title) <= 24 else title[:23] + "…"
        parts.append(
            f'<text x="{left - 8}" y="{y + 17}" text-anchor="end" font-size="13" '
            f'fill="{_INK}">{escape(label)}</text>'
        )
        x = float(left)
        for count, words, colour in segments:
            if not count:
                continue
            w = (width - left - 10) * count / total
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="24" fill="{colour}">'
                f"<title>{escape(title)}: {count} {words}</title></rect>"
            )
            if w > 18:
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + 17}" text-anchor="middle" font-size="12" '
                    f'fill="#ffffff">{count}</text>'
                )
            x += w
    legend_y = height - 14
    for offset, (words, colour) in enumerate(legend):
        lx = left + offset * 110
        parts.append(f'<rect x="{lx}" y="{legend_y - 10}" width="12" height="12" fill="{colour}"/>')
        parts.append(
            f'<text x="{lx + 16}" y="{legend_y}" font-size="12" fill="{_INK}">{words}</text>'
        )
    return width, height, "".join(parts)


_FUNNEL_KEYS = ("completed", "open", "overdue", "locked")


def funnel_svg(steps: Sequence[FunnelStep]) -> Markup:
    """Horizontal stacked bars per item: completed, open, overdue, locked learners."""
    total = max((s.learners for s in steps), default=0) or 1
    rows = [
        (s.title, [(getattr(s, key), key, _COLOURS[key]) for key in _FUNNEL_KEYS]) for s in steps
    ]
    width, height, body = _stacked_bars(rows, total, [(k, _COLOURS[k]) for k in _FUNNEL_KEYS])
    done = ", ".join(f"{s.title}: {s.completed} of {s.learners} completed" for s in steps)
    return _svg(
        width, height, "Progression funnel", done or "No learners yet.",
        body=body, chart_id="funnel",
    )  # fmt: skip


_MILESTONE_KEYS = (
    ("done", "done", "#1a6b3c"),
    ("on_track", "on track", "#1f5fa8"),
    ("behind", "behind", "#7a4b00"),
    ("missed", "missed", "#a3361b"),
)


def milestones_svg(rows: Sequence[MilestoneCount]) -> Markup:
    """Horizontal stacked bars per milestone: learners done, on track, behind, missed; each
    segment carries its count as text, and the legend names every colour."""
    total = max((r.learners for r in rows), default=0) or 1
    bars = [
        (
            r.title,
            [(r.counts.get(key, 0), words, colour) for key, words, colour in _MILESTONE_KEYS],  # type: ignore[call-overload]
        )
        for r in rows
    ]
    legend = [(words, colour) for _key, words, colour in _MILESTONE_KEYS]
    width, height, body = _stacked_bars(bars, total, legend)
    desc = "; ".join(
        f"{r.title}: " + ", ".join(f"{r.counts.get(k, 0)} {w}" for k, w, _ in _MILESTONE_KEYS)  # type: ignore[call-overload]
        for r in rows
    )
    return _svg(
        width, height, "Milestones", desc or "No milestones yet.",
        body=body, chart_id="milestones",
    )  # fmt: skip


def attendance_svg(points: Sequence[AttendancePoint], zone: str) -> Markup:
    """Attendance per session over time: bars of learners present, a line of average percent."""
    from zoneinfo import ZoneInfo

    width, height, left, bottom, top = 640, 260, 48, 50, 20
    plot_h = height - bottom - top
    if not points:
        body = (
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="{_MUTED}">'
            "No session attendance imported yet.</text>"
        )
        return _svg(
            width, height, "Attendance over time", "No data yet.", body=body, chart_id="attendance"
        )
    most = max(p.enrolled for p in points) or 1
    step = (width - left - 20) / len(points)
    parts = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" '
        f'stroke="{_MUTED}"/>',
        f'<text x="12" y="{top + 10}" font-size="11" fill="{_MUTED}">{most}</text>',
        f'<text x="12" y="{top + plot_h}" font-size="11" fill="{_MUTED}">0</text>',
    ]
    line = []
    for index, point in enumerate(points):
        x = left + index * step + step * 0.2
        bar_w = step * 0.6
        h = plot_h * point.present / most
        day = point.session.start_utc.astimezone(ZoneInfo(zone)).strftime("%d %b")
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
            f'fill="{_COLOURS["open"]}"><title>{escape(point.session.title)} ({day}): '
            f"{point.present} of {point.enrolled} present</title></rect>"
        )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
            f'font-size="12" fill="{_INK}">{escape(day)}</text>'
        )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h - h - 4:.1f}" text-anchor="middle" '
            f'font-size="12" fill="{_INK}">{point.present}</text>'
        )
        line.append(f"{x + bar_w / 2:.1f},{top + plot_h * (1 - point.average_percent / 100):.1f}")
    parts.append(
        f'<polyline points="{" ".join(line)}" fill="none" stroke="{_COLOURS["overdue"]}" '
        'stroke-width="2"/>'
    )
    parts.append(
        f'<text x="{left}" y="{height - 10}" font-size="12" fill="{_INK}">Bars: learners present. '
        "Line: average share of the session attended.</text>"
    )
    desc = "; ".join(
        f"{p.session.title}: {p.present} of {p.enrolled} present, average {p.average_percent:g}%"
        for p in points
    )
    return _svg(
        width, height, "Attendance over time", desc, body="".join(parts), chart_id="attendance"
    )
