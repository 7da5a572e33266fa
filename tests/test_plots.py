"""Figure functions: the plotted data equal the table, axes carry units and dates, windows are
shaded where they should be, and the run figure is written. Data are read back from the Axes."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import matplotlib.dates as mdates
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from scrapsim.model.table import Table
from scrapsim.plots import timeseries as plots

REGIONS = ("Hebei", "Shandong", "Guangdong")
START = np.datetime64("2017-02-01", "D")
DAYS = 60
FLOWS = ("generated", "uncollected", "collected", "inflow", "outflow", "trader_stock", "offered",
         "demanded", "traded", "imports", "smelter_stock", "smelted", "ingot", "seized_traders",
         "seized_smelters", "inspections", "violations", "fines")
WINDOWS = [("Hebei pulse", ["Hebei"], date(2017, 2, 15), date(2017, 3, 10)),
           ("Guangdong stop", ["Guangdong"], date(2017, 3, 1), date(2017, 3, 20))]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def synthetic_daily(seed: int = 1, scale: float = 1.0) -> Table:
    """A daily table with the contract's columns: 3 regions × 60 days, rows by date then region."""
    rng = np.random.default_rng(seed)
    n = DAYS * len(REGIONS)
    dates = np.repeat(START + np.arange(DAYS), len(REGIONS))
    cols: dict[str, np.ndarray] = {"date": dates, "region": np.tile(np.array(REGIONS), DAYS)}
    for name in FLOWS:
        cols[name] = scale * rng.uniform(100.0, 5000.0, n)
    states = rng.multinomial(40, [0.6, 0.1, 0.1, 0.1, 0.1], size=n)
    for k, name in enumerate(plots.STATES):
        cols[name] = states[:, k].astype(np.int64)
    cols["scrap_price"] = rng.uniform(11000.0, 13000.0, n)
    cols["ingot_price"] = rng.uniform(14000.0, 15000.0, n)
    cols["primary_price"] = rng.uniform(13000.0, 15500.0, n)
    cols["price_pressure"] = rng.uniform(-0.6, 0.6, n)
    return Table(cols)


def fake_result(daily: Table | None = None, with_baseline: bool = True) -> SimpleNamespace:
    base = SimpleNamespace(daily=synthetic_daily(seed=2)) if with_baseline else None
    scenario = SimpleNamespace(name="synthetic", enforcement=SimpleNamespace(intensity=1.0))
    return SimpleNamespace(daily=daily or synthetic_daily(), baseline=base, windows=WINDOWS,
                           scenario=scenario, seed=7)


def expected(daily: Table, column: str, region: str | None) -> np.ndarray:
    """Per-date value computed the plain way: one region's rows, or sum / mean over regions."""
    out = []
    for day in sorted(set(daily["date"].tolist())):
        rows = daily["date"] == day
        if region is not None:
            rows &= daily["region"] == region
        values = daily[column][rows].astype(float)
        out.append(values.mean() if column in plots.MEAN_COLUMNS else values.sum())
    return np.array(out)


def day_numbers() -> np.ndarray:
    return mdates.date2num(START + np.arange(DAYS))


def line(ax: Axes, label: str) -> np.ndarray:
    """The (x, y) data of the line labelled ``label`` on ``ax`` or its twin axes."""
    for axes in [ax, *ax.get_shared_x_axes().get_siblings(ax)]:
        for artist in axes.get_lines():
            if artist.get_label() == label:
                return artist.get_xydata()
    raise AssertionError(f"no line {label!r}")


def twin_of(ax: Axes) -> Axes:
    twins = [a for a in ax.get_shared_x_axes().get_siblings(ax) if a is not ax]
    assert len(twins) == 1
    return twins[0]


def has_unit(label: str) -> bool:
    return re.search(r"\((t|t/day|CNY/t|count|index, .+)\)$", label) is not None


@pytest.fixture(scope="module")
def daily() -> Table:
    return synthetic_daily()


def new_ax() -> Axes:
    return Figure().add_subplot()


