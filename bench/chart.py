"""The PNG chart of the ratios: ``python bench/chart.py [results.json]`` redraws it from JSON.

One horizontal bar per comparison, drawn from parity (1.0x, the peer) to our median throughput
ratio on a log axis, so "2x faster" and "2x slower" are bars of the same length on either side.
A whisker spans the worst to the best pair; a black tick marks the comparison's target. Green
meets its target, red misses it, grey has none.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

_COLOURS = {True: "#2e8b57", False: "#c0392b", None: "#95a5a6"}
_ROW_IN = 0.26


def _label(record: dict[str, Any]) -> str:
    return f"{record['name']}  vs {record['peer']['label']}"


def _limits(records: list[dict[str, Any]]) -> tuple[float, float]:
    values = [r["ratio"][k] for r in records for k in ("min", "max")]
    values += [r["target_ratio"] for r in records if r["target_ratio"]]
    return min(min(values), 0.9) / 1.25, max(max(values), 1.1) * 1.6


def _draw_row(ax: Any, y: int, record: dict[str, Any]) -> None:
    ratio, target = record["ratio"], record["target_ratio"]
    median = ratio["median"]
    ax.barh(y, median - 1.0, left=1.0, height=0.62, color=_COLOURS[record["pass"]])
    ax.errorbar(
        median,
        y,
        xerr=[[median - ratio["min"]], [ratio["max"] - median]],
        fmt="none",
        ecolor="#222",
        elinewidth=0.9,
        capsize=2,
    )
    if target is not None:
        ax.plot([target, target], [y - 0.42, y + 0.42], color="black", linewidth=2.4)
    ax.text(max(median, ratio["max"]) * 1.04, y, f"{median:.2f}x", va="center", fontsize=8)


def draw(records: list[dict[str, Any]], title: str) -> Any:
    """The chart as a matplotlib ``Figure`` (not shown, not saved)."""
    import matplotlib

    matplotlib.use("Agg")  # no display; must precede pyplot
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    height = 1.9 + _ROW_IN * len(records)
    fig, ax = plt.subplots(figsize=(11, height), dpi=110)
    for y, record in enumerate(records):
        _draw_row(ax, y, record)
    ax.set_xscale("log")
    ax.set_xlim(*_limits(records))
    ticks = [t for t in (0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 40) if t]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
    ax.axvline(1.0, color="#555", linestyle="--", linewidth=1)
    ax.set_yticks(range(len(records)), [_label(r) for r in records], fontsize=8)
    ax.set_ylim(len(records) - 0.5, -0.5)  # first comparison on top
    ax.set_xlabel("throughput ratio, ours / peer (log scale; right of the dashed line = faster)")
    fig.suptitle(title, fontsize=10)
    ax.grid(axis="x", color="#ddd", linewidth=0.6)
    ax.set_axisbelow(True)
    legend = [
        Patch(color=_COLOURS[True], label="meets target"),
        Patch(color=_COLOURS[False], label="misses target"),
        Patch(color=_COLOURS[None], label="no target"),
        Line2D([], [], color="black", linewidth=2.4, label="target"),
        Line2D([], [], color="#222", linewidth=0.9, label="worst..best pair"),
    ]
    ax.legend(
        handles=legend,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=len(legend),
        fontsize=8,
        frameon=False,
    )
    fig.tight_layout()
    return fig


def write_png(path: Path, records: list[dict[str, Any]], title: str) -> bool:
    """Write the chart; False (and nothing written) when matplotlib is not installed."""
    try:
        fig = draw(records, title)
    except ImportError:
        return False
    import matplotlib.pyplot as plt
    from PIL import Image  # pillow comes with matplotlib

    path.parent.mkdir(parents=True, exist_ok=True)
    fig.canvas.draw()
    image = Image.frombuffer("RGBA", fig.canvas.get_width_height(), fig.canvas.buffer_rgba())
    plt.close(fig)
    # A 64-colour palette keeps the committed file about a quarter of the size, looking the same.
    image.convert("RGB").quantize(64).save(path, optimize=True)
    return True


def title_of(meta: dict[str, Any]) -> str:
    """The chart title: what was measured with what."""
    v = meta["versions"]
    return (
        f"goscope-redis vs peers, one run: redis {v['redis_server']}, redis-py {v['redis']}, "
        f"Python {meta['python']}, {str(meta.get('when', ''))[:10]}"
        + (f", {meta['cpu_model']}" if meta.get("cpu_model") else "")
    )


def main(argv: list[str]) -> int:
    """Redraw ``<results>.png`` from a results JSON (default ``bench/results/latest.json``)."""
    source = Path(argv[0]) if argv else Path(__file__).resolve().parent / "results/latest.json"
    payload = json.loads(source.read_text())
    target = source.with_suffix(".png")
    if not write_png(target, payload["comparisons"], title_of(payload["meta"])):
        print("matplotlib is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 1
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
