"""Build the 12-month evaluation report: check everything, run the parameterised notebook,
and write one self-contained HTML file (no code), the executed notebook and every table."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from .._internal.params import POSITIVE_COUNT, HasMethods, validate_params
from .config import EvaluationConfig, load_config
from .inputs import load_inputs

NOTEBOOK_NAME = "12_month_evaluation.ipynb"
TEMPLATES = Path(__file__).parent / "templates"


def notebook_path() -> Path:
    """The report notebook: shipped inside the package, or the repository's notebooks/."""
    packaged = Path(__file__).parent / NOTEBOOK_NAME
    if packaged.is_file():
        return packaged
    repo = Path(__file__).resolve().parents[3] / "notebooks" / NOTEBOOK_NAME
    if repo.is_file():
        return repo
    raise FileNotFoundError(f"{NOTEBOOK_NAME} not found in the package or the repository")


def _progress_printer(stream=sys.stderr) -> Callable:
    def hook(cell, cell_index, **_):
        title = cell.get("metadata", {}).get("section")
        if title:
            print(f"  - {title}", file=stream, flush=True)

    return hook


def to_html(nb) -> str:
    """The executed notebook as one self-contained HTML page without code cells."""
    from nbconvert import HTMLExporter  # heavy: imported only when a report is built

    exporter = HTMLExporter(
        template_name="outcomes_report",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(nb)
    return body


@validate_params(
    {
        "config": ["path", Mapping, HasMethods(["model_dump"], "an EvaluationConfig")],
        "output_dir": "path",
        "progress": "boolean",
        "timeout": POSITIVE_COUNT,
    }
)
def build_report(
    config: str | Path | dict | EvaluationConfig,
    output_dir: str | Path,
    *,
    progress: bool = True,
    timeout: int = 900,
) -> Path:
    """Build the report and return the path of its HTML file.

    The config and every input table are checked first (all problems listed at once, before
    any analysis). The notebook ``12_month_evaluation.ipynb`` is then parameterised with
    papermill and executed; the executed notebook, the HTML report and a CSV of every
    published table are written to ``output_dir``.

    Example:
        Every problem is reported before anything runs:

        >>> import outcomes as oc
        >>> cfg = {"programme": "Demo", "period": {"start": "2025-09-01", "end": "2026-08-31"},
        ...        "data_dir": "/nonexistent", "tables": {"referrals": "referrals.csv"}}
        >>> try:
        ...     oc.build_report(cfg, "build/never", progress=False)
        ... except oc.report.ConfigError as err:
        ...     print(err.problems[0])
        referrals: file not found: /nonexistent/referrals.csv

        and a real build returns the path of the HTML file (about a minute):

        >>> oc.build_report("examples/demo_evaluation.yaml", "build/report")  # doctest: +SKIP
        PosixPath('.../build/report/12_month_evaluation.html')
    """
    # Jupyter machinery is imported here, not at import time: `import outcomes` stays fast.
    import nbformat
    from nbclient import NotebookClient
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    cfg = load_config(config)
    out = Path(output_dir).resolve()
    say = (lambda msg: print(msg, file=sys.stderr, flush=True)) if progress else (lambda msg: None)
    say(f"Checking the config and {len(cfg.input_files())} input table(s) ...")
    load_inputs(cfg)  # raises ConfigError listing every problem; nothing has run or been written
    out.mkdir(parents=True, exist_ok=True)
    if not cfg.disclosure.enabled:
        say("WARNING: disclosure control is switched off: this report must not be published.")

    config_json = out / "config.json"
    payload = cfg.model_dump(mode="json", exclude={"source"})
    payload["data_dir"] = str(cfg.base_dir)  # absolute, so the notebook can run anywhere
    config_json.write_text(json.dumps(payload, indent=2))

    nb = load_notebook_node(str(notebook_path()))
    nb = parameterize_notebook(
        nb,
        {
            "config_path": str(config_json),
            "output_dir": str(out),
            "programme": cfg.programme,
            "period_start": cfg.period.start.isoformat(),
            "period_end": cfg.period.end.isoformat(),
            "generated": dt.datetime.now().strftime("%d %B %Y %H:%M"),
        },
    )
    say("Running the analysis, section by section:")
    t0 = time.perf_counter()
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=timeout,
        resources={"metadata": {"path": str(out)}},
        on_cell_start=_progress_printer() if progress else None,
    )
    client.execute()
    executed = out / NOTEBOOK_NAME
    nbformat.write(nb, executed)
    html = out / "12_month_evaluation.html"
    html.write_text(to_html(nb), encoding="utf-8")
    say(f"Done in {time.perf_counter() - t0:.0f} s.")
    return html
