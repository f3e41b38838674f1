"""Issue 13 item 6: export files are read whatever their separator and encoding, the platform
is recognised from its headers, and a file that cannot be read gives a message naming it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import outcomes as oc
import outcomes.forms as forms

# SWEMWBS labels with a non-ASCII character in a kept column: "Zoë" is 0xEB in cp1252,
# two bytes in UTF-8, so a wrong guess would fail or garble it.
HEADER = ["person_id", "name", *[f"q{i}" for i in range(1, 8)]]
ROWS = [["001", "Zoë", *["Often"] * 7], ["002", "Siân; Ó", *["Rarely"] * 7]]


def _write(path: Path, sep: str, encoding: str, quote: bool = True) -> Path:
    lines = [sep.join(HEADER)]
    for r in ROWS:
        lines.append(sep.join(f'"{c}"' if quote and sep in c else c for c in r))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


@pytest.mark.parametrize(
    ("sep", "encoding"),
    [
        (",", "utf-8"),
        (",", "utf-8-sig"),  # Excel's "CSV UTF-8"
        (";", "utf-8"),  # KoboToolbox's default export
        (";", "cp1252"),  # Excel "CSV" on a Windows machine set to a ';' locale
        (",", "cp1252"),
        ("\t", "utf-16"),  # Qualtrics' tab-separated download (with byte-order mark)
        ("\t", "utf-16-le"),  # the same without a byte-order mark
    ],
)
def test_separator_and_encoding_are_sniffed(tmp_path: Path, sep: str, encoding: str) -> None:
    path = _write(tmp_path / "export.csv", sep, encoding)
    df = forms.read_export(path, "swemwbs", keep=["name"])
    # Often = 4, Rarely = 2 (SWEMWBS response set)
    assert df["q1"].tolist() == [4.0, 2.0]
    assert df["person_id"].tolist() == ["001", "002"]
    assert df["name"].tolist() == ["Zoë", "Siân; Ó"]


def test_overrides_win_over_the_guess(tmp_path: Path) -> None:
    path = _write(tmp_path / "export.csv", ";", "cp1252")
    df = forms.read_export(path, "swemwbs", sep=";", encoding="cp1252", keep=["name"])
    assert df["name"].tolist() == ["Zoë", "Siân; Ó"]
    # latin-1 reads every byte: the override is used, not second-guessed
    df = forms.read_export(path, "swemwbs", sep=";", encoding="latin-1", keep=["name"])
    assert df["name"].tolist() == ["Zoë", "Siân; Ó"]


def test_wrong_override_names_the_file_and_the_encoding(tmp_path: Path) -> None:
    path = _write(tmp_path / "export.csv", ",", "cp1252")
    with pytest.raises(oc.OutcomesError) as e:
        forms.read_export(path, "swemwbs", encoding="utf-8")
    assert str(path) in str(e.value) and "is not utf-8 text" in str(e.value)
    with pytest.raises(oc.OutcomesError, match="unknown encoding 'klingon'"):
        forms.read_export(path, "swemwbs", encoding="klingon")


def test_wrong_separator_override_says_what_was_used(tmp_path: Path) -> None:
    path = _write(tmp_path / "export.csv", ";", "utf-8")
    # read with ',' the file is one column: nothing matches, and the columns found are shown
    with pytest.raises(oc.DataStructureError, match="no column matches") as e:
        forms.read_export(path, "swemwbs", sep=",")
    assert "read as comma-separated (given) utf-8 (guessed)" in str(e.value)
    assert "give sep= or encoding= if that is wrong" in str(e.value)


def test_a_binary_file_named_csv_is_refused_with_the_encodings_tried(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"q1,q2\n\x81\x8d\x8f\x90\x9d\n")  # bytes undefined in cp1252 and UTF-8
    with pytest.raises(oc.OutcomesError) as e:
        forms.read_export(path, "swemwbs")
    msg = str(e.value)
    assert msg.startswith(str(path)) and "utf-8, cp1252" in msg and "encoding=" in msg


@pytest.mark.parametrize("damage", ["truncated", "junk", "not_a_workbook"])
def test_corrupt_xlsx_is_a_clear_error_naming_the_file(tmp_path: Path, damage: str) -> None:
    good = tmp_path / "good.xlsx"
    pd.DataFrame({f"q{i}": [4] for i in range(1, 8)}).to_excel(good, index=False)
    path = tmp_path / "bad.xlsx"
    data = good.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "junk":
        path.write_bytes(b"this is not a spreadsheet")
    else:
        import zipfile

        with zipfile.ZipFile(path, "w") as z:
            z.writestr("readme.txt", "a zip, not a workbook")
    for call in (
        lambda: forms.read_export(path, "swemwbs"),
        lambda: forms.read_export(path, "swemwbs", platform="table"),
        lambda: oc.io.read_table(path),
    ):
        with pytest.raises(oc.OutcomesError) as e:
            call()
        assert str(path) in str(e.value) and "Excel workbook" in str(e.value)


def test_missing_sheet_is_named(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    pd.DataFrame({"q1": [1]}).to_excel(path, index=False)
    with pytest.raises(oc.OutcomesError, match="Worksheet named 'answers' not found"):
        forms.read_export(path, "swemwbs", sheet="answers")


# ----------------------------------------------------------------------------- detection
def test_legacy_qualtrics_is_recognised_by_auto(tmp_path: Path) -> None:
    # Qualtrics without the ImportId row: tags, then descriptions, then answers. Read as a
    # plain table, the description row used to be a data row ("unknown label" error).
    tags = ["StartDate", "EndDate", "ResponseId", *[f"q{i}" for i in range(1, 8)]]
    texts = ["Start Date", "End Date", "Response ID", *[f"Item {i}" for i in range(1, 8)]]
    answers = ["2025-01-05 10:00", "2025-01-05 10:04", "R_1", *["4"] * 7]
    path = tmp_path / "legacy.csv"
    pd.DataFrame([texts, answers], columns=tags).to_csv(path, index=False)
    assert forms.detect_platform(path) == "qualtrics"
    df, rep = forms.read_export(path, "swemwbs", return_report=True)
    assert rep.platform == "qualtrics" and rep.n_rows_read == 1
    assert df["q1"].tolist() == [4.0] and df["ResponseId"].tolist() == ["R_1"]


def test_oldest_qualtrics_v_columns_are_recognised(tmp_path: Path) -> None:
    tags = ["V1", "V8", *[f"q{i}" for i in range(1, 8)]]
    texts = ["ResponseID", "StartDate", *[f"Item {i}" for i in range(1, 8)]]
    path = tmp_path / "v.csv"
    pd.DataFrame([texts, ["R_1", "2014-01-01", *["2"] * 7]], columns=tags).to_csv(path, index=False)
    assert forms.detect_platform(path) == "qualtrics"


def test_a_plain_table_with_a_response_id_is_not_qualtrics(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"ResponseId": ["R_1"], **{f"q{i}": ["4"] for i in range(1, 8)}}).to_csv(
        path, index=False
    )
    assert forms.detect_platform(path) == "table"


@pytest.mark.parametrize("id_header", ["ID", "Id"])
def test_microsoft_forms_id_header_either_case(tmp_path: Path, id_header: str) -> None:
    inst = oc.load_instrument("swemwbs")
    cols = {
        id_header: [1, 2],
        "Start time": ["1/5/25 10:00:00", "1/5/25 11:00:00"],
        "Completion time": ["1/5/25 10:04:00", "1/5/25 11:03:00"],
        "Email": ["anonymous", "anonymous"],
        "Name": ["", ""],
        **{inst.item(f"q{i}").label: ["Often", "Rarely"] for i in range(1, 8)},
    }
    path = tmp_path / "msforms.xlsx"
    pd.DataFrame(cols).to_excel(path, index=False)
    assert forms.detect_platform(path) == "msforms"
    df, rep = forms.read_export(path, "swemwbs", return_report=True)
    assert rep.platform == "msforms"
    assert id_header in rep.kept and "Email" not in df.columns
    assert df["q1"].tolist() == [4.0, 2.0]


# ----------------------------------------------------------------------------- rows as seen
def test_report_layout_gives_the_rows_a_person_sees(tmp_path: Path) -> None:
    import json

    tags = ["ResponseId", *[f"q{i}" for i in range(1, 8)]]
    texts = ["Response ID", *[f"Item {i}" for i in range(1, 8)]]
    ids = [json.dumps({"ImportId": t}) for t in tags]
    answers = [["R_1", *["4"] * 7], ["R_2", *["4"] * 6, "Sometimes"]]
    frame = pd.DataFrame([texts, ids, *answers], columns=tags)
    # Excel: header rows 1-3, R_1 on row 4, R_2 on row 5
    xlsx = tmp_path / "q.xlsx"
    frame.to_excel(xlsx, index=False)
    _, rep = forms.read_export(xlsx, "swemwbs", errors="flag", return_report=True)
    assert rep.issues["row"].tolist() == [1]  # 0-based position among the data rows
    assert rep.layout.relabel(rep.issues)["row"].tolist() == [5]
    # CSV with a question text holding a line break: the header takes lines 1-4, so the
    # second answer is on line 6
    texts[1] = "Item\n1"
    csv_path = tmp_path / "q.csv"
    pd.DataFrame([texts, ids, *answers], columns=tags).to_csv(csv_path, index=False)
    _, rep = forms.read_export(csv_path, "swemwbs", errors="flag", return_report=True)
    assert rep.layout.relabel(rep.issues)["row"].tolist() == [6]
    assert rep.layout.note() == "rows are line numbers in q.csv"


# ----------------------------------------------------------------------------- property
_CELL_TEXT = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 ,;\t\"'-=éëœ€\n")), min_size=0, max_size=8
)


@settings(max_examples=60, deadline=None)
@given(
    ncols=st.integers(2, 5),
    rows=st.lists(st.lists(_CELL_TEXT, min_size=5, max_size=5), min_size=1, max_size=25),
    sep=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
)
def test_any_table_reads_back_whatever_its_separator_and_encoding(
    ncols: int, rows: list[list[str]], sep: str, encoding: str
) -> None:
    # Headers are plain names (as exports have); cells may hold separators, quotes, line
    # breaks and non-ASCII letters, which pandas quotes as a spreadsheet would.
    from outcomes.forms._files import read_text

    cols = [f"col{j}" for j in range(ncols)]
    table = pd.DataFrame([r[:ncols] for r in rows], columns=cols)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.csv"
        path.write_bytes(table.to_csv(index=False, sep=sep, lineterminator="\r\n").encode(encoding))
        back, layout, how = read_text(path)
    assert list(back.columns) == cols
    # only empty cells are missing; everything else comes back character for character
    expected = table.replace("", None)
    got = back.astype(object).where(back.notna(), None)
    assert (
        got.values.tolist() == expected.astype(object).where(expected.notna(), None).values.tolist()
    )
    assert len(layout.record_lines) == len(rows) + 1


@settings(max_examples=40, deadline=None)
@given(
    bad=st.one_of(
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(min_size=2, max_size=4),
        st.just(""),
        st.lists(st.just(",")),
    ),
    which=st.sampled_from(["sep", "encoding"]),
)
def test_nonsense_sep_or_encoding_is_refused_naming_it(bad, which: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder) / "x.csv", ",", "utf-8")
        if which == "encoding" and isinstance(bad, str) and bad:
            try:
                "x".encode(bad)
                return  # a real codec name (e.g. "utf8"): not nonsense
            except (LookupError, ValueError):  # no such codec, or not even a name
                pass
        with pytest.raises(oc.OutcomesError, match=which):
            forms.read_export(path, "swemwbs", **{which: bad})
