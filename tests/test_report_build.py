"""The build around the report's sections: the notebook run in this process on the checked
inputs (no second read, no kernel), a progress bar per section, and output that appears whole
or not at all.

Most tests run a small stand-in notebook (the build machinery, not the analyses); the last one
builds the demo report the way `make report` does.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib.image as mpimg
import nbformat
import pytest

import outcomes.report.build as build
from _report_data import DEMO, ROOT, mini_demo
from outcomes.report import ConfigError, ReportBuildError, build_report

CELLS = [
    (
        {"tags": ["parameters"]},
        'config_path = ""\ninputs_path = ""\noutput_dir = "."\nprogramme = ""\n'
        'period_start = ""\nperiod_end = ""\ngenerated = ""',
    ),
    (
        {"section": "Set-up"},
        "import os, pathlib, warnings\n"
        "from outcomes.report.build import open_inputs\n"
        "inputs = open_inputs(inputs_path, config_path)\n"
        "print('notes:', inputs.notes, 'referrals:', len(inputs.tables['referrals']))\n"
        "pathlib.Path(output_dir, 'tables').mkdir(exist_ok=True)\n"
        "pathlib.Path(output_dir, 'tables', 'first.csv').write_text('a\\n1\\n')",
    ),
    (
        {"section": "A figure"},
        "import io\nimport matplotlib.pyplot as plt\nfrom IPython.display import Image, display\n"
        "fig, ax = plt.subplots(figsize=(4, 3)); ax.plot([0, 1, 2], [1, 3, 2])\n"
        "buf = io.BytesIO(); fig.savefig(buf, format='png'); plt.close(fig)\n"
        "display(Image(buf.getvalue()))",
    ),
    (
        {"section": "A warning"},
        "warnings.warn('a planted warning for the console')",
    ),
    (
        {"section": "A section that may fail"},
        "if os.environ.get('OUTCOMES_TEST_FAIL'):\n"
        "    raise RuntimeError('planted failure')\n"
        "pathlib.Path(output_dir, 'tables', 'last.csv').write_text('a\\n2\\n')",
    ),
]


@pytest.fixture(scope="module")
def mini(tmp_path_factory) -> dict:
    return mini_demo(tmp_path_factory.mktemp("mini"), n_referrals=80, per_wave=40)


@pytest.fixture
def stand_in(tmp_path, monkeypatch) -> Path:
    """The stand-in notebook, and a build whose checked inputs carry a mark the notebook shows."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for meta, source in CELLS:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata.update(meta)
        nb.cells.append(cell)
    path = tmp_path / "stand_in.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setattr(build, "notebook_path", lambda: path)
    real = build.load_inputs

    def marked(cfg):
        inputs = real(cfg)
        inputs.notes.append("checked by the build")
        return inputs

    monkeypatch.setattr(build, "load_inputs", marked)
    return path


def _private_folders() -> set[str]:
    return {p for p in os.listdir(tempfile.gettempdir()) if p.startswith("outcomes-report-")}


def test_the_notebook_gets_the_checked_inputs_quietly(mini, stand_in, tmp_path, capfd, monkeypatch):
    # a temporary folder of this test's own: other builds on the machine cannot disturb the count
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    before = _private_folders()
    html = build_report(mini, tmp_path / "report")
    err = capfd.readouterr().err
    assert html == tmp_path / "report" / "12_month_evaluation.html" and html.is_file()
    executed = nbformat.read(tmp_path / "report" / "12_month_evaluation.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    # The object the build checked, not a second read of the files (that has no mark).
    assert "notes: ['checked by the build'] referrals: 80" in printed
    assert "without encryption" not in err  # IPC, not TCP
    for title in ("Set-up", "A figure", "A warning", "A section that may fail"):
        assert title in err  # one progress bar per section
    assert re.search(r"Done in \d+ s \(checking and set-up \d+ s\)", err)
    # The warning is shown on the console (and kept in the executed notebook), not in the HTML.
    assert "a planted warning for the console" in err
    warned = next(c for c in executed.cells if c.metadata.get("section") == "A warning")
    assert "a planted warning for the console" in json.dumps(warned.outputs)
    assert "planted warning" not in html.read_text()
    assert _private_folders() == before  # nothing of the inputs written to a temporary folder


def test_running_in_process_leaves_the_caller_as_it_was(mini, stand_in, tmp_path):
    import gc
    import warnings

    from IPython.core.interactiveshell import InteractiveShell

    main, cwd, filters = sys.modules["__main__"], os.getcwd(), list(warnings.filters)
    collector = (gc.get_threshold(), gc.get_freeze_count(), gc.isenabled())
    build_report(mini, tmp_path / "report", progress=False)
    assert (gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()) == collector
    assert sys.modules["__main__"] is main and os.getcwd() == cwd
    assert list(warnings.filters) == filters
    assert not InteractiveShell.initialized()  # the private shell is gone
    assert build._HANDED == {}  # the handed-over inputs are released


def _recorded(sources: list[str], tmp_path: Path) -> list:
    from outcomes.report.execute import execute_in_process

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    execute_in_process(
        nb, tmp_path, on_cell_start=lambda **_: None, on_cell_executed=lambda **_: None
    )
    return [c.outputs for c in nb.cells]


def test_a_notebook_without_ipython_records_what_ipython_would(tmp_path):
    """The report's notebook runs without IPython (no cell imports it); its outputs are the
    ones IPython's capture records for the same cells (the reference: the same notebook whose
    first cell also imports IPython, which sets up IPython's shell)."""
    cells = [
        "from outcomes.report.render import Section, show_html\nimport sys, warnings",
        "print('to stdout'); print('to stderr', file=sys.stderr)",
        "show_html('<p>shown</p>'); Section('A title').text('Some *text*.').show()",
        "warnings.warn('a planted warning')\nshow_html('<p>after</p>'); print('end')",
    ]
    light = _recorded(cells, tmp_path)
    reference = _recorded(["import IPython\n" + cells[0], *cells[1:]], tmp_path)
    assert light == reference
    assert "IPython.core.interactiveshell" not in json.dumps(light)  # nothing but the outputs
    assert [o["output_type"] for o in light[2]] == ["display_data", "display_data"]
    assert "a planted warning" in light[3][-1]["text"]


def test_a_notebook_run_by_hand_cannot_name_inputs_that_were_not_handed_over():
    with pytest.raises(ReportBuildError, match="run by hand reads the config"):
        build.open_inputs("/tmp/checked_inputs.pickle", "unused.yaml")


def test_figures_are_embedded_in_the_html(mini, stand_in, tmp_path):
    html = build_report(mini, tmp_path / "report", progress=False).read_text()
    pngs = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(pngs) == 1
    img = mpimg.imread(io.BytesIO(base64.b64decode(pngs[0])), format="png")
    assert img.shape[0] > 100 and img.std() > 0


def test_the_executed_notebook_names_its_final_folder(mini, stand_in, tmp_path):
    out = tmp_path / "report"
    build_report(mini, out, progress=False)
    executed = nbformat.read(out / "12_month_evaluation.ipynb", as_version=4)
    injected = next(
        c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])
    )
    assert f'output_dir = "{out}"' in injected.source
    assert 'inputs_path = ""' in injected.source  # re-run by hand: read the config
    assert ".building-" not in injected.source


