"""Issue 13 item 8: the command line speaks command line.

Messages name --flag, --map and --coding (never errors='flag' or columns={...}); --flag writes
the issues beside the output and says where; rows are the ones a person sees in the file: the
CSV line number, or the Excel row with the header rows counted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pandas as pd
from typer.testing import CliRunner

from outcomes._internal.file_rows import csv_record_lines
from outcomes._internal.vocabulary import for_command_line
from outcomes.cli import app

runner = CliRunner()
PYTHON_WORDS = re.compile(r"errors=|columns=|coding=|person_id=|(?<!\w)\.issues\b|keep=")


def _swemwbs_csv(path: Path) -> Path:
    # Line 1 header; line 2 child a; lines 3-4 child "b" (a quoted id with a line break);
    # line 5 blank (pandas skips it); line 6 child c with q3 = 9 (not a SWEMWBS code);
    # line 7 child d with q7 = "x".
    path.write_text(
        "person_id,q1,q2,q3,q4,q5,q6,q7\n"
        "a,1,2,3,4,5,1,2\n"
        '"b\nb",1,2,3,4,5,1,2\n'
        "\n"
        "c,1,2,9,4,5,1,2\n"
        "d,1,2,3,4,5,1,x\n"
    )
    return path


def test_record_lines_follow_the_file() -> None:
    text = 'h\na\n"b\nb"\n\nc\n'
    assert csv_record_lines(text) == (1, 2, 3, 6)


def test_score_error_names_flag_and_file_lines(tmp_path: Path) -> None:
    src = _swemwbs_csv(tmp_path / "in.csv")
    res = runner.invoke(app, ["score", str(src), "-i", "swemwbs", "-o", str(tmp_path / "o.csv")])
    assert res.exit_code == 1
    out = " ".join(res.output.split())
    assert "--flag" in out and not PYTHON_WORDS.search(out), out
    assert "rows are line numbers in in.csv" in out
    # data positions 2 and 3 are lines 6 and 7 of the file
    assert re.search(r"│ 6 +│ q3 +│ 9 ", res.output) and re.search(r"│ 7 +│ q7 +│ 'x'", res.output)


def test_score_flag_writes_issues_beside_the_output(tmp_path: Path) -> None:
    src = _swemwbs_csv(tmp_path / "in.csv")
    out = tmp_path / "scores.xlsx"
    res = runner.invoke(app, ["score", str(src), "-i", "swemwbs", "-o", str(out), "--flag"])
    assert res.exit_code == 0, res.output
    written = tmp_path / "scores.issues.csv"
    assert str(written) in " ".join(res.output.split()).replace(" ", "") or str(
        written
    ) in res.output.replace("\n", "")
    issues = pd.read_csv(written)
    assert issues[["row", "column"]].values.tolist() == [[6, "q3"], [7, "q7"]]
    # a clean file with --flag still writes the (empty) list, so no stale file is left
    clean = tmp_path / "clean.csv"
    pd.DataFrame({f"q{i}": [3] for i in range(1, 8)}).to_csv(clean, index=False)
    res = runner.invoke(app, ["score", str(clean), "-i", "swemwbs", "-o", str(out), "--flag"])
    assert res.exit_code == 0 and "0 issue(s)" in res.output
    assert pd.read_csv(written).empty


def test_score_excel_rows_count_the_header(tmp_path: Path) -> None:
    src = tmp_path / "in.xlsx"
    df = pd.DataFrame({f"q{i}": [3, 3, 3] for i in range(1, 8)})
    df.loc[2, "q4"] = 8  # the third data row: Excel row 4 (header is row 1)
    df.to_excel(src, index=False)
    assert openpyxl.load_workbook(src).active["D4"].value == 8  # where a person sees it
    res = runner.invoke(app, ["score", str(src), "-i", "swemwbs", "-o", str(tmp_path / "o.csv")])
    assert res.exit_code == 1
    assert "spreadsheet rows of in.xlsx" in " ".join(res.output.split())
    assert re.search(r"│ 4 +│ q4 +│ 8", res.output)


def test_map_is_named_as_a_flag(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    pd.DataFrame({"optimistic": [3], **{f"q{i}": [3] for i in range(2, 8)}}).to_csv(
        src, index=False
    )
    res = runner.invoke(app, ["score", str(src), "-i", "swemwbs", "-o", str(tmp_path / "o.csv")])
    out = " ".join(res.output.split())
    assert res.exit_code == 1 and "--map SOURCE=ITEM" in out and not PYTHON_WORDS.search(out)
    res = runner.invoke(
        app,
        ["forms", "import", str(src), "-i", "swemwbs", "-o", str(tmp_path / "o.csv")]
        + ["--map", "nope=q1"],
    )
    out = " ".join(res.output.split())
    assert res.exit_code == 1 and "--map names source columns not in the file" in out


def test_forms_import_qualtrics_rows_count_three_header_rows(tmp_path: Path) -> None:
    tags = ["ResponseId", *[f"q{i}" for i in range(1, 8)]]
    texts = ["Response ID", *[f"Item {i}" for i in range(1, 8)]]
    ids = [json.dumps({"ImportId": t}) for t in tags]
    answers = [["R_1", *["4"] * 7], ["R_2", *["4"] * 6, "Sometimes"]]
    src = tmp_path / "q.csv"
    pd.DataFrame([texts, ids, *answers], columns=tags).to_csv(src, index=False)
    out = tmp_path / "resp.csv"
    res = runner.invoke(app, ["forms", "import", str(src), "-i", "swemwbs", "-o", str(out)])
    assert res.exit_code == 1
    text = " ".join(res.output.split())
    assert "--flag reads them as missing and writes them to resp.issues.csv" in text
    assert "q7 accept: 1 = None of the time" in text and not PYTHON_WORDS.search(text)
    assert re.search(r"│ 5 +│ q7 ", res.output)  # header lines 1-3, R_1 line 4, R_2 line 5
    assert not out.exists()  # nothing written when stopping
    res = runner.invoke(
        app, ["forms", "import", str(src), "-i", "swemwbs", "-o", str(out), "--flag"]
    )
    assert res.exit_code == 0, res.output
    assert pd.read_csv(tmp_path / "resp.issues.csv")["row"].tolist() == [5]
    assert "resp.issues.csv" in res.output.replace("\n", "")


def test_forms_import_sep_and_encoding_flags(tmp_path: Path) -> None:
    src = tmp_path / "kobo.csv"
    src.write_bytes(
        ("q1;q2;q3;q4;q5;q6;q7\r\n" + ";".join(["Often"] * 7) + "\r\n").encode("cp1252")
    )
    out = tmp_path / "o.csv"
    res = runner.invoke(
        app,
        ["forms", "import", str(src), "-i", "swemwbs", "-o", str(out)]
        + ["--sep", ";", "--encoding", "cp1252"],
    )
    assert res.exit_code == 0, res.output
    assert pd.read_csv(out)["q1"].tolist() == [4.0]
    res = runner.invoke(
        app, ["forms", "import", str(src), "-i", "swemwbs", "-o", str(out), "--encoding", "nope"]
    )
    assert res.exit_code == 1 and "unknown encoding 'nope'" in res.output


def test_library_messages_are_translated() -> None:
    # the messages the library writes for Python users, as the command line shows them
    assert (
        for_command_line("x (errors='flag' reads them as missing)")
        == "x (--flag reads them as missing)"
    )
    assert for_command_line('errors="flag"') == "--flag"
    assert (
        for_command_line("Map columns yourself with columns={'source column': 'item id'}.")
        == "Map columns yourself with --map SOURCE=ITEM."
    )
    assert for_command_line("keep=/person_id= name columns") == "--person-id name columns"
    assert for_command_line("use coding='mhsds'") == "use --coding mhsds"
    assert for_command_line("give sep= and encoding=") == "give --sep and --encoding"
    assert for_command_line("no Python here") == "no Python here"


def test_coding_is_named_as_a_flag(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    pd.DataFrame({f"q{i}": [3] for i in range(1, 8)}).to_csv(src, index=False)
    for cmd in (["score"], ["forms", "import"]):
        res = runner.invoke(
            app, [*cmd, str(src), "-i", "swemwbs", "-o", str(tmp_path / "o.csv"), "--coding", "x"]
        )
        out = " ".join(res.output.split())
        assert res.exit_code == 1 and "--coding x: swemwbs has no alternative coding" in out, out


def test_validate_shows_file_lines_and_flag(tmp_path: Path) -> None:
    src = _swemwbs_csv(tmp_path / "in.csv")
    res = runner.invoke(app, ["validate", str(src), "-i", "swemwbs"])
    out = " ".join(res.output.split())
    assert res.exit_code == 1 and "--flag" in out and not PYTHON_WORDS.search(out), out
    assert "rows are line numbers in in.csv" in out
    assert re.search(r"│ 6 +│ q3 ", res.output) and re.search(r"│ 7 +│ q7 ", res.output)


def test_score_shows_warnings_without_flag(tmp_path: Path) -> None:
    # the same person and wave twice: a warning (scored), shown with its file lines; without
    # --flag nothing is written beside the output
    src = tmp_path / "in.csv"
    both = {"person_id": ["a", "a"], "wave": ["baseline", "baseline"]}
    pd.DataFrame({**both, **{f"q{i}": [3, 4] for i in range(1, 8)}}).to_csv(src, index=False)
    out = tmp_path / "o.csv"
    res = runner.invoke(app, ["score", str(src), "-i", "swemwbs", "-o", str(out)])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "2 issue(s) recorded (rows are line numbers in in.csv)" in text
    assert "duplicate administration" in text and re.search(r"│ 3 +│ person_id,wave", res.output)
    assert not (tmp_path / "o.issues.csv").exists()


def test_forms_export_says_plainly_when_odk_validate_cannot_run(tmp_path, monkeypatch) -> None:
    import outcomes.forms.xlsform as xlsform

    monkeypatch.setattr(xlsform.shutil, "which", lambda _: None)  # no Java on this "machine"
    out = tmp_path / "f.xlsx"
    res = runner.invoke(app, ["forms", "export", "swemwbs", "--to", "xlsform", "-o", str(out)])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "warning: " in text and "ODK Validate was not run: Java was not found" in text
    assert out.is_file()


def test_score_reads_semicolon_cp1252_and_numbers_its_lines(tmp_path: Path) -> None:
    # Excel "CSV" in a ';' locale on Windows; used to fail with a raw codec message
    src = tmp_path / "in.csv"
    lines = [
        "person_id;name;" + ";".join(f"q{i}" for i in range(1, 8)),
        "a;Zoë;" + ";".join("3" * 7),
    ]
    lines.append("b;Siân;" + ";".join(["3"] * 6 + ["6"]))
    src.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    res = runner.invoke(app, ["score", str(src), "-i", "swemwbs", "-o", str(tmp_path / "o.csv")])
    assert res.exit_code == 1 and re.search(r"│ 3 +│ q7 +│ 6", res.output), res.output
    res = runner.invoke(
        app, ["score", str(src), "-i", "swemwbs", "-o", str(tmp_path / "o.csv"), "--flag"]
    )
    assert res.exit_code == 0, res.output
    back = pd.read_csv(tmp_path / "o.csv")
    assert back["name"].tolist() == ["Zoë", "Siân"] and back["raw"].tolist()[0] == 21.0
