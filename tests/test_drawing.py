"""Figures drawn in a second process while a report is built (outcomes._internal.drawing).

The promise: the report is the same byte for byte whether figures are drawn here or there;
warnings met while drawing or rendering are recorded where they would have been; a figure or
section that fails fails as it would have (a warning note in its section); the process is
gone when the build ends.
"""

from __future__ import annotations

import re
import time
import warnings
from pathlib import Path

import nbformat
import pandas as pd
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
    """``fig`` handed to the other process and drawn there (waited for, not taken back)."""
    pending = drawer.draw(fig)
    assert isinstance(pending, drawing.Pending)
    assert pending.answered.wait(120), "the drawing process never answered"
    assert pending.sent
    return pending


def test_a_figure_drawn_there_is_the_one_drawn_here(drawer):
    pending = _given(drawer, _figure())
    assert pending.answer[0] == "ok"
    assert pending.result() == drawing.png(_figure())
    assert pending.result() is pending.result()  # drawn once


def test_figures_are_drawn_there_in_the_order_given(drawer):
    titles = [f"figure {k}" for k in range(4)]
    given = [drawer.draw(_figure(t)) for t in titles]
    assert given[-1].answered.wait(120)
    assert all(p.sent and p.answered.is_set() for p in given)
    assert [p.result() for p in given] == [drawing.png(_figure(t)) for t in titles]


def test_a_figure_not_yet_started_there_is_drawn_here(drawer):
    # asked for at once: the process is still starting, so the figure is taken back
    pending = drawer.draw(_figure())
    assert pending.result() == drawing.png(_figure())
    assert not pending.sent and not drawer._waiting
    assert _given(drawer, _figure("later")).result() == drawing.png(_figure("later"))


def test_a_figure_that_cannot_be_drawn_fails_here_as_it_would_have(drawer):
    pending = _given(drawer, _figure(r"$\frac{$"))  # mathtext that does not parse
    assert pending.answer[0] == "error"
    with pytest.raises(ValueError):
        pending.result()
    assert _given(drawer, _figure()).answer[0] == "ok"  # the process lives on


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


def test_a_lost_process_leaves_its_figures_to_be_drawn_here(drawer):
    _given(drawer, _figure())  # started
    drawer._proc.kill()
    pending = drawer.draw(_figure("after"))
    assert pending.answered.wait(60)  # the death is met when the figure is handed over
    assert pending.answer is None
    assert pending.result() == drawing.png(_figure("after"))
    drawer._thread.join(30)
    assert drawer._closed and not drawer._thread.is_alive()
    assert isinstance(drawer.draw(_figure()), bytes)  # and every later one


def test_a_closed_drawer_draws_its_figures_here(drawer):
    pending = drawer.draw(_figure())
    drawer.close()
    assert drawer._proc.returncode is not None and not drawer._thread.is_alive()
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
    """Every figure is drawn in the other process: the build waits for it to be handed over
    rather than taking it back (a small programme's build may otherwise reach its figures
    before the process is ready)."""
    real = drawing.Drawer._answer_for

    def waited(self, job):
        while not job.sent and not self._closed:
            time.sleep(0.005)
        return real(self, job)

    monkeypatch.setattr(drawing.Drawer, "_answer_for", waited)


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
        given.append(out)
        return out

    monkeypatch.setattr(drawing.Drawer, "draw", counted)
    one = _built(mini, tmp_path / "one", monkeypatch, 1)
    assert given == []
    two = _built(mini, tmp_path / "two", monkeypatch, 2)
    assert one == two
    # every figure drawn in the second process
    assert given and all(isinstance(p, drawing.Pending) and p.sent for p in given)


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


# ---------------------------------------------------------------- sections rendered early
def _early(render, rel):
    class Mod:
        pass

    Mod.render = staticmethod(render)
    return evaluation._Rendered.now(Mod, evaluation._Watched(rel), cfg=None)


def test_a_section_rendered_early_is_kept_only_if_it_read_what_it_would_read_later():
    from outcomes.report.release import Release, ReleasedTable

    rel = Release()
    rel.tables["a"] = ReleasedTable("a", pd.DataFrame({"n": [10]}))
    rel.facts["k"] = [1, 2]
    reads_a = _early(lambda r, cfg: (r.get("a"), r.threshold), rel)
    reads_b = _early(lambda r, cfg: r.get("b"), rel)  # not released yet
    looks_k = _early(lambda r, cfg: (r.facts.get("k"), "x" in r.facts, r.failures.get("P")), rel)
    counts = _early(lambda r, cfg: len(r.facts), rel)
    mutates = _early(lambda r, cfg: r.facts.setdefault("z", 1), rel)
    other = _early(lambda r, cfg: r.quality, rel)
    assert "z" not in rel.facts  # a section rendered early changes nothing of the release
    for done in (reads_a, reads_b, looks_k):
        assert done.still_valid(rel)
    for done in (counts, mutates, other):
        assert not done.still_valid(rel)
    rel.tables["b"] = ReleasedTable("b", rel.tables["a"]._frame)  # released later
    rel.facts["k"].append(3)  # changed later
    assert reads_a.still_valid(rel)
    assert not reads_b.still_valid(rel) and not looks_k.still_valid(rel)
    rel.tables["a"] = ReleasedTable("a", rel.tables["a"]._frame)  # released again
    assert not reads_a.still_valid(rel)
    rel.failures["P"] = ["could not be computed"]
    assert not _early(lambda r, cfg: r.failures.get("P"), Release()).still_valid(rel)


def test_a_section_rendered_early_shows_its_warnings_and_error_when_shown():
    from outcomes.report.release import Release

    def failing(r, cfg):
        warnings.warn("early warning", UserWarning, stacklevel=1)
        raise RuntimeError("early failure")

    done = _early(failing, Release())
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        with pytest.raises(RuntimeError, match="early failure"):
            done.shown()
    assert [str(w.message) for w in shown] == ["early warning"]
