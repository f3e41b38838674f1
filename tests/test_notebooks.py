"""Every notebook in notebooks/ runs from top to bottom without an error.

The parameterised report notebook (12_month_evaluation.ipynb) is left out: the report's own
tests run it through ``build_report`` with its parameters.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
EXCLUDED = {"12_month_evaluation.ipynb"}
TUTORIALS = {
    "tutorial_01_scoring.ipynb",
    "tutorial_02_pre_post.ipynb",
    "tutorial_03_synthetic_methods.ipynb",
}
PATHS = sorted(p for p in NOTEBOOKS.glob("*.ipynb") if p.name not in EXCLUDED)
MAX_BYTES = 1_000_000  # committed notebooks stay small enough to read on GitHub


def test_the_tutorials_are_there():
    assert TUTORIALS <= {p.name for p in PATHS}


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_committed_notebook_is_valid_small_and_error_free(path):
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size:,} bytes"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    errors = [
        (i, out.get("ename"))
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors, f"{path.name} was committed with errors in cells {errors}"


@pytest.mark.slow
@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_notebook_executes(path):
    nb = nbformat.read(path, as_version=4)
    # Run in the notebook's own directory, as a reader would (relative paths to ../examples).
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=300,  # per cell; a whole tutorial takes well under a minute
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError naming the cell and the traceback
    produced = [cell for cell in nb.cells if cell.cell_type == "code" and cell.get("outputs")]
    assert produced, f"{path.name} ran but produced no output at all"


INLINE = Path(__file__).resolve().parent / "notebooks" / "plot_inline.ipynb"


@pytest.mark.slow
def test_result_plot_shows_inline_in_jupyter(monkeypatch):
    # The kernel picks Jupyter's inline backend only when MPLBACKEND is unset (ipykernel's rule);
    # a backend switch inside `import outcomes` would leave the cell without an image.
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = nbformat.read(INLINE, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    images = [out for out in outputs if "image/png" in out.get("data", {})]
    assert len(images) == 1, f"expected one inline image, got outputs {outputs}"
