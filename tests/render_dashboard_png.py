"""Render one generated dashboard to a PNG, with data from a live Prometheus scraping the
synthetic exporter of live_prometheus.py, to look at what the panels show.

    .venv/bin/python tests/render_dashboard_png.py specs/codehub.yaml out.png [--seconds 75]

Needs matplotlib (not a project dependency: `pip install matplotlib==3.11.2`) and
prometheus. An approximation of Grafana, not a copy: panels are placed by gridPos (24
columns, rows as title bars); time series are lines named by legendFormat, with every
threshold step drawn as a horizontal line in its colour when thresholdsStyle is `line`. As
in Grafana, the y range follows the data (and axisSoftMin/axisSoftMax), not the thresholds:
a threshold off the scale is not drawn, but listed in the panel's corner (which Grafana does
not do). Heatmaps show the per-bucket rates (the cumulative `le` series de-accumulated, as
Grafana's heatmap format does) with `le` as y; stats show the last value, coloured by the
thresholds. Only the run's window is shown, not the dashboard's time range.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import live_prometheus as lp
import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap, PowerNorm  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.ticker import FuncFormatter, MultipleLocator  # noqa: E402

GRID_COLUMNS = 24
COLUMN_INCHES = 0.8
ROW_INCHES = 0.42  # Grafana: a grid row is 30px, a column ~1/24 of ~1800px
HEADER_INCHES = 0.6
LEGEND_LINE_INCHES = 0.105

BACKGROUND, PANEL, TEXT, MUTED, GRID = "#111217", "#181b1f", "#ccccdc", "#8e8e9a", "#2c3235"
NAMED = {"green": "#73BF69", "orange": "#FF9830", "red": "#F2495C", "blue": "#5794F2",
         "yellow": "#FADE2A", "purple": "#B877D9", "dark-orange": "#FA6400",
         "text": TEXT, "transparent": "#00000000"}
PALETTE = ["#7EB26D", "#EAB839", "#6ED0E0", "#EF843C", "#E24D42", "#1F78C1", "#BA43A9",
           "#705DA0", "#508642", "#CCA300", "#447EBC", "#C15C17", "#890F02", "#0A437C",
           "#6D1F62", "#584477"]

# Grafana's "Oranges" scheme on the dark theme: from the panel's background to orange.
HEATMAP_COLORS = LinearSegmentedColormap.from_list(
    "grafana-oranges", [PANEL, "#7a2e00", "#FA6400", "#FFB357", "#FFE7C2"])

Series = tuple[str, list[float], list[float]]  # legend, timestamps, values


def grafana_color(name: str | None) -> str:
    return NAMED.get(name or "", name or TEXT)


# ---- units (roughly Grafana's) ----------------------------------------------------------


def _number(value: float, decimals: int | None = None) -> str:
    if decimals is None:  # three significant digits, no exponent below a million
        if value == int(value) or abs(value) >= 100:
            return f"{value:.0f}"
        decimals = max(0, 2 - math.floor(math.log10(abs(value))))
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _scaled(value: float, steps: Sequence[tuple[float, str]], decimals: int | None) -> str:
    for factor, suffix in reversed(steps):
        if abs(value) >= factor:
            return f"{_number(value / factor, decimals)}{suffix}"
    factor, suffix = steps[0]
    return f"{_number(value / factor, decimals)}{suffix}"


def format_value(value: float, unit: str | None, decimals: int | None = None) -> str:
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
    if unit == "s":
        if value == 0:
            return "0 s"
        if abs(value) < 1:
            return _scaled(value, [(1e-9, " ns"), (1e-6, " µs"), (1e-3, " ms")], decimals)
        return _scaled(value, [(1, " s"), (60, " min"), (3600, " hour"), (86400, " day")],
                       decimals)
    if unit == "percentunit":
        return f"{_number(value * 100, decimals)}%"
    if unit == "percent":
        return f"{_number(value, decimals)}%"
    if unit in ("bytes", "Bps"):
        text = _scaled(value, [(1, " B"), (2**10, " KiB"), (2**20, " MiB"), (2**30, " GiB"),
                               (2**40, " TiB")], decimals)
        return text + ("/s" if unit == "Bps" else "")
    text = _scaled(value, [(1, ""), (1e3, " K"), (1e6, " Mil"), (1e9, " Bil")], decimals)
    if unit == "ops":
        return f"{text} ops/s"
    return text


# ---- data --------------------------------------------------------------------------------


@dataclass
class PanelData:
    targets: list[list[Series]]  # per target, its series


def collect(board: dict[str, Any], prom: lp.Prometheus, start: float, end: float,
            step: float) -> dict[int, PanelData]:
    """Every panel's targets as Grafana would fetch them (variables set to All)."""
    out = {}
    for panel in board["panels"]:
        if panel.get("type") == "row":
            continue
        per_target = []
        for target in panel.get("targets", []):
            result = prom.query_range(lp.substitute(target["expr"]), start, end, step)
            per_target.append([(lp.legend(target.get("legendFormat"), labels),
                                [t for t, _ in points], [v for _, v in points])
                               for labels, points in result])
        out[panel["id"]] = PanelData(per_target)
    return out


