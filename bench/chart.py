"""An SVG bar chart of the ratios (no plotting library needed; GitHub renders SVG inline).

One bar per comparison: the median ratio (our throughput over the peer's), a whisker from the
min to the max pair, a dashed line at parity (1.0x) and a black tick at the target.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

_ROW, _LEFT, _WIDTH, _TOP = 28, 190, 420, 36
_COLOURS = {True: "#2e8b57", False: "#c0392b", None: "#7f8c8d"}


def _x(ratio: float, scale: float) -> float:
    return _LEFT + ratio / scale * _WIDTH


def _row(i: int, record: dict[str, Any], scale: float) -> list[str]:
    y = _TOP + i * _ROW
    ratio, target = record["ratio"], record["target_ratio"]
    colour = _COLOURS[record["pass"]]
    median_x, lo_x, hi_x = (_x(ratio[k], scale) for k in ("median", "min", "max"))
    parts = [
        f'<text x="{_LEFT - 8}" y="{y + 14}" text-anchor="end">{escape(record["name"])}</text>',
        f'<rect x="{_LEFT}" y="{y + 3}" width="{median_x - _LEFT:.1f}" height="16" '
        f'fill="{colour}"/>',
        f'<line x1="{lo_x:.1f}" x2="{hi_x:.1f}" y1="{y + 11}" y2="{y + 11}" stroke="#222"/>',
        f'<text x="{max(median_x, hi_x) + 6:.1f}" y="{y + 15}">{ratio["median"]:.2f}x</text>',
    ]
    if target is not None:
        tx = _x(target, scale)
        parts.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{y}" y2="{y + 22}" stroke="#000" '
            'stroke-width="3"/>'
        )
    return parts


def svg(records: list[dict[str, Any]], title: str) -> str:
    """The chart as an SVG document."""
    top = max([r["ratio"]["max"] for r in records] + [r["target_ratio"] or 0 for r in records])
    scale = max(2.0, top * 1.15)
    height = _TOP + _ROW * len(records) + 24
    parity = _x(1.0, scale)
    body = [
        f'<text x="10" y="20" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{parity:.1f}" x2="{parity:.1f}" y1="{_TOP - 6}" y2="{height - 20}" '
        'stroke="#555" stroke-dasharray="4 3"/>',
        f'<text x="{parity:.1f}" y="{height - 6}" text-anchor="middle">1.0x (peer)</text>',
    ]
    for i, record in enumerate(records):
        body.extend(_row(i, record, scale))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_LEFT + _WIDTH + 80}" '
        f'height="{height}" font-family="sans-serif" font-size="12">\n'
        '<rect width="100%" height="100%" fill="#fff"/>\n' + "\n".join(body) + "\n</svg>\n"
    )


def write_svg(path: Path, records: list[dict[str, Any]], title: str) -> None:
    """Write the chart next to the JSON results."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(svg(records, title))
