"""Build the 12-month evaluation report: check everything once, run the parameterised notebook
on the checked inputs, and write one self-contained HTML file (no code), the executed notebook
and every table, into place only when all of it is complete."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from .._internal import drawing
from .._internal.params import HasMethods, validate_params
from ..errors import OutcomesError
from .config import EvaluationConfig, load_config
from .export import parse_formats, write_docx, write_pdf
from .inputs import Inputs, load_inputs

NOTEBOOK_NAME = "12_month_evaluation.ipynb"
HTML_NAME = "12_month_evaluation.html"
PDF_NAME = "12_month_evaluation.pdf"
DOCX_NAME = "12_month_evaluation.docx"


class ReportBuildError(OutcomesError):
    """The notebook failed while the report was built; nothing was written to the output."""


def notebook_path() -> Path:
    """The report notebook: shipped inside the package, or the repository's notebooks/."""
    packaged = Path(__file__).parent / NOTEBOOK_NAME
    if packaged.is_file():
        return packaged
    repo = Path(__file__).resolve().parents[3] / "notebooks" / NOTEBOOK_NAME
    if repo.is_file():
        return repo
    raise FileNotFoundError(f"{NOTEBOOK_NAME} not found in the package or the repository")


#: checked inputs handed by :func:`build_report` to the notebook it runs in this process,
#: under the token given to the notebook as ``inputs_path`` (removed when the build ends)
_HANDED: dict[str, Inputs] = {}


def open_inputs(inputs_path: str | Path | None, config_path: str | Path) -> Inputs:
    """The checked inputs handed over by :func:`build_report`, or (a notebook opened by hand,
    ``inputs_path`` empty) the inputs read and checked from the config.

    Example:
        >>> open_inputs("", "examples/demo_evaluation.yaml").waves["staff_survey"]  # doctest: +SKIP
        ['baseline', '12m']
    """
    if inputs_path:
        inputs = _HANDED.get(str(inputs_path))
        if inputs is None:
            raise ReportBuildError(
                f"{inputs_path!r} names no checked inputs: a notebook run by hand reads the "
                'config (set inputs_path = "")'
            )
        return inputs
    return load_inputs(load_config(config_path))


#: what a build writes; a folder holding only these (or nothing) is a previous report
REPORT_ENTRIES = {
    HTML_NAME,
    PDF_NAME,
    DOCX_NAME,
    NOTEBOOK_NAME,
    "config.json",
    "tables",
    "for_review",
    "schools",
}


def _is_previous_report(folder: Path) -> bool:
    """Empty, or holding only what a build writes (a partial output of an older version too):
    such a folder may be replaced whole; anything else is the user's and is never touched."""
    return folder.is_dir() and all(p.name in REPORT_ENTRIES for p in folder.iterdir())


def _move_into_place(built: Path, out: Path) -> None:
    """Replace ``out`` by ``built`` (same file system: renames, so a reader never meets a
    half-written folder); a previous report is removed only once the new one is in place."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.previous-", dir=out.parent))
        old.rmdir()
        out.rename(old)
    try:
        built.rename(out)
    except OSError:
        if old is not None:
            old.rename(out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


class _Progress:
    """A rich progress bar per section of the notebook (on stderr), or nothing."""

    # The bar is redrawn by a thread of rich's; the notebook's stdout is captured meanwhile.

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.tasks: dict[int, int] = {}
        if enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self.console = Console(stderr=True)
            self.bar = Progress(
                SpinnerColumn(finished_text="[green]done[/]"),
                TextColumn("{task.description:<32}"),
                BarColumn(),
                TimeElapsedColumn(),
                console=self.console,
            )

    def say(self, message: str) -> None:
        if self.enabled:
            self.console.print(message, highlight=False, soft_wrap=True)

    def __enter__(self) -> _Progress:
        if self.enabled:
            self.bar.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self.bar.stop()

    def cell_started(self, cell, cell_index, **_) -> None:
        title = cell.get("metadata", {}).get("section")
        if self.enabled and title:
            self.tasks[cell_index] = self.bar.add_task(title, total=1)

    def cell_finished(self, cell, cell_index, **_) -> None:
        if self.enabled and cell_index in self.tasks:
            self.bar.update(self.tasks[cell_index], completed=1)


def _failure(nb, err: Exception) -> ReportBuildError:
    """The section that failed and the error, without the notebook's traceback noise."""
    section = "the set-up"
    for cell in nb.cells:
        title = cell.get("metadata", {}).get("section")
        if title:
            section = title
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            err_out = next(o for o in cell.outputs if o.get("output_type") == "error")
            return ReportBuildError(
                f"the report could not be built: section {section!r} failed with "
                f"{err_out.get('ename')}: {err_out.get('evalue')}. Nothing was written; "
                "a previous report in the output folder is left as it was."
            )
    return ReportBuildError(
        f"the report could not be built: {type(err).__name__}: {err}. Nothing was written; "
        "a previous report in the output folder is left as it was."
    )