def test_a_failure_leaves_the_previous_report_untouched(mini, stand_in, tmp_path, monkeypatch):
    out = tmp_path / "report"
    build_report(mini, out, progress=False)
    previous = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    monkeypatch.setenv("OUTCOMES_TEST_FAIL", "1")
    before = _private_folders()
    with pytest.raises(ReportBuildError, match="'A section that may fail'.*planted failure"):
        build_report(mini, out, progress=False)
    now = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert now == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report", "stand_in.ipynb"]
    assert _private_folders() == before


def test_a_failed_first_build_leaves_nothing(mini, stand_in, tmp_path, monkeypatch):
    monkeypatch.setenv("OUTCOMES_TEST_FAIL", "1")
    with pytest.raises(ReportBuildError):
        build_report(mini, tmp_path / "report", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stand_in.ipynb"]  # no partial tables


def test_a_new_report_replaces_the_previous_one_whole(mini, stand_in, tmp_path):
    out = tmp_path / "report"
    (out / "tables").mkdir(parents=True)
    (out / "12_month_evaluation.html").write_text("an older report")
    (out / "tables" / "a_table_no_longer_made.csv").write_text("x\n1\n")
    build_report(mini, out, progress=False)
    assert not (out / "tables" / "a_table_no_longer_made.csv").exists()
    assert sorted(p.name for p in (out / "tables").iterdir()) == ["first.csv", "last.csv"]


def test_a_folder_that_is_not_a_report_is_never_replaced(mini, stand_in, tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    (out / "12_month_evaluation.html").write_text("an older report")
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ReportBuildError, match=r"not a previous report \(it also holds \['notes"):
        build_report(mini, out, progress=False)
    assert (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report", "stand_in.ipynb"]


def test_a_config_problem_writes_nothing(mini, stand_in, tmp_path):
    with pytest.raises(ConfigError, match="gendr"):
        build_report({**mini, "subgroups": ["gendr"]}, tmp_path / "report", progress=False)
    assert not (tmp_path / "report").exists()


def test_a_build_loads_neither_ipython_nor_statsmodels_api(mini, tmp_path):
    """The report's notebook runs without IPython and the fits take statsmodels' models from
    their own modules: neither IPython nor statsmodels.api (about 420 modules) is imported."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps(mini, default=str))
    code = (
        "import json, sys\n"
        "from outcomes.report import build_report\n"
        f"build_report(json.loads(open({str(config)!r}).read()), {str(tmp_path / 'r')!r}, "
        "progress=False)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "outcomes.report.sections.evaluation" in loaded  # the notebook did run
    assert "statsmodels.regression.linear_model" in loaded  # and fitted models
    assert not {m for m in loaded if m == "IPython" or m.startswith("IPython.")}
    assert "statsmodels.api" not in loaded and "statsmodels.formula.api" not in loaded


def test_the_real_notebook_reads_no_file_and_filters_no_warning():
    nb = nbformat.read(ROOT / "notebooks" / "12_month_evaluation.ipynb", as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "open_inputs(inputs_path, config_path)" in code
    for banned in ("filterwarnings", "simplefilter", 'matplotlib.use("Agg")', "from_config"):
        assert banned not in code, banned
    sections = [c.metadata.get("section") for c in nb.cells if c.metadata.get("section")]
    assert len(sections) == len(set(sections)) >= 10


def test_the_demo_report_like_make_report(tmp_path):
    """`make report` runs this command; its last line on stdout is the HTML path."""
    out = tmp_path / "report"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "outcomes.cli", "report", str(DEMO), "--output", str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == str(out / "12_month_evaluation.html")
    assert "without encryption" not in done.stderr
    assert "Done in" in done.stderr
    text = (out / "12_month_evaluation.html").read_text()
    assert len(re.findall(r'src="data:image/png;base64,', text)) >= 5
    assert "Traceback" not in text and "Warning:" not in text
