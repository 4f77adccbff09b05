"""The pipeline figures as a server-rendered SVG bar chart for the review page: one bar per stage,
then the end-to-end yield, each labelled with its rate and counts, readable without JavaScript."""

from __future__ import annotations

from markupsafe import escape

from tools.production import PipelineFigures, Rate

WIDTH = 560
ROW = 28
LABEL_W = 170
BAR_W = 260


def pipeline_svg(figures: PipelineFigures, title: str) -> str:
    rows: list[tuple[str, Rate]] = [
        ("Preflight passed", figures.preflight),
        ("Generation succeeded", figures.generation),
        ("Media check passed", figures.media_check),
        ("Review approved", figures.review),
        ("End-to-end yield", figures.end_to_end_yield),
    ]
    height = ROW * (len(rows) + 1) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" role="img" '
        f'aria-label="{escape(title)}" font-family="sans-serif" font-size="13">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="18" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (label, rate) in enumerate(rows):
        y = ROW * (i + 1) + 6
        filled = 0 if rate.rate is None else round(BAR_W * rate.rate)
        value = "no data" if rate.rate is None else f"{rate.rate:.0%} ({rate.passed}/{rate.total})"
        colour = "#2e7d32" if label != "End-to-end yield" else "#1565c0"
        parts += [
            f'<text x="0" y="{y + 15}">{escape(label)}</text>',
            f'<rect x="{LABEL_W}" y="{y + 3}" width="{BAR_W}" height="16" fill="#eeeeee"/>',
            f'<rect x="{LABEL_W}" y="{y + 3}" width="{filled}" height="16" fill="{colour}"/>',
            f'<text x="{LABEL_W + BAR_W + 8}" y="{y + 15}">{escape(value)}</text>',
        ]
    parts.append("</svg>")
    return "\n".join(parts)
