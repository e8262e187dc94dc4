"""A small line chart as inline SVG, rendered on the server: no JavaScript, no CDN."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

COLOURS = ("#2e7d32", "#1565c0", "#ef6c00", "#c62828")


def svg_line_chart(series: dict[str, list[float]], *, width: int = 640, height: int = 160, pad: int = 24) -> SafeString:
    """One polyline per named series over the same x axis, scaled to the largest value; a legend underneath."""
    points = max((len(v) for v in series.values()), default=0)
    top = max((max(v) for v in series.values() if v), default=0.0) or 1.0
    step = (width - 2 * pad) / max(1, points - 1)

    def coords(values: list[float]) -> str:
        return " ".join(
            f"{pad + i * step:.1f},{height - pad - (v / top) * (height - 2 * pad):.1f}" for i, v in enumerate(values)
        )

    lines = format_html_join(
        "",
        '<polyline fill="none" stroke="{}" stroke-width="2" points="{}"><title>{}</title></polyline>',
        ((COLOURS[i % len(COLOURS)], coords(values), name) for i, (name, values) in enumerate(series.items())),
    )
    legend = format_html_join(
        "",
        '<tspan fill="{}" dx="12">&#9632; {}</tspan>',
        ((COLOURS[i % len(COLOURS)], name) for i, name in enumerate(series)),
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h2}" viewBox="0 0 {w} {h2}" role="img">'
        '<rect x="0" y="0" width="{w}" height="{h}" fill="#fafafa" stroke="#ddd"/>'
        '<text x="4" y="14" font-size="11" fill="#666">max {top}</text>'
        '<text x="4" y="{bottom}" font-size="11" fill="#666">-60 min</text>'
        '<text x="{right}" y="{bottom}" font-size="11" fill="#666" text-anchor="end">now</text>'
        "{lines}"
        '<text x="0" y="{legend_y}" font-size="12">{legend}</text>'
        "</svg>",
        w=width,
        h=height,
        h2=height + 20,
        top=f"{top:g}",
        bottom=height - 6,
        right=width - 4,
        lines=lines,
        legend_y=height + 15,
        legend=legend,
    )