@validate_params(
    {
        "config": ["path", Mapping, HasMethods(["model_dump"], "an EvaluationConfig")],
        "output_dir": "path",
        "progress": "boolean",
        "per_school": "boolean",
        "formats": [str, list, tuple],
    }
)
def build_report(
    config: str | Path | dict | EvaluationConfig,
    output_dir: str | Path,
    *,
    progress: bool = True,
    per_school: bool = False,
    formats: str | list[str] | tuple[str, ...] = "html",
) -> Path:
    """Build the report and return the path of its HTML file.

    The config and every input table are checked first, once (all problems listed at once,
    before any analysis: :class:`ConfigError`). The notebook ``12_month_evaluation.ipynb`` is
    then parameterised and executed in this process on those checked inputs; the executed
    notebook, the HTML report and a CSV of every published table are written to a temporary
    folder that replaces ``output_dir`` only when everything is complete. If anything fails,
    :class:`ReportBuildError` names the section and a previous report is left untouched.
    ``per_school=True`` also writes ``schools/``: one disclosure-controlled page per programme
    school and ``schools/index.html`` (:mod:`outcomes.report.packs`).

    ``formats`` (``"html,pdf,docx"`` or a list) adds a PDF (headless Chromium's print of the
    HTML) and a Word file (its sections, tables and figures) beside the HTML, which is
    always written: both are made from it, so all three publish the same release.

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

        and a real build returns the path of the HTML file (a few seconds):

        >>> oc.build_report("examples/demo_evaluation.yaml", "build/report")  # doctest: +SKIP
        PosixPath('.../build/report/12_month_evaluation.html')
    """
    t0 = time.perf_counter()
    wanted = parse_formats(formats)
    cfg = load_config(config)
    out = Path(output_dir).resolve()
    if out.exists() and not _is_previous_report(out):
        # The folder is replaced as a whole, so it must be empty or hold a previous report.
        foreign = sorted(p.name for p in out.iterdir() if p.name not in REPORT_ENTRIES)
        raise ReportBuildError(
            f"{out} exists and is not a previous report (it also holds {foreign[:3]}); "
            "choose a new or empty output folder"
        )
    with _fewer_collections():
        return _build(cfg, out, t0, wanted, progress=progress, per_school=per_school)


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Python's cyclic garbage collector runs less often while a report is built (restored after).

    The build creates millions of small objects (pandas frames, release tables); with the
    default thresholds the collector walked the whole heap, the imported libraries included,
    several hundred times per demo report (about 8% of its time). Objects that exist before the
    build are frozen out of collection meanwhile; nothing is kept alive that would be freed."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _build(
    cfg: EvaluationConfig,
    out: Path,
    t0: float,
    wanted: tuple[str, ...],
    *,
    progress: bool,
    per_school: bool,
) -> Path:
    """The build proper (see :func:`build_report`), on a loaded config."""

    show = _Progress(progress)
    show.say(f"Checking the config and {len(cfg.input_files())} input table(s) ...")
    inputs = load_inputs(cfg)  # raises ConfigError listing every problem; nothing written yet
    if not cfg.disclosure.enabled:
        show.say(
            "[bold red]WARNING:[/] disclosure control is switched off: this report must not be published."
        )

    # Notebook machinery is imported here, not at import time: `import outcomes` stays fast.
    import nbformat

    from .execute import execute_in_process, inject_parameters, page_html

    out.parent.mkdir(parents=True, exist_ok=True)
    # Built beside its destination (same file system, so moving it into place is a rename).
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    # The notebook runs in this process on the checked inputs, handed over in memory under a
    # token (never written to disk): it never reads or checks the input files a second time.
    token = f"checked inputs of build {id(inputs):x}-{time.monotonic_ns():x}"
    _HANDED[token] = inputs
    try:
        payload = cfg.model_dump(mode="json", exclude={"source"})
        payload["data_dir"] = str(cfg.base_dir)  # absolute, so the notebook can run anywhere
        (work / "config.json").write_text(json.dumps(payload, indent=2))

        nb = nbformat.read(notebook_path(), as_version=4)
        inject_parameters(
            nb,
            {
                "config_path": str(work / "config.json"),
                "inputs_path": token,
                "output_dir": str(work),
                "programme": cfg.programme,
                "period_start": cfg.period.start.isoformat(),
                "period_end": cfg.period.end.isoformat(),
                "generated": dt.datetime.now().strftime("%d %B %Y %H:%M"),
            },
        )
        t_setup = time.perf_counter() - t0
        show.say(f"Checked in {t_setup:.1f} s. Running the analysis, section by section:")
        try:
            # figures drawn meanwhile in a second process where there are cores for it; it
            # starts now so that it is warmed up when the first section's analyses are done
            with show, drawing.parallel():
                namespace = execute_in_process(
                    nb, work, on_cell_start=show.cell_started, on_cell_executed=show.cell_finished
                )
        except Exception as e:
            raise _failure(nb, e) from None
        _point_parameters_at(nb, work, out)
        nbformat.write(nb, work / NOTEBOOK_NAME)
        html_text = page_html(nb, cfg.programme)
        (work / HTML_NAME).write_text(html_text, encoding="utf-8")
        if per_school:
            from .packs import PACKS_DIR, write_packs
            from .sections import Evaluation

            show.say("Writing the per-school packs ...")
            ev = namespace.get("ev")
            if isinstance(ev, Evaluation) and ev.inputs is inputs:
                # the notebook's evaluation: its release (already published) is not computed again
                write_packs(ev, work / PACKS_DIR)
            else:  # a notebook edited by hand: the main release again, its CSVs kept private
                with tempfile.TemporaryDirectory(prefix="outcomes-report-") as private:
                    write_packs(Evaluation(inputs, Path(private) / "main"), work / PACKS_DIR)
        if "pdf" in wanted:
            show.say("Printing the PDF with headless Chromium ...")
            write_pdf(work / HTML_NAME, work / PDF_NAME)
        if "docx" in wanted:
            show.say("Writing the Word file ...")
            write_docx(html_text, work / DOCX_NAME)
        _move_into_place(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        _HANDED.pop(token, None)
    _print_warnings(nb, show)
    show.say(f"Done in {time.perf_counter() - t0:.0f} s (checking and set-up {t_setup:.0f} s).")
    return out / HTML_NAME


def _point_parameters_at(nb, work: Path, out: Path) -> None:
    """The executed notebook names its final folder, and reads the config when re-run by hand
    (the checked inputs handed over in memory are gone by then)."""
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            lines = [
                'inputs_path = ""' if line.startswith("inputs_path =") else line
                for line in cell.source.replace(str(work), str(out)).splitlines()
            ]
            cell.source = "\n".join(lines)


def _print_warnings(nb, show: _Progress) -> None:
    """Warnings the notebook wrote (kept in the executed notebook) shown on the console."""
    from rich.markup import escape

    for cell in nb.cells:
        title = cell.get("metadata", {}).get("section", "")
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream" and o.get("name") == "stderr":
                # the section's title and the warning's text escaped: "[/x]" in either would
                # stop the build here with a markup error, and "[dont know]" would vanish
                where = escape(title or "the set-up")
                show.say(f"[yellow]warning[/] in {where}: {escape(o.get('text', '').strip())}")
