"""Inline SVG charts generated in Python, so reports open offline with nothing to fetch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

INK = "#1f2933"
MUTED = "#7b8794"
BAR = "#3e7cb1"
ALERT = "#d64545"
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal | None  # None: unbounded (drawn full length, labelled `note`)
    text: str
    highlight: bool = False
    note: str = ""


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def hbars(
    bars: Sequence[Bar], *, title: str, threshold: Decimal | None = None, width: int = 640
) -> str:
    """Horizontal bars from a zero baseline (negative values extend left)."""
    row, label_w, text_w = 22, 150, 160
    plot_w = width - label_w - text_w
    finite = [b.value for b in bars if b.value is not None]
    high = max([Decimal(0), *finite, *([threshold] if threshold is not None else [])])
    low = min([Decimal(0), *finite])
    span = (high - low) or Decimal(1)

    def x(v: Decimal) -> float:
        return label_w + float((v - low) / span) * plot_w

    body = []
    for i, b in enumerate(bars):
        y = i * row + 4
        start, end = (x(Decimal(0)), x(b.value)) if b.value is not None else (x(low), x(high))
        left, length = min(start, end), max(abs(end - start), 1.0)
        color = ALERT if b.highlight else BAR
        faded = ' opacity="0.5"' if b.value is None else ""
        body.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end" {FONT} fill="{INK}">'
            f"{escape(b.label)}</text>"
            f'<rect x="{left:.1f}" y="{y}" width="{length:.1f}" height="{row - 8}" fill="{color}"'
            f"{faded}/>"
            f'<text x="{label_w + plot_w + 6}" y="{y + 13}" {FONT} fill="{INK}">'
            f"{escape(b.text)}{escape(' ' + b.note) if b.note else ''}</text>"
        )
    height = max(len(bars), 1) * row + 8
    if threshold is not None:
        tx = x(threshold)
        body.append(
            f'<line x1="{tx:.1f}" y1="0" x2="{tx:.1f}" y2="{height}" stroke="{ALERT}"'
            f' stroke-dasharray="4 3"/>'
        )
    return _svg(width, height, body, title)


def trend(labels: Sequence[str], values: Sequence[Decimal], *, title: str, width: int = 640) -> str:
    """A line with a dot per point and a zero baseline; labels under every other point."""
    height, pad_l, pad_b, pad_t = 200, 60, 40, 12
    plot_w, plot_h = width - pad_l - 12, height - pad_b - pad_t
    high = max([Decimal(0), *values])
    low = min([Decimal(0), *values])
    span = (high - low) or Decimal(1)
    step = plot_w / max(len(values) - 1, 1)

    def y(v: Decimal) -> float:
        return pad_t + plot_h - float((v - low) / span) * plot_h

    points = [(pad_l + i * step, y(v)) for i, v in enumerate(values)]
    body = [
        f'<line x1="{pad_l}" y1="{y(Decimal(0)):.1f}" x2="{pad_l + plot_w}"'
        f' y2="{y(Decimal(0)):.1f}" stroke="{MUTED}"/>',
        f'<text x="{pad_l - 6}" y="{y(high) + 4:.1f}" text-anchor="end" {FONT} fill="{MUTED}">'
        f"{high:,.0f}</text>",
        f'<polyline fill="none" stroke="{BAR}" stroke-width="2" points="'
        + " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        + '"/>',
    ]
    for i, ((px, py), label) in enumerate(zip(points, labels, strict=True)):
        body.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{BAR}"/>')
        if i % 2 == 0:
            body.append(
                f'<text x="{px:.1f}" y="{height - pad_b + 16}" text-anchor="middle" {FONT}'
                f' fill="{MUTED}">{escape(label)}</text>'
            )
    return _svg(width, height, body, title)