# ---- drawing -----------------------------------------------------------------------------


def _steps(panel: dict[str, Any], ref: str | None = None) -> list[dict[str, Any]]:
    """The panel's threshold steps, or those a `byFrameRefID` override gives query `ref`."""
    config = panel.get("fieldConfig", {})
    for override in config.get("overrides", []):
        matcher = override.get("matcher", {})
        if ref is not None and matcher == {"id": "byFrameRefID", "options": ref}:
            for prop in override.get("properties", []):
                if prop.get("id") == "thresholds":
                    return list(prop["value"].get("steps", []))
    return list(config.get("defaults", {}).get("thresholds", {}).get("steps", []))


def _unit(panel: dict[str, Any]) -> str | None:
    if panel.get("type") == "heatmap":
        unit = panel.get("options", {}).get("yAxis", {}).get("unit")
    else:
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
    return str(unit) if unit is not None else None


def _style(ax: Axes) -> None:
    ax.set_facecolor(PANEL)
    ax.tick_params(colors=MUTED, labelsize=6, length=2)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.grid(True, color=GRID, linewidth=0.5)


def _time_axis(ax: Axes) -> None:
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=5))  # type: ignore[no-untyped-call]


def _dates(stamps: Sequence[float]) -> list[float]:
    """Unix times as matplotlib date numbers (days since 1970, shown in UTC)."""
    return [t / 86400.0 for t in stamps]


def _last(values: Sequence[float]) -> float:
    return next((v for v in reversed(values) if not math.isnan(v)), math.nan)


def _max(values: Sequence[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return max(finite) if finite else math.nan


def _timeseries(fig: Figure, box: tuple[float, float, float, float], panel: dict[str, Any],
                data: PanelData) -> None:
    left, bottom, width, height = box
    series = [s for target in data.targets for s in target]
    fig_h = fig.get_figheight()
    line = LEGEND_LINE_INCHES / fig_h
    columns = 1 if len(series) <= 8 else 2
    per_column = math.ceil(len(series) / columns) if series else 0
    legend_height = min(height * 0.5, (per_column + 1) * line)
    ticks = 0.22 / fig_h
    ax = fig.add_axes((left + width * 0.09, bottom + legend_height + ticks,
                       width * 0.89, height - legend_height - ticks - 0.05 / fig_h))
    _style(ax)
    unit = _unit(panel)
    values: list[float] = []
    for i, (name, stamps, points) in enumerate(series):
        ax.plot(_dates(stamps), points, color=PALETTE[i % len(PALETTE)], linewidth=1, label=name)
        values += [v for v in points if math.isfinite(v)]
    custom = panel.get("fieldConfig", {}).get("defaults", {}).get("custom", {})
    mode = custom.get("thresholdsStyle", {}).get("mode", "off")
    lines = [s for s in _steps(panel) if s.get("value") is not None] if mode == "line" else []
    # Like Grafana, the y range comes from the data (and axisSoftMin/axisSoftMax), not from
    # the thresholds: a threshold outside it is not drawn. It is listed in the corner instead.
    span = values + [v for v in (custom.get("axisSoftMin"), custom.get("axisSoftMax"))
                     if v is not None]
    low, high = (min(span), max(span)) if span else (0.0, 1.0)
    pad = (high - low) * 0.06 or abs(high) * 0.1 or 1.0
    low, high = (min(low, 0) if low >= 0 else low - pad), high + pad
    ax.set_ylim(low, high)
    hidden = []
    for step in lines:
        if low <= step["value"] <= high:
            ax.axhline(step["value"], color=grafana_color(step["color"]), linewidth=1.1,
                       linestyle="-", alpha=0.95)
        else:
            hidden.append(step)
    if hidden:
        text = "off-scale thresholds: " + ", ".join(
            f"{'▲' if s['value'] > high else '▼'} {format_value(s['value'], unit)}"
            for s in hidden)
        ax.text(0.99, 0.97, text, transform=ax.transAxes, ha="right", va="top", fontsize=6,
                color=grafana_color(hidden[0]["color"]),
                bbox={"facecolor": PANEL, "edgecolor": "none", "alpha": 0.8})
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_value(v, unit)))
    if unit == "s" and span and max(span) > 7200:  # whole hours, as Grafana ticks them
        hours = next((k for k in (1, 2, 3, 6, 12, 24, 48, 168) if max(span) / (k * 3600) <= 6),
                     720)
        ax.yaxis.set_major_locator(MultipleLocator(hours * 3600))
    _time_axis(ax)
    if not series:
        ax.text(0.5, 0.5, "No data", color=MUTED, ha="center", va="center",
                transform=ax.transAxes, fontsize=10)
    # The legend as Grafana's table: name, last, max.
    rows = [(name, _last(points), _max(points), PALETTE[i % len(PALETTE)])
            for i, (name, _, points) in enumerate(series)]
    line = legend_height / (per_column + 1) if per_column else 0
    column_width = width * 0.96 / columns
    for c in range(columns):
        x0 = left + width * 0.02 + c * column_width
        top = bottom + legend_height
        fig.text(x0 + column_width * 0.62, top, "Last *", color=MUTED, fontsize=5.5,
                 va="top")
        fig.text(x0 + column_width * 0.82, top, "Max", color=MUTED, fontsize=5.5, va="top")
        for r, (name, last, high, colour) in enumerate(rows[c * per_column:(c + 1) * per_column]):
            y = top - (r + 1) * line
            fig.text(x0, y, "▬ ", color=colour, fontsize=5.5, va="top")
            fig.text(x0 + column_width * 0.04, y, name[:48], color=TEXT, fontsize=5.5, va="top")
            fig.text(x0 + column_width * 0.62, y, format_value(last, unit), color=TEXT,
                     fontsize=5.5, va="top")
            fig.text(x0 + column_width * 0.82, y, format_value(high, unit), color=TEXT,
                     fontsize=5.5, va="top")


def _le(name: str) -> float:
    return math.inf if name in ("+Inf", "Inf") else float(name)


def _heatmap(fig: Figure, box: tuple[float, float, float, float], panel: dict[str, Any],
             data: PanelData) -> None:
    left, bottom, width, height = box
    ax = fig.add_axes((left + width * 0.1, bottom + height * 0.12, width * 0.78,
                       height * 0.72))
    _style(ax)
    ax.grid(False)
    unit = _unit(panel)
    series = sorted((s for target in data.targets for s in target), key=lambda s: _le(s[0]))
    if not series:
        ax.text(0.5, 0.5, "No data", color=MUTED, ha="center", va="center",
                transform=ax.transAxes, fontsize=10)
        return
    stamps = sorted({t for s in series for t in s[1]})  # bounds may start at different times
    cumulative = []
    for _, times, points in series:
        at = dict(zip(times, points, strict=True))
        cumulative.append([at.get(t, 0.0) if not math.isnan(at.get(t, 0.0)) else 0.0
                           for t in stamps])
    buckets = [cumulative[0]] + [[b - a for a, b in zip(lower, upper, strict=True)]
                                 for lower, upper in pairwise(cumulative)]
    dates = _dates(stamps)
    image = ax.imshow(buckets, aspect="auto", origin="lower", cmap=HEATMAP_COLORS,
                      norm=PowerNorm(0.5, vmin=0), interpolation="nearest",
                      extent=(dates[0], dates[-1], -0.5, len(series) - 0.5))
    ax.xaxis_date()
    _time_axis(ax)
    ax.set_yticks(range(len(series)))
    ax.set_yticklabels([s[0] if s[0] == "+Inf" else format_value(_le(s[0]), unit)
                        for s in series], fontsize=5.5)
    bar = fig.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
    bar.ax.tick_params(colors=MUTED, labelsize=5)
    bar.outline.set_visible(False)


def _threshold_color(panel: dict[str, Any], value: float, ref: str | None = None) -> str:
    colour = TEXT
    for step in _steps(panel, ref):
        if step.get("value") is None or value >= step["value"]:
            colour = grafana_color(step["color"])
    return colour


def _stat(fig: Figure, box: tuple[float, float, float, float], panel: dict[str, Any],
          data: PanelData) -> None:
    """Up to three values side by side (Grafana shows each series), each coloured by its
    query's thresholds; the first one's sparkline behind them."""
    left, bottom, width, height = box
    refs = [t.get("refId") for t in panel.get("targets", [])]
    series = [(ref, s) for ref, target in zip(refs, data.targets, strict=False) for s in target]
    unit = _unit(panel)
    if not series:
        fig.text(left + width / 2, bottom + height * 0.4, "No data", color=MUTED,
                 ha="center", va="center", fontsize=12)
        return
    shown = series[:3]
    for i, (ref, (name, stamps, points)) in enumerate(shown):
        value = _last(points)
        colour = _threshold_color(panel, value, ref) if math.isfinite(value) else MUTED
        if i == 0:
            spark = fig.add_axes((left + 0.002, bottom + 0.002, width - 0.004, height * 0.45))
            spark.set_axis_off()
            spark.fill_between(_dates(stamps), [0 if math.isnan(v) else v for v in points],
                               min((v for v in points if math.isfinite(v)), default=0),
                               color=colour, alpha=0.18, linewidth=0)
        x = left + width * (2 * i + 1) / (2 * len(shown))
        fig.text(x, bottom + height * 0.42, format_value(value, unit), color=colour,
                 ha="center", va="center", fontsize=20 if len(shown) == 1 else 13,
                 fontweight="bold")
        if len(shown) > 1:
            fig.text(x, bottom + height * 0.22, name[:28], color=MUTED, ha="center",
                     fontsize=5.5)
    if len(series) > len(shown):
        fig.text(left + width / 2, bottom + height * 0.1,
                 f"(+{len(series) - len(shown)} more series)", color=MUTED, ha="center",
                 fontsize=6)


