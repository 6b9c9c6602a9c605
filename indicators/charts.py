"""Charts as inline SVG, drawn on the server: no script, no network, sharp in print.

Colours and sizes are SVG presentation attributes (not style attributes), so the
Content-Security-Policy needs no exception. Hidden (suppressed) values are drawn as an
empty outlined bar marked "x".
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

BAR = "#2f5597"
TARGET = "#c00000"
GRID = "#bfbfbf"


def _number(value: Decimal | int) -> str:
    value = Decimal(value)
    return f"{int(value):,}" if value == value.to_integral_value() else f"{value:,.1f}"


def column_chart(
    points: list[tuple[str, Decimal | int | None]], *, title: str, unit: str = ""
) -> SafeString:
    """Vertical bars (a monthly trend). None is a hidden value."""
    width, height, left, bottom, top = 640, 220, 48, 36, 24
    shown = [float(v) for _label, v in points if v is not None]
    # A scale of four steps with round labels: the peak rounded up to a multiple of 4 × 10^k.
    top_value = max([*shown, 1.0])
    unit_step = 10 ** max(len(str(int(top_value / 4))) - 1, 0)
    peak = float(-(-top_value // (4 * unit_step)) * 4 * unit_step)
    step = (width - left - 8) / max(len(points), 1)
    plot = height - bottom - top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="14" font-size="12">{escape(unit)}</text>',
    ]
    for k in range(5):
        y = top + plot - plot * k / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}" stroke="{GRID}" '
            f'stroke-width="0.5"/><text x="{left - 4}" y="{y + 4:.1f}" font-size="10" '
            f'text-anchor="end">{_number(Decimal(int(peak * k / 4)))}</text>'
        )
    for i, (label, value) in enumerate(points):
        x = left + i * step + step * 0.15
        bar_width = step * 0.7
        if value is None:
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot - 12:.1f}" width="{bar_width:.1f}" height="12" '
                f'fill="none" stroke="{BAR}"/><text x="{x + bar_width / 2:.1f}" '
                f'y="{top + plot - 16:.1f}" font-size="10" text-anchor="middle">x</text>'
            )
        else:
            bar = plot * float(value) / peak
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot - bar:.1f}" width="{bar_width:.1f}" '
                f'height="{bar:.1f}" fill="{BAR}"><title>{escape(label)}: {_number(value)}</title>'
                f'</rect><text x="{x + bar_width / 2:.1f}" y="{top + plot - bar - 3:.1f}" '
                f'font-size="10" text-anchor="middle">{_number(value)}</text>'
            )
        parts.append(
            f'<text x="{x + bar_width / 2:.1f}" y="{height - bottom + 14}" font-size="10" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def achievement_chart(rows: list[tuple[str, Decimal | None, bool]], *, title: str) -> SafeString:
    """Horizontal bars of achievement ratios (%), with the 100% line. Rows are
    (label, ratio or None, hidden)."""
    label_width, bar_area, row_height, top = 300, 320, 22, 24
    height = top + row_height * len(rows) + 20
    width = label_width + bar_area + 60
    scale_max = 150.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    hundred = label_width + bar_area * 100 / scale_max
    parts.append(
        f'<line x1="{hundred:.1f}" y1="{top - 6}" x2="{hundred:.1f}" y2="{height - 14}" '
        f'stroke="{TARGET}" stroke-dasharray="4 3"/><text x="{hundred:.1f}" y="{top - 10}" '
        f'font-size="10" text-anchor="middle" fill="{TARGET}">100%</text>'
    )
    for i, (label, ratio, hidden) in enumerate(rows):
        y = top + i * row_height
        short = label if len(label) <= 22 else label[:21] + "…"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 14}" font-size="11" text-anchor="end">'
            f"{escape(short)}<title>{escape(label)}</title></text>"
        )
        if hidden:
            text = "x"
            bar = 0.0
        elif ratio is None:
            text = "—"
            bar = 0.0
        else:
            text = f"{_number(ratio)}%"
            bar = bar_area * min(float(ratio), scale_max) / scale_max
        parts.append(
            f'<rect x="{label_width}" y="{y + 3}" width="{bar:.1f}" height="{row_height - 8}" '
            f'fill="{BAR}"/><text x="{label_width + bar + 4:.1f}" y="{y + 14}" '
            f'font-size="10">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
