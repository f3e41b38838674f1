"""The command line: listing, showing, validating and scoring files; readable failures."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from outcomes.cli import app

runner = CliRunner()
EXAMPLES = "examples/responses"


def test_instruments_list_and_detail():
    res = runner.invoke(app, ["instruments"])
    assert res.exit_code == 0 and "sdq_parent" in res.output
    res = runner.invoke(app, ["instruments", "honosca"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    assert "Royal College of Psychiatrists" in res.output and "scale_13" in res.output
    res = runner.invoke(app, ["instruments", "nope"])
    assert res.exit_code == 1 and "unknown instrument" in res.output


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_score_round_trip_formats(tmp_path, suffix):
    src = tmp_path / f"honosca{suffix}"
    df = pd.read_csv(f"{EXAMPLES}/honosca.csv", dtype={"person_id": str})
    if suffix == ".csv":
        df.to_csv(src, index=False)
    elif suffix == ".xlsx":
        df.to_excel(src, index=False)
    else:
        df.to_parquet(src, index=False)
    out = tmp_path / f"scores{suffix}"
    res = runner.invoke(app, ["score", str(src), "--instrument", "honosca", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "Scored 40 rows of honosca" in res.output
    back = (
        pd.read_parquet(out)
        if suffix == ".parquet"
        else (pd.read_excel(out) if suffix == ".xlsx" else pd.read_csv(out))
    )
    assert len(back) == 40 and {"person_id", "total", "total_n"} <= set(back.columns)


def test_validate_exit_codes(tmp_path):
    res = runner.invoke(app, ["validate", f"{EXAMPLES}/swemwbs.csv", "-i", "swemwbs"])
    assert res.exit_code == 0 and "no problems found" in res.output
    bad = tmp_path / "bad.csv"
    df = pd.read_csv(f"{EXAMPLES}/swemwbs.csv")
    df.loc[3, "q2"] = 7
    df.to_csv(bad, index=False)
    res = runner.invoke(app, ["validate", str(bad), "-i", "swemwbs"], env={"COLUMNS": "200"})
    assert res.exit_code == 1
    assert "out of range" in res.output and "q2" in res.output


def test_cells_and_names_with_brackets_are_printed_as_they_are(tmp_path):
    # rich markup read "[dont know]" as a style and dropped it from the table of bad cells,
    # and "[/x]" stopped the command with a MarkupError traceback
    bad = tmp_path / "brackets[v2].csv"
    df = pd.read_csv(f"{EXAMPLES}/swemwbs.csv").head(3).astype({"q1": object})
    df.loc[0, "q1"], df.loc[1, "q1"] = "[dont know]", "[/x]"
    df.to_csv(bad, index=False)
    res = runner.invoke(app, ["validate", str(bad), "-i", "swemwbs"], env={"COLUMNS": "200"})
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit), res.output
    assert "'[dont know]'" in res.output and "'[/x]'" in res.output
    res = runner.invoke(app, ["validate", str(tmp_path / "none[/x].csv"), "-i", "swemwbs"])
    assert res.exit_code == 1 and "none[/x].csv" in res.output
    # styles given as Text still style, and no markup is printed as text
    res = runner.invoke(app, ["instruments", "honosca"], env={"COLUMNS": "200"})
    assert res.exit_code == 0 and "[bold]" not in res.output and "[/]" not in res.output


def test_the_builds_warnings_are_printed_as_they_are(capsys):
    from outcomes.report.build import _print_warnings, _Progress

    nb = {"cells": [{"metadata": {"section": "Waits [/x]"}, "outputs": [
        {"output_type": "stream", "name": "stderr", "text": "3 rows [dont know] left out"}]}]}  # fmt: skip
    _print_warnings(type("NB", (), {"cells": nb["cells"]})(), _Progress(True))
    err = capsys.readouterr().err
    assert "in Waits [/x]: 3 rows [dont know] left out" in " ".join(err.split())


def test_score_bad_input_is_a_table_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.csv"
    df = pd.read_csv(f"{EXAMPLES}/swemwbs.csv")
    df["q2"] = df["q2"].astype(object)
    df.loc[5, "q2"] = "sometimes"
    df.to_csv(bad, index=False)
    res = runner.invoke(
        app,
        ["score", str(bad), "-i", "swemwbs", "-o", str(tmp_path / "o.csv")],
        env={"COLUMNS": "200"},
    )
    assert res.exit_code == 1
    assert (
        "Traceback" not in res.output
        and "sometimes" in res.output
        and "unknown label" in res.output
    )
    assert not (tmp_path / "o.csv").exists()
    res = runner.invoke(
        app, ["score", str(bad), "-i", "swemwbs", "-o", str(tmp_path / "o.csv"), "--flag"]
    )
    assert (
        res.exit_code == 0 and (tmp_path / "o.csv").exists() and "1 issue(s) recorded" in res.output
    )
    # --raise, the one option's other half (every command that can stop takes both), is the
    # default: it stops as above
    (tmp_path / "o.csv").unlink()
    res = runner.invoke(
        app, ["score", str(bad), "-i", "swemwbs", "-o", str(tmp_path / "o.csv"), "--raise"]
    )
    assert res.exit_code == 1 and "unknown label" in res.output
    assert not (tmp_path / "o.csv").exists()


def test_every_command_that_can_stop_takes_flag_and_raise():
    for args in (["score"], ["forms", "import"], ["change"]):
        res = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "200"})
        assert res.exit_code == 0 and "--flag" in res.output and "--raise" in res.output, args


def test_missing_file_missing_columns_and_mapping(tmp_path):
    res = runner.invoke(
        app, ["score", str(tmp_path / "none.csv"), "-i", "swemwbs", "-o", str(tmp_path / "o.csv")]
    )
    assert res.exit_code == 1 and "no such file" in res.output
    src = tmp_path / "renamed.csv"
    pd.read_csv(f"{EXAMPLES}/swemwbs.csv").rename(columns={"q1": "optimistic"}).to_csv(
        src, index=False
    )
    res = runner.invoke(app, ["score", str(src), "-i", "swemwbs", "-o", str(tmp_path / "o.csv")])
    assert res.exit_code == 1 and "missing: ['q1']" in res.output
    res = runner.invoke(
        app,
        [
            "score",
            str(src),
            "-i",
            "swemwbs",
            "-o",
            str(tmp_path / "o.csv"),
            "--map",
            "optimistic=q1",
        ],
    )
    assert res.exit_code == 0, res.output


def test_score_with_labels_and_coding(tmp_path):
    res = runner.invoke(
        app,
        ["score", f"{EXAMPLES}/sdq_parent.csv", "-i", "sdq_parent", "-o", str(tmp_path / "s.csv")],
    )
    assert res.exit_code == 0, res.output
    src = tmp_path / "esq.csv"
    pd.DataFrame({f"q{i}": [1, 2, 3] for i in range(1, 13)}).to_csv(src, index=False)
    res = runner.invoke(
        app,
        [
            "score",
            str(src),
            "-i",
            "chi_esq_parent",
            "-o",
            str(tmp_path / "e.csv"),
            "--coding",
            "mhsds",
        ],
    )
    assert res.exit_code == 0, res.output
    assert pd.read_csv(tmp_path / "e.csv")["satisfaction_care"].tolist() == [2.0, 1.0, 0.0]