PANELS = [
    (plots.plot_collection, {"generated": "generated", "collected": "collected",
                             "trader stock (right)": "trader_stock"}),
    (plots.plot_smelting, {"smelted": "smelted", "demanded": "demanded", "traded": "traded",
                           "smelter stock (right)": "smelter_stock"}),
    (plots.plot_prices, {"scrap": "scrap_price", "ingot (ADC12)": "ingot_price",
                         "primary Al": "primary_price"}),
    (plots.plot_pressure, {"price pressure": "price_pressure"}),
]


@pytest.mark.parametrize("region", [None, "Shandong"])
@pytest.mark.parametrize(("plot", "lines"), PANELS, ids=lambda p: getattr(p, "__name__", ""))
def test_lines_equal_table(daily: Table, plot, lines: dict[str, str], region: str | None) -> None:
    given = new_ax()
    ax = plot(daily, given, region=region)
    assert ax is given
    for label, column in lines.items():
        xy = line(ax, label)
        np.testing.assert_array_equal(xy[:, 0], day_numbers())
        np.testing.assert_allclose(xy[:, 1], expected(daily, column, region), rtol=1e-12)


def test_aggregate_is_sum_for_flows_and_mean_for_prices(daily: Table) -> None:
    ax = plots.plot_collection(daily)
    first = daily["collected"][:3].sum()
    assert line(ax, "collected")[0, 1] == pytest.approx(first, rel=1e-12)
    ax = plots.plot_prices(daily)
    assert line(ax, "scrap")[0, 1] == pytest.approx(daily["scrap_price"][:3].mean(), rel=1e-12)


def test_pandas_dataframe_gives_the_same_lines(daily: Table) -> None:
    frame = daily.to_pandas()
    a = plots.plot_smelting(daily, region="Hebei")
    b = plots.plot_smelting(frame, region="Hebei")
    np.testing.assert_array_equal(line(a, "smelted"), line(b, "smelted"))


def test_price_mean_skips_missing_regions(daily: Table) -> None:
    cols = dict(daily)
    price = cols["scrap_price"].copy()
    price[0] = np.nan  # first date, first region: no price that day
    cols["scrap_price"] = price
    ax = plots.plot_prices(Table(cols))
    assert line(ax, "scrap")[0, 1] == pytest.approx(price[1:3].mean(), rel=1e-12)


@pytest.mark.parametrize("region", [None, "Guangdong"])
def test_states_are_stacked_counts(daily: Table, region: str | None) -> None:
    ax = plots.plot_states(daily, new_ax(), region=region)
    layers = [c for c in ax.collections if c.get_label() in plots.STATES]
    assert [c.get_label() for c in layers] == list(plots.STATES)
    top = np.zeros(DAYS)
    x = day_numbers()
    for layer, state in zip(layers, plots.STATES, strict=False):
        bottom, top = top, top + expected(daily, state, region)
        vertices = {tuple(v) for v in layer.get_paths()[0].vertices}
        assert {(a, b) for a, b in zip(x, top, strict=False)} <= vertices, state
        assert {(a, b) for a, b in zip(x, bottom, strict=False)} <= vertices, state
    total = 40 * (len(REGIONS) if region is None else 1)
    np.testing.assert_array_equal(top, total)


def all_axes(ax: Axes) -> list[Axes]:
    return list(ax.get_shared_x_axes().get_siblings(ax))


@pytest.mark.parametrize("plot", [p for p, _ in PANELS] + [plots.plot_states],
                         ids=lambda p: p.__name__)
def test_units_and_dates(daily: Table, plot) -> None:
    ax = plot(daily)
    for axes in all_axes(ax):
        assert has_unit(axes.get_ylabel()), axes.get_ylabel()
    assert isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    ax.figure.draw_without_rendering()
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert "Feb" in ticks and "Mar" in ticks, ticks


