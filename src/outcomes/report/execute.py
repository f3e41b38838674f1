"""Run the report notebook in this process and write its page from the outputs it recorded.

A Jupyter kernel cost the demo report about half its time: a second interpreter importing the
whole analysis stack again, the checked inputs pickled across, and nbconvert rendering every
output a second time. Here each code cell runs in one namespace of this interpreter, its
outputs are recorded in the notebook exactly as a kernel records them (stdout, stderr,
display data, an error), and the HTML page is those recorded outputs placed in order.

A notebook that does not import IPython (the report's own: its sections show themselves
through :func:`outcomes.report.render.show_html`) runs without IPython at all: its output is
captured by redirecting stdout and stderr and by recording the HTML shown. IPython, its shell
and traitlets cost about 0.05-0.07 s of the demo build. Any other notebook gets IPython's
display machinery as a kernel would give it.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import html
import io
import json
import sys
import tempfile
import traceback
import types
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"


def inject_parameters(nb, params: dict[str, str]) -> None:
    """Insert a cell tagged ``injected-parameters`` after the ``parameters`` cell (papermill's
    convention, so the executed notebook reads as one papermill would have written)."""
    import nbformat

    lines = ["# Parameters"] + [f"{k} = {json.dumps(v)}" for k, v in params.items()]
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = ["injected-parameters"]
    at = next(
        (i + 1 for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])),
        0,
    )
    nb.cells.insert(at, cell)


@contextlib.contextmanager
def _shell() -> Iterator[None]:
    """IPython's display machinery (``display(...)`` needs a shell): the caller's shell when
    there is one (Jupyter), else a private one removed afterwards, with no history, its
    profile folder in a temporary directory and ``__main__`` left alone."""
    from IPython.core.interactiveshell import InteractiveShell

    if InteractiveShell.initialized():
        yield
        return
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    with tempfile.TemporaryDirectory(prefix="outcomes-ipython-") as profile:
        InteractiveShell.instance(
            config=config,
            user_module=types.ModuleType("outcomes_report_notebook"),
            ipython_dir=profile,
        )
        try:
            yield
        finally:
            InteractiveShell.clear_instance()
            sys.modules.pop("outcomes_report_notebook", None)


#: what IPython records as the plain-text form of ``display(HTML(...))``; the light capture
#: records the same, so the executed notebook reads as a kernel would have written it
_HTML_PLAIN = "<IPython.core.display.HTML object>"


class _Shown:
    """One display output: its data by MIME type and its metadata (as IPython's RichOutput)."""

    def __init__(self, data: dict, metadata: dict):
        self.data = data
        self.metadata = metadata


class _Captured:
    """A cell's stdout, stderr and the HTML it showed (as IPython's CapturedIO)."""

    def __init__(self):
        self._out, self._err = io.StringIO(), io.StringIO()
        self.shown: list[str] = []

    @property
    def stdout(self) -> str:
        return self._out.getvalue()

    @property
    def stderr(self) -> str:
        return self._err.getvalue()

    @property
    def outputs(self) -> list[_Shown]:
        return [_Shown({"text/plain": _HTML_PLAIN, "text/html": h}, {}) for h in self.shown]


@contextlib.contextmanager
def _capture_light() -> Iterator[_Captured]:
    """Capture a cell without IPython: stdout and stderr redirected, shown HTML recorded."""
    from . import render

    cap = _Captured()
    previous = render._recording
    render._recording = cap.shown
    try:
        with contextlib.redirect_stdout(cap._out), contextlib.redirect_stderr(cap._err):
            yield cap
    finally:
        render._recording = previous


def _needs_ipython(nb) -> bool:
    """Whether a code cell of ``nb`` imports IPython (its display machinery is then set up), or
    cannot be parsed (it fails when run, with or without IPython)."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            return True
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            if any(m == "IPython" or m.startswith("IPython.") for m in modules):
                return True
    return False


def _outputs(cap, caught: list, error: BaseException | None) -> list:
    """A cell's outputs in notebook form."""
    import nbformat

    outs = []
    if cap.stdout:
        outs.append(nbformat.v4.new_output("stream", name="stdout", text=cap.stdout))
    for rich in cap.outputs:
        # binary data (a PNG) as base64 text, as a kernel sends it
        data = {
            k: base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else v
            for k, v in rich.data.items()
        }
        outs.append(nbformat.v4.new_output("display_data", data=data, metadata=rich.metadata))
    err = cap.stderr + "".join(
        warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line) for w in caught
    )
    if err:
        outs.append(nbformat.v4.new_output("stream", name="stderr", text=err))
    if error is not None:
        tb = traceback.format_exception(type(error), error, error.__traceback__)
        outs.append(
            nbformat.v4.new_output(
                "error", ename=type(error).__name__, evalue=str(error), traceback=tb
            )
        )
    return outs


def execute_in_process(
    nb,
    cwd: Path,
    on_cell_start: Callable[..., None],
    on_cell_executed: Callable[..., None],
) -> dict:
    """Run every code cell of ``nb`` in order in one fresh namespace (working folder ``cwd``),
    recording outputs and execution counts in ``nb``; the first error stops the run and is
    raised after being recorded, as nbclient does. Returns the namespace (what the notebook
    computed, for the build to reuse)."""
    namespace: dict = {"__name__": "__main__"}
    count = 0
    ipython = _needs_ipython(nb)
    # warnings first: importing IPython adds warning filters, which are not the caller's
    with (
        warnings.catch_warnings(),
        _shell() if ipython else contextlib.nullcontext(),
        contextlib.chdir(cwd),
    ):
        if ipython:
            from IPython.utils.capture import capture_output
        else:
            capture_output = _capture_light

        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            count += 1
            on_cell_start(cell=cell, cell_index=index)
            error = None
            with warnings.catch_warnings(record=True) as caught, capture_output() as cap:
                warnings.simplefilter("default")  # a kernel's filters: each warning shown once
                try:
                    exec(compile(cell.source, f"<cell {count}>", "exec"), namespace)
                except Exception as e:
                    error = e
            cell.execution_count = count
            cell.outputs = _outputs(cap, caught, error)
            if error is not None:
                raise error
            on_cell_executed(cell=cell, cell_index=index)
    return namespace


def page_html(nb, title: str) -> str:
    """The self-contained report page: every recorded output but stderr (warnings go to the
    console and the data-quality section) and no code, with the report's stylesheet inline.
    Outputs are placed as recorded, not rendered a second time."""
    parts = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            kind = o.get("output_type")
            if kind == "stream" and o.get("name") == "stdout":
                parts.append(f"<pre>{html.escape(o.get('text', ''))}</pre>")
            elif kind in ("display_data", "execute_result"):
                data = o.get("data", {})
                if "text/html" in data:
                    h = data["text/html"]
                    parts.append(h if isinstance(h, str) else "".join(h))
                elif "image/png" in data:
                    png = data["image/png"]
                    parts.append(f'<figure><img src="data:image/png;base64,{png}"/></figure>')
                elif "text/plain" in data:
                    parts.append(f"<pre>{html.escape(str(data['text/plain']))}</pre>")
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{css}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )
