"""Scorecard plots: step curves with shaded confidence bands, as PNG and SVG (matplotlib, Agg).

The plots carry no words, only numbers on the axes: matplotlib does not shape Arabic, so titles,
axis names and legends are written in the HTML around the image, where the browser shapes them.
Output is byte-for-byte reproducible: no dates in the metadata, a fixed SVG id salt, matplotlib's
own DejaVu font drawn as paths, and no pyplot global state.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from matplotlib.typing import RcKeyType

# Okabe-Ito colours: told apart by people with any common colour-vision deficiency.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
SIZE_INCHES = (6.4, 3.4)
PNG_DPI = 120
_RC: dict[RcKeyType, str | int | bool] = {
    "svg.hashsalt": "awda-scorecard",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_METADATA = {
    "png": {"Software": "awda"},
    "svg": {"Creator": "awda", "Date": None},
}


@dataclass(frozen=True)
class StepSeries:
    """A right-continuous step function and its confidence band, as fractions (0..1), by day."""

    day: tuple[int, ...]
    estimate: tuple[float, ...]
    ci_lower: tuple[float, ...]
    ci_upper: tuple[float, ...]


def survival_figure(series: StepSeries) -> Figure:
    """The survival curve (percent still free of violation) with its shaded 95% band, y from 0 to 100."""
    figure, axes = _figure()
    _draw(axes, series, COLOURS[0])
    axes.set_ylim(0, 100)
    _finish(axes, series.day)
    return figure


def incidence_figure(series: Sequence[StepSeries]) -> Figure:
    """Cumulative incidence per cause (percent), one colour each in `COLOURS` order, y from 0 up."""
    figure, axes = _figure()
    top = 0.0
    days: list[int] = [0]
    for position, one in enumerate(series):
        _draw(axes, one, COLOURS[position % len(COLOURS)])
        top = max(top, *one.ci_upper, *one.estimate)
        days.extend(one.day)
    axes.set_ylim(0, max(5.0, min(100.0, top * 100 * 1.15)))
    _finish(axes, tuple(days))
    return figure


def render(figure: Figure, file_format: str) -> bytes:
    """The figure as PNG or SVG bytes, the same bytes every time for the same figure."""
    if file_format not in _METADATA:
        raise ValueError(f"unknown plot format {file_format!r}")
    output = io.BytesIO()
    with matplotlib.rc_context(_RC):
        figure.savefig(output, format=file_format, dpi=PNG_DPI, metadata=_METADATA[file_format])
    return output.getvalue()


def write_plot(figure: Figure, stem: Path) -> tuple[Path, Path]:
    """Write `stem`.png and `stem`.svg; returns both paths."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = (stem.with_suffix(".png"), stem.with_suffix(".svg"))
    for path in paths:
        path.write_bytes(render(figure, path.suffix[1:]))
    return paths


def _figure() -> tuple[Figure, Axes]:
    with matplotlib.rc_context(_RC):
        figure = Figure(figsize=SIZE_INCHES)
        figure.subplots_adjust(left=0.075, right=0.975, bottom=0.09, top=0.97)
        axes = figure.add_subplot()
    return figure, axes


def _draw(axes: Axes, series: StepSeries, colour: str) -> None:
    percent = [100 * value for value in series.estimate]
    lower = [100 * value for value in series.ci_lower]
    upper = [100 * value for value in series.ci_upper]
    axes.fill_between(series.day, lower, upper, step="post", color=colour, alpha=0.22, linewidth=0)
    axes.step(series.day, percent, where="post", color=colour, linewidth=1.8)


def _finish(axes: Axes, days: Sequence[int]) -> None:
    axes.set_xlim(0, max(max(days, default=0), 1))
    axes.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True, steps=[1, 2, 3, 5, 6, 10]))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axes.grid(True, color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