def test_unknown_region_and_column_are_named(daily: Table) -> None:
    with pytest.raises(ValueError, match="'Tibet'.*Hebei, Shandong, Guangdong"):
        plots.plot_prices(daily, region="Tibet")
    with pytest.raises(ValueError, match="no column 'smelted'"):
        plots.plot_smelting(Table({k: v for k, v in daily.items() if k != "smelted"}))


def window_patches(ax: Axes) -> dict[str, tuple[float, float]]:
    spans = {}
    for patch in ax.patches:
        if (patch.get_gid() or "").startswith("window:"):
            assert patch.get_visible() and 0 < patch.get_alpha() < 0.5, patch.get_gid()
            spans[patch.get_gid()[7:]] = (patch.get_x(), patch.get_x() + patch.get_width())
    return spans


def test_windows_shaded_over_their_dates() -> None:
    ax = new_ax()
    ax.plot(day_numbers(), np.zeros(DAYS))
    assert plots.shade_windows(ax, WINDOWS) is ax
    spans = window_patches(ax)
    assert spans == {"Hebei pulse": (mdates.date2num(date(2017, 2, 15)),
                                     mdates.date2num(date(2017, 3, 10))),
                     "Guangdong stop": (mdates.date2num(date(2017, 3, 1)),
                                        mdates.date2num(date(2017, 3, 20)))}
    assert sorted(window_names(ax)) == ["Guangdong stop", "Hebei pulse"]


def window_names(ax: Axes) -> list[str]:
    return [t.get_text() for top in ax.child_axes for t in top.get_xticklabels()]


def test_overlapping_window_labels_do_not_overlap() -> None:
    ax = new_ax()
    ax.plot(day_numbers(), np.zeros(DAYS))
    plots.shade_windows(ax, WINDOWS)
    ax.figure.draw_without_rendering()
    boxes = [t.get_window_extent() for top in ax.child_axes for t in top.get_xticklabels()]
    assert len(boxes) == 2 and not boxes[0].overlaps(boxes[1])
    assert min(b.y0 for b in boxes) >= ax.get_window_extent().y1  # above the plot


def test_window_names_stay_below_a_title() -> None:
    ax = new_ax()
    ax.plot(day_numbers(), np.zeros(DAYS))
    plots.shade_windows(ax, WINDOWS)
    ax.set_title("Hebei")
    ax.figure.draw_without_rendering()
    top = max(t.get_window_extent().y1 for a in ax.child_axes for t in a.get_xticklabels())
    assert ax.title.get_window_extent().y0 >= top


def test_region_plot_shades_only_its_windows(daily: Table) -> None:
    ax = plots.plot_collection(daily, region="Hebei", windows=WINDOWS)
    assert set(window_patches(ax)) == {"Hebei pulse"}
    ax = plots.plot_collection(daily, windows=WINDOWS)
    assert set(window_patches(ax)) == {"Hebei pulse", "Guangdong stop"}


def test_baseline_is_a_dashed_grey_line(daily: Table) -> None:
    base = synthetic_daily(seed=2)
    ax = plots.plot_smelting(daily, baseline=base)
    dashed = [ln for ln in ax.get_lines() if ln.get_label() == "no enforcement"]
    assert len(dashed) == 1 and dashed[0].get_linestyle() == "--"
    np.testing.assert_allclose(dashed[0].get_ydata(), expected(base, "smelted", None), rtol=1e-12)


def test_style_is_not_global(daily: Table) -> None:
    import matplotlib as mpl

    before = dict(mpl.rcParams)
    plots.plot_run(fake_result())
    assert dict(mpl.rcParams) == before


def test_plot_run_panels(daily: Table) -> None:
    fig = plots.plot_run(fake_result(daily))
    assert isinstance(fig, Figure)
    main = fig.axes[:5]  # the panels; the twin axes are added after them
    assert len(fig.axes) == 7  # five panels, two twin axes for stocks
    for ax in fig.axes:
        assert has_unit(ax.get_ylabel()), ax.get_ylabel()
        assert isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    for ax in main:
        assert set(window_patches(ax)) == {"Hebei pulse", "Guangdong stop"}
    np.testing.assert_allclose(line(fig.axes[0], "collected")[:, 1],
                               expected(daily, "collected", None), rtol=1e-12)
    assert "3 regions summed" in fig.get_suptitle()


