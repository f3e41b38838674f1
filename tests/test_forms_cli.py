"""The ``forms`` sub-command: export and import from the command line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from outcomes.cli.forms import forms_app

# Long WCS field names are warned about once, in test_forms_export.py.
pytestmark = pytest.mark.filterwarnings("ignore::outcomes.forms.LongFieldNameWarning")

runner = CliRunner()


def test_export_each_target(tmp_path: Path) -> None:
    for to, name in [
        ("redcap", "dd.csv"),
        ("xlsform", "f.xlsx"),
        ("html", "p.html"),
        ("codebook", "cb.md"),
    ]:
        out = tmp_path / name
        res = runner.invoke(forms_app, ["export", "honosca", "swemwbs", "--to", to, "-o", str(out)])
        assert res.exit_code == 0, res.output
        assert out.is_file() and out.stat().st_size > 0
    d = pd.read_csv(tmp_path / "dd.csv", dtype=str)
    assert {"honosca_q1", "swemwbs_q1"} <= set(d["Variable / Field Name"])


def test_export_short_prefix(tmp_path: Path) -> None:
    out = tmp_path / "dd.csv"
    res = runner.invoke(
        forms_app,
        [
            "export",
            "workforce_confidence",
            "--to",
            "redcap",
            "-o",
            str(out),
            "--prefix",
            "workforce_confidence=wcs",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "wcs_q1" in set(pd.read_csv(out, dtype=str)["Variable / Field Name"])


def test_export_errors_exit_nonzero(tmp_path: Path) -> None:
    res = runner.invoke(forms_app, ["export", "honosca", "--to", "pdf", "-o", str(tmp_path / "x")])
    assert res.exit_code == 1 and "parameter 'to'" in res.output
    res = runner.invoke(
        forms_app, ["export", "nope", "--to", "redcap", "-o", str(tmp_path / "x.csv")]
    )
    assert res.exit_code == 1 and "unknown instrument 'nope'" in res.output


def test_import_writes_responses_and_prints_mapping(tmp_path: Path) -> None:
    src = tmp_path / "redcap.csv"
    pd.DataFrame(
        {
            "record_id": ["1", "2"],
            **{f"swemwbs_q{i}": ["Rarely", "5"] for i in range(1, 8)},
            "swemwbs_complete": ["2", "2"],
        }
    ).to_csv(src, index=False)
    out = tmp_path / "responses.csv"
    res = runner.invoke(
        forms_app,
        ["import", str(src), "--instrument", "swemwbs", "-o", str(out), "--person-id", "record_id"],
    )
    assert res.exit_code == 0, res.output
    assert "7 column(s) matched" in res.output and "swemwbs_q1" in res.output
    df = pd.read_csv(out)
    assert df["q1"].tolist() == [2, 5] and df["person_id"].tolist() == [1, 2]


def test_import_bad_label_exits_with_message(tmp_path: Path) -> None:
    src = tmp_path / "t.csv"
    pd.DataFrame({f"q{i}": ["Sometimes"] for i in range(1, 8)}).to_csv(src, index=False)
    out = tmp_path / "r.csv"
    res = runner.invoke(forms_app, ["import", str(src), "-i", "swemwbs", "-o", str(out)])
    assert res.exit_code == 1
    assert "'Sometimes'" in res.output and not out.exists()
    res = runner.invoke(forms_app, ["import", str(src), "-i", "swemwbs", "-o", str(out), "--flag"])
    assert res.exit_code == 0 and "7 unreadable cell(s)" in res.output
    res = runner.invoke(
        forms_app, ["import", str(src), "-i", "swemwbs", "-o", str(out), "--map", "x"]
    )
    assert res.exit_code == 2