def render(board: dict[str, Any], data: dict[int, PanelData], out: Path,
           note: str = "") -> None:
    """Lay the dashboard out by gridPos and write the PNG."""
    grid_height = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in board["panels"])
    fig_w = GRID_COLUMNS * COLUMN_INCHES
    fig_h = grid_height * ROW_INCHES + HEADER_INCHES
    fig = plt.figure(figsize=(fig_w, fig_h), facecolor=BACKGROUND)
    fig.text(0.01, 1 - 0.25 / fig_h, board.get("title", ""), color=TEXT, fontsize=14,
             fontweight="bold", va="center")
    fig.text(0.99, 1 - 0.25 / fig_h, note, color=MUTED, fontsize=8, ha="right", va="center")
    gap_x, gap_y = 0.04 / fig_w, 0.04 / fig_h
    for panel in board["panels"]:
        grid = panel["gridPos"]
        left = grid["x"] / GRID_COLUMNS + gap_x
        width = grid["w"] / GRID_COLUMNS - 2 * gap_x
        top = 1 - (HEADER_INCHES + grid["y"] * ROW_INCHES) / fig_h
        height = grid["h"] * ROW_INCHES / fig_h - 2 * gap_y
        bottom = top - gap_y - height
        if panel.get("type") == "row":
            fig.patches.append(Rectangle((left, bottom), width, height, color=BACKGROUND,
                                             transform=fig.transFigure, figure=fig,
                                             zorder=-2))
            fig.text(left + 0.003, bottom + height / 2, f"⌄ {panel.get('title', '')}",
                     color=TEXT, fontsize=10, fontweight="bold", va="center")
            fig.lines.append(Line2D([left, left + width], [bottom, bottom], color=GRID,
                                        transform=fig.transFigure, figure=fig))
            continue
        fig.patches.append(Rectangle((left, bottom), width, height, facecolor=PANEL,
                                         edgecolor=GRID, linewidth=0.6, zorder=-2,
                                         transform=fig.transFigure, figure=fig))
        title_y = bottom + height - 0.14 / fig_h
        limit = int(grid["w"] * 9)
        title = panel.get("title", "")
        fig.text(left + 0.004, title_y, title if len(title) <= limit else title[:limit - 1] + "…",
                 color=TEXT, fontsize=7.5, fontweight="bold", va="center")
        body = (left, bottom, width, height - 0.3 / fig_h)
        kind, panel_data = panel.get("type"), data.get(panel["id"], PanelData([]))
        if kind == "heatmap":
            _heatmap(fig, body, panel, panel_data)
        elif kind == "stat":
            _stat(fig, body, panel, panel_data)
        else:
            _timeseries(fig, body, panel, panel_data)
    fig.savefig(out, dpi=100, facecolor=BACKGROUND)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spec", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seconds", type=float, default=75.0,
                        help="how long Prometheus scrapes before the picture (default 75)")
    parser.add_argument("--step", type=float, default=1.0, help="range query step (s)")
    parser.add_argument("--prometheus", default=shutil.which("prometheus"),
                        help="the prometheus binary (default: from PATH)")
    args = parser.parse_args(argv)
    if not args.prometheus:
        print("prometheus not found: install Debian's prometheus package or give --prometheus",
              file=sys.stderr)
        return 2
    generated = lp.generate([args.spec])
    svc = generated.services[0]
    board = generated.dashboards[svc.name]
    with lp.live(generated, args.prometheus) as prom:
        time.sleep(max(0.0, prom.started + args.seconds - time.time()))
        end = time.time()
        data = collect(board, prom, prom.started, end, args.step)
    note = (f"synthetic data from tests/live_prometheus.py, {args.seconds:g}s at 1s scrapes; "
            f"$__rate_interval={lp.RATE_INTERVAL}; variables = All")
    render(board, data, args.out, note)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