def test_plot_run_writes_png_into_a_directory(tmp_path: Path) -> None:
    plots.plot_run(fake_result(), tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["timeseries.png"]
    png = (tmp_path / "timeseries.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 20_000


def test_plot_run_writes_a_file_path_in_its_suffix(tmp_path: Path) -> None:
    plots.plot_run(fake_result(with_baseline=False), tmp_path / "figure.svg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figure.png", "figure.svg"]


def test_same_run_same_bytes(tmp_path: Path) -> None:
    for name in ("a", "b"):
        plots.plot_run(fake_result(), tmp_path / name, formats=("png", "svg"))
    for kind in ("png", "svg"):
        a = (tmp_path / "a" / f"timeseries.{kind}").read_bytes()
        assert a == (tmp_path / "b" / f"timeseries.{kind}").read_bytes(), kind
    svg = (tmp_path / "a" / "timeseries.svg").read_text()
    assert svg.startswith("<?xml") and "window:Hebei pulse" in svg


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'gif'"):
        plots.plot_run(fake_result(), tmp_path, formats=("gif",))
    assert list(tmp_path.iterdir()) == []


SMALL = {
    "name": "two_regions", "start": "2017-01-01", "end": "2017-03-31", "seed": 3,
    "regions": [
        {"name": "hebei", "generation": 300, "traders": {"count": 40, "capacity": 12},
         "smelters": {"large": {"count": 2, "capacity": 60}, "workshop": {"count": 15, "capacity": 5}}},
        {"name": "shandong", "generation": 250, "traders": {"count": 30, "capacity": 12},
         "smelters": {"large": {"count": 2, "capacity": 60}, "workshop": {"count": 10, "capacity": 5}}},
    ],
    "campaigns": [{"name": "Hebei pulse", "regions": ["hebei"], "start": "2017-02-10",
                   "end": "2017-03-05", "teams": 4}],
}


def test_figure_of_a_real_run(tmp_path: Path) -> None:
    from scrapsim.model.simulation import run
    from scrapsim.scenario import Scenario

    result = run(Scenario.model_validate(SMALL))
    fig = plots.plot_run(result, tmp_path)
    assert (tmp_path / "timeseries.png").read_bytes().startswith(PNG_MAGIC)
    daily, base = result.daily, result.baseline.daily
    collection, smelting, states, prices, pressure = fig.axes[:5]
    days = mdates.date2num(np.unique(daily["date"]))
    for ax, label, column in ((collection, "collected", "collected"),
                              (collection, "trader stock (right)", "trader_stock"),
                              (smelting, "smelted", "smelted"), (prices, "scrap", "scrap_price"),
                              (pressure, "price pressure", "price_pressure")):
        xy = line(ax, label)
        np.testing.assert_array_equal(xy[:, 0], days)
        np.testing.assert_allclose(xy[:, 1], expected(daily, column, None), rtol=1e-12)
    for ax, column in ((collection, "collected"), (smelting, "smelted"), (prices, "scrap_price")):
        np.testing.assert_allclose(line(ax, "no enforcement")[:, 1],
                                   expected(base, column, None), rtol=1e-12)
    top = states.collections[len(plots.STATES) - 1].get_paths()[0].vertices[:, 1].max()
    assert top == 2 + 15 + 2 + 10  # every smelter is in exactly one state
    assert window_patches(pressure) == {"Hebei pulse": (mdates.date2num(date(2017, 2, 10)),
                                                        mdates.date2num(date(2017, 3, 5)))}


def test_shared_y_ranges_do_not_compound(daily: Table) -> None:
    axes = Figure(figsize=(9, 3), layout="constrained").subplots(1, 3, sharey=True)
    tops = []
    for ax in axes:
        plots.plot_states(daily, ax, region="Hebei")
        tops.append(ax.get_ylim()[1])
    assert tops[0] == tops[1] == tops[2]
    assert 40 < tops[0] < 80  # 40 smelters a day, plus room for the legend


def test_legend_can_be_left_out(daily: Table) -> None:
    assert plots.plot_collection(daily).get_legend() is not None
    assert plots.plot_collection(daily, legend=False).get_legend() is None


def test_pressure_range_is_symmetric_and_bounded(daily: Table) -> None:
    ax = plots.plot_pressure(daily, region="Hebei")
    low, high = ax.get_ylim()
    top = np.abs(expected(daily, "price_pressure", "Hebei")).max()
    assert low == -high and top < high <= 1.0
    assert any(list(ln.get_ydata()) == [0, 0] for ln in ax.get_lines())  # the zero line


def test_quantities_start_at_zero_prices_do_not(daily: Table) -> None:
    for plot in (plots.plot_collection, plots.plot_smelting, plots.plot_states):
        ax = plot(daily)
        assert all(a.get_ylim()[0] == 0.0 for a in all_axes(ax)), plot.__name__
    low = plots.plot_prices(daily).get_ylim()[0]
    assert 10_000 < low < expected(daily, "scrap_price", None).min()


@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_run_figure_lays_itself_out(tmp_path: Path, scale: float) -> None:
    """No layout engine (one draw when saving), yet nothing spills off the page or overlaps:
    tick labels as wide as millions, window names stacked in three rows under a two-line
    title."""
    stacked = [(f"campaign {i}", ["Hebei"], date(2017, 2, 10 + i), date(2017, 3, 1))
               for i in range(3)]
    result = fake_result(synthetic_daily(scale=scale))
    result.windows = stacked
    fig = plots.plot_run(result)
    assert fig.get_layout_engine() is None
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    page = fig.bbox
    panels = fig.axes[:5]
    boxes = []
    for ax in panels:
        parts = [ax.get_tightbbox(renderer)] + [a.get_tightbbox(renderer) for a in fig.axes[5:]
                                               if a.bbox.y0 == ax.bbox.y0]
        box = parts[0].union(parts)
        assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1, ax.get_ylabel()
        boxes.append(box)
    for upper, lower in zip(boxes, boxes[1:]):
        assert lower.y1 <= upper.y0 + 1.0  # the top panel's box includes the names above it
    names = [t.get_window_extent(renderer) for a in panels[0].child_axes
             for t in a.get_xticklabels()]
    assert len({round(b.y0) for b in names}) == 3
    title = fig._suptitle.get_window_extent(renderer)
    assert title.y1 <= page.y1 and title.y0 >= max(b.y1 for b in names)


def test_twin_axes_share_their_zero_only_where_that_does_not_stretch_them() -> None:
    from matplotlib.figure import Figure

    from scrapsim.plots.curves import ZERO_LINE, align_zero

    def pair(left, right):
        ax = Figure().subplots()
        twin = ax.twinx()
        for a, lim in ((ax, left), (twin, right)):
            a.axhline(0.0, gid=ZERO_LINE)
            a.set_ylim(*lim)
        return ax, twin

    ax, twin = pair((-0.9, 0.6), (-0.7, 0.3))          # alike: widened a little, zero aligned
    assert align_zero(ax, twin)
    (a0, a1), (b0, b1) = ax.get_ylim(), twin.get_ylim()
    assert a0 <= -0.9 and a1 >= 0.6 and b0 <= -0.7 and b1 >= 0.3
    assert -a0 / (a1 - a0) == pytest.approx(-b0 / (b1 - b0))
    ax, twin = pair((-0.9, 0.6), (-0.75, 0.02))        # aligning would stretch the left 3x
    assert not align_zero(ax, twin)
    assert ax.get_ylim() == (-0.9, 0.6) and twin.get_ylim() == (-0.75, 0.02)
    assert [ln.get_gid() for ln in twin.get_lines()] == []          # one zero line, the left
    assert [ln.get_gid() for ln in ax.get_lines()] == [ZERO_LINE]
