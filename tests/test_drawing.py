"""Figures drawn in a second process while a report is built (outcomes._internal.drawing).

The promise: the report is the same byte for byte whether figures are drawn here or there;
warnings met while drawing or rendering are recorded where they would have been; a figure or
section that fails fails as it would have (a warning note in its section); the process is
gone when the build ends.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import nbformat
import pytest
from matplotlib.figure import Figure as MplFigure

from _report_data import mini_demo
from outcomes._internal import drawing, threads
from outcomes.report import build_report
from outcomes.report.sections import evaluation, reach


def _figure(title: str = "Referrals by month") -> MplFigure:
    fig = MplFigure(figsize=(5, 3))
    ax = fig.add_subplot()
    ax.plot(range(12), [k % 5 for k in range(12)], marker="o", label="referrals")
    ax.bar(range(12), [k % 3 for k in range(12)], label="decided")
    ax.set_title(title)
    ax.set_xlabel("Month")
    ax.set_ylabel("Referrals")
    ax.legend()
    return fig


@pytest.fixture
def drawer():
    d = drawing.Drawer()
    try:
        yield d
    finally:
        d.close()


def _given(drawer: drawing.Drawer, fig) -> drawing.Pending:
    """``fig`` handed to the other process (waiting until it is ready for it)."""
    for _ in range(6000):
        if drawer.idle():
            break
        drawer._take_one(block=True)
    pending = drawer.draw(fig)
    assert isinstance(pending, drawing.Pending), "the drawing process never became ready"
    return pending


def test_a_figure_drawn_there_is_the_one_drawn_here(drawer):
    pending = _given(drawer, _figure())
    assert pending.result() == drawing.png(_figure())
    assert pending.result() is pending.result()  # drawn once
    assert drawer.idle()


def test_a_figure_that_cannot_be_drawn_fails_here_as_it_would_have(drawer):
    pending = _given(drawer, _figure(r"$\frac{$"))  # mathtext that does not parse
    with pytest.raises(ValueError):
        pending.result()
    assert drawer.idle()  # the process lives on


def test_warnings_met_there_are_raised_here(drawer):
    title = "Referrals \u0905"  # a letter the default font lacks: matplotlib warns when drawing
    with warnings.catch_warnings(record=True) as here:
        warnings.simplefilter("always")
        expected = drawing.png(_figure(title))
    assert here, "the planted warning is not raised by this matplotlib"
    pending = _given(drawer, _figure(title))
    with warnings.catch_warnings(record=True) as there:
        warnings.simplefilter("always")
        assert pending.result() == expected
    assert {str(w.message) for w in there} == {str(w.message) for w in here}


def test_a_lost_process_leaves_the_figure_to_be_drawn_here(drawer):
    pending = _given(drawer, _figure())
    drawer._proc.kill()
    drawer._proc.wait()
    assert pending.result() == drawing.png(_figure())
    assert not drawer.idle()
    assert isinstance(drawer.draw(_figure()), bytes)  # and every later one


def test_a_closed_drawer_draws_nothing_more_there(drawer):
    pending = _given(drawer, _figure())
    drawer.close()
    assert drawer._proc.returncode is not None
    assert pending.result() == drawing.png(_figure())


def test_one_core_means_no_second_process(monkeypatch):
    monkeypatch.setattr(threads, "threads", 1)
    with drawing.parallel() as d:
        assert d is None and drawing.active() is None
        assert isinstance(drawing.draw(_figure()), bytes)


def test_parallel_stops_its_process(monkeypatch):
    monkeypatch.setattr(threads, "threads", 2)
    with drawing.parallel() as d:
        assert d is not None and drawing.active() is d
        with drawing.parallel() as inner:  # nested: the same one
            assert inner is d
    assert drawing.active() is None and d._proc.returncode is not None


# ---------------------------------------------------------------- the report built both ways
@pytest.fixture(scope="module")
def mini(tmp_path_factory) -> dict:
    return mini_demo(tmp_path_factory.mktemp("mini_drawing"), n_referrals=120, per_wave=60)


@pytest.fixture
def patient(monkeypatch):
    """Every figure waits for the other process to be idle and goes there (a build of a small
    programme may otherwise finish its figures before that process is ready)."""
    real = drawing.Drawer.idle

    def waited(self):
        while not real(self) and not self._closed:
            self._take_one(block=True)
        return real(self)

    monkeypatch.setattr(drawing.Drawer, "idle", waited)


def _built(cfg, out: Path, monkeypatch, cores: int) -> tuple[str, dict]:
    monkeypatch.setattr(threads, "threads", cores)
    html = build_report(cfg, out, progress=False).read_text(encoding="utf-8")
    tables = {p.name: p.read_bytes() for p in (out / "tables").iterdir()}
    return re.sub(r"Generated [^<]*", "", html), tables


def test_the_report_is_the_same_drawn_in_one_process_or_two(mini, tmp_path, monkeypatch, patient):
    given = []
    real = drawing.Drawer.draw

    def counted(self, fig):
        out = real(self, fig)
        given.append(isinstance(out, drawing.Pending))
        return out

    monkeypatch.setattr(drawing.Drawer, "draw", counted)
    one = _built(mini, tmp_path / "one", monkeypatch, 1)
    assert given == []
    two = _built(mini, tmp_path / "two", monkeypatch, 2)
    assert one == two
    assert given and all(given)  # every figure drawn in the second process


def test_a_section_rendered_ahead_warns_and_fails_where_it_is_shown(mini, tmp_path, monkeypatch):
    real = reach.render

    def planted(rel, cfg):
        warnings.warn("a planted warning from the reach section", UserWarning, stacklevel=1)
        real(rel, cfg)
        raise RuntimeError("planted reach failure")

    monkeypatch.setattr(reach, "render", planted)
    monkeypatch.setattr(threads, "threads", 2)
    out = tmp_path / "report"
    html = build_report(mini, out, progress=False).read_text(encoding="utf-8")
    assert "This section could not be shown: planted reach failure" in html
    nb = nbformat.read(out / "12_month_evaluation.ipynb", as_version=4)
    warned = [
        c.metadata.get("section")
        for c in nb.cells
        if "a planted warning from the reach section" in str(c.get("outputs", []))
    ]
    assert warned == ["Reach"]


def test_a_figure_that_fails_there_and_here_is_a_note_in_its_section(
    mini, tmp_path, monkeypatch, patient
):
    def failed(self):
        raise RuntimeError("planted drawing failure")

    monkeypatch.setattr(drawing.Pending, "result", failed)
    monkeypatch.setattr(threads, "threads", 2)
    html = build_report(mini, tmp_path / "report", progress=False).read_text(encoding="utf-8")
    assert "This section could not be shown: planted drawing failure" in html


def test_the_report_order_is_the_notebook_order(mini, tmp_path):
    from outcomes.report.build import load_inputs
    from outcomes.report.config import load_config

    ev = evaluation.Evaluation(load_inputs(load_config(mini)), tmp_path / "ev")
    shown = [f().anchor for f in ev.all_sections()]
    assert shown == [m.ANCHOR for m in evaluation.REPORT_ORDER]
