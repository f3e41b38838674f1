"""Issue 13 item 7: every CSV / Excel writer writes risky text as text, never as a formula.

OWASP's CSV-injection guidance: a cell starting with = + - @, tab or carriage return is run as
a formula by spreadsheets; prefix a single quote in CSV. In .xlsx a string cell (data_type
"s") is never evaluated. Each test writes through the real writer and reads the file back.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import outcomes as oc
import outcomes.forms as forms
from outcomes._internal.spreadsheet import RISKY_START, is_risky, neutralise
from outcomes.cli import app
from outcomes.instruments import parse_instrument
from outcomes.io import write_table
from outcomes.report.render import save_csv

PAYLOAD = '=HYPERLINK("http://evil.example","x")'


def _csv_cells(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return [c for row in csv.reader(fh) for c in row]


def _assert_csv_safe(path: Path) -> None:
    cells = _csv_cells(path)
    risky = [c for c in cells if is_risky(c)]
    assert not risky, risky


def _xlsx_formula_cells(path: Path) -> list[str]:
    wb = openpyxl.load_workbook(path)
    return [
        f"{ws.title}!{c.coordinate}"
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f"
    ]


# ------------------------------------------------------------------- the helper
@given(st.text())
def test_no_neutralised_text_starts_a_formula(s: str) -> None:
    out = neutralise(s)
    assert not is_risky(out)
    # only ever a leading quote is added, nothing removed
    assert out in (s, "'" + s)
    if s.startswith(RISKY_START) and out == s:
        float(s)  # left alone only when the text is a plain number


@given(st.one_of(st.integers(), st.floats(allow_nan=True)))
def test_numbers_stay_numbers(x: float) -> None:
    assert neutralise(x) is x


def test_plain_numbers_in_text_are_kept_and_formulas_are_not() -> None:
    # Decision documented in outcomes._internal.spreadsheet: "-3" is data, "-2+3" a formula.
    assert [neutralise(v) for v in ("-3", "+1.5", "-2e3", "-2+3", "@A1", "\rx", "\tx")] == [
        "-3",
        "+1.5",
        "-2e3",
        "'-2+3",
        "'@A1",
        "'\rx",
        "'\tx",
    ]


# ------------------------------------------------------------------- io.write_table and CLI
def test_write_table_csv_and_xlsx(tmp_path: Path) -> None:
    df = pd.DataFrame({"person_id": [PAYLOAD, "@x", "-3"], "score": [-3, 2.5, 1]})
    p = write_table(df, tmp_path / "t.csv")
    _assert_csv_safe(p)
    back = pd.read_csv(p, dtype={"person_id": str})
    assert back["person_id"].tolist() == ["'" + PAYLOAD, "'@x", "-3"]
    assert back["score"].tolist() == [-3, 2.5, 1]  # numbers stay numbers

    x = write_table(df, tmp_path / "t.xlsx")
    assert _xlsx_formula_cells(x) == []
    cell = openpyxl.load_workbook(x).active["A2"]
    assert (cell.value, cell.data_type) == (PAYLOAD, "s")  # the text itself, as a string
    assert pd.read_excel(x)["score"].tolist() == [-3, 2.5, 1]


def test_score_command_outputs_are_safe(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    rows = {"person_id": [PAYLOAD, "+cmd"], **{f"q{i}": [3, 4] for i in range(1, 8)}}
    pd.DataFrame(rows).to_csv(src, index=False)
    runner = CliRunner()
    for name in ("scores.csv", "scores.xlsx"):
        out = tmp_path / name
        res = runner.invoke(app, ["score", str(src), "-i", "swemwbs", "-o", str(out)])
        assert res.exit_code == 0, res.output
        if out.suffix == ".csv":
            _assert_csv_safe(out)
            assert "'" + PAYLOAD in _csv_cells(out)
        else:
            assert _xlsx_formula_cells(out) == []
            assert PAYLOAD in pd.read_excel(out)["person_id"].tolist()


# ------------------------------------------------------------------- report tables
def test_report_save_csv(tmp_path: Path) -> None:
    # for_review/esq_comments.csv is written by the same save_csv (report/sections.py)
    df = pd.DataFrame({"text": [PAYLOAD, "fine", "-1+1"], "n": [-3, 4.123456789, 0]})
    p = save_csv(df, tmp_path / "for_review", "esq_comments")
    _assert_csv_safe(p)
    back = pd.read_csv(p)
    assert back["text"].tolist() == ["'" + PAYLOAD, "fine", "'-1+1"]
    assert back["n"].tolist() == [-3, 4.12346, 0]


# ------------------------------------------------------------------- survey exports
def _risky_instrument() -> oc.Instrument:
    return parse_instrument(
        {
            "id": "risky",
            "name": "=Risky name",
            "version": "1",
            "respondent": "self",
            "licence": {"text": "@licence text", "embed_wording": True},
            "citation": "Test.",
            "response_sets": {
                "yn": {"options": [{"code": 0, "label": "-No"}, {"code": 1, "label": "+Yes"}]}
            },
            "items": [
                {"id": "q1", "label": "=1+1 label", "text": PAYLOAD, "response_set": "yn"},
                {"id": "q2", "label": "-2+3 label", "response_set": "yn"},
            ],
            "scales": [
                {
                    "id": "total",
                    "label": "=Total",
                    "method": "sum",
                    "items": ["q1", "q2"],
                    "higher_is_better": True,
                }
            ],
        }
    )


def test_redcap_dictionary_is_safe(tmp_path: Path) -> None:
    p = forms.export(_risky_instrument(), "redcap", tmp_path / "dict.csv")
    _assert_csv_safe(p)
    cells = _csv_cells(p)
    assert "'" + PAYLOAD in cells
    assert "0, -No | 1, +Yes" in cells  # choices start with a code: nothing to quote


def test_codebook_csv_is_safe(tmp_path: Path) -> None:
    p = forms.export(_risky_instrument(), "codebook", tmp_path / "codebook.csv")
    _assert_csv_safe(p)
    back = pd.read_csv(p)
    assert back["value_label"].tolist() == ["'-No", "'+Yes", "'-No", "'+Yes"]
    assert back["code"].tolist() == [0, 1, 0, 1]


def test_xlsform_is_safe(tmp_path: Path) -> None:
    p = forms.export(_risky_instrument(), "xlsform", tmp_path / "form.xlsx")
    assert _xlsx_formula_cells(p) == []
    survey = pd.read_excel(p, sheet_name="survey")
    assert PAYLOAD in survey["label"].tolist()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.text(alphabet=st.sampled_from(list("=+-@\t\r1a.(), ")), max_size=6), min_size=1),
    st.lists(st.integers(-5, 5), min_size=1),
)
def test_no_written_cell_runs_as_a_formula(texts: list[str], numbers: list[int]) -> None:
    n = min(len(texts), len(numbers))
    df = pd.DataFrame({"text": texts[:n], "number": numbers[:n]})
    with tempfile.TemporaryDirectory() as folder:
        c = write_table(df, Path(folder) / "t.csv")
        _assert_csv_safe(c)
        x = write_table(df, Path(folder) / "t.xlsx")
        assert _xlsx_formula_cells(x) == []
        ws = openpyxl.load_workbook(x).active
        # numbers stay numbers in both files
        assert [ws.cell(row=i + 2, column=2).value for i in range(n)] == numbers[:n]
        assert pd.read_csv(c)["number"].tolist() == numbers[:n]


def test_a_carriage_return_inside_a_cell_keeps_its_row(tmp_path: Path) -> None:
    # With "\n" line ends pandas wrote "a\rb" bare, and a reader saw two rows.
    df = pd.DataFrame({"text": ["a\rb", "\r=1"], "n": [1, 2]})
    p = write_table(df, tmp_path / "t.csv")
    back = pd.read_csv(p)
    assert back["text"].tolist() == ["a\rb", "'\r=1"] and back["n"].tolist() == [1, 2]


def _old_save_csv(df: pd.DataFrame, path: Path) -> None:
    """The report's CSV writer as it was before it built its frames in one go (the oracle):
    a copy written column by column, six significant figures, then neutralised the same way."""
    from outcomes.report.release import NOT_APPLICABLE, _six_figures

    out = df.copy()
    out.attrs = {}
    for c in out.columns:
        if out[c].dtype.kind == "f" or out[c].dtype == object:
            out[c] = out[c].map(_six_figures)
    safe = out.copy()
    for c in safe.columns:
        col = safe[c]
        if (
            col.dtype == object
            or pd.api.types.is_string_dtype(col.dtype)
            or isinstance(col.dtype, pd.CategoricalDtype)
        ):
            safe[c] = col.astype(object).map(neutralise, na_action="ignore")
    safe.columns = [neutralise(c) for c in safe.columns]
    safe.to_csv(path, index=False, lineterminator="\r\n", na_rep=NOT_APPLICABLE)


_CELLS = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from(["*", "Total", "=1+1", "-3", "-2+3", "@x", "", "a,b", "x\ny"]),
    st.none(),
    st.booleans(),
)


@st.composite
def _frames(draw) -> pd.DataFrame:
    n = draw(st.integers(0, 6))
    columns = {}
    for k in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["object", "float", "int", "str", "category", "bool"]))
        if kind == "object":
            values = pd.Series(draw(st.lists(_CELLS, min_size=n, max_size=n)), dtype=object)
        elif kind == "float":
            values = pd.Series(draw(st.lists(st.floats(width=64), min_size=n, max_size=n)))
            values = values.astype(float)
        elif kind == "int":
            values = pd.Series(draw(st.lists(st.integers(-99, 99), min_size=n, max_size=n)))
            values = values.astype("int64")
        elif kind == "bool":
            values = pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
        else:
            texts = draw(st.lists(st.sampled_from(["a", "=b", "-1", "+c"]), min_size=n, max_size=n))
            values = pd.Series(texts, dtype="category" if kind == "category" else "str")
        columns[draw(st.sampled_from(["n", "=x", "label", f"c{k}"])) + f"_{k}"] = values
    frame = pd.DataFrame(columns, index=range(n))
    if draw(st.booleans()) and n:
        frame.index = [0] * n  # a non-unique index takes the other way of building the frame
    return frame


@settings(max_examples=300)
@given(_frames())
def test_report_csvs_are_byte_for_byte_the_old_writers(frame: pd.DataFrame) -> None:
    with tempfile.TemporaryDirectory() as d:
        new = save_csv(frame, Path(d), "t")
        old = Path(d) / "old.csv"
        _old_save_csv(frame, old)
        assert new.read_bytes() == old.read_bytes()


def _old_neutralise_frame(data: pd.DataFrame) -> pd.DataFrame:
    """neutralise_frame as it was before it skipped ``map`` for text columns (the oracle)."""
    from outcomes._internal.spreadsheet import _may_hold_text

    cols = []
    for j in range(data.shape[1]):
        col = data.iloc[:, j]
        if _may_hold_text(col):
            col = col.astype(object).map(neutralise, na_action="ignore")
        cols.append(col)
    # columns_frame as it was then
    if not cols or not data.index.is_unique:
        out = data.copy()
        for j, col in enumerate(cols):
            out.isetitem(j, col.array)
    else:
        out = pd.concat(cols, axis=1, ignore_index=True)
    out.attrs = {}
    out.columns = [neutralise(c) for c in data.columns]
    return out


@st.composite
def _text_frames(draw) -> pd.DataFrame:
    """_frames plus the text dtypes a table can also hold: pandas' NA-string, and text
    columns with missing cells or none at all."""
    frame = draw(_frames())
    n = len(frame)
    for k in range(draw(st.integers(0, 3))):
        texts = draw(
            st.lists(st.sampled_from(["a", "=b", "-1", "+c", "'x", None]), min_size=n, max_size=n)
        )
        dtype = draw(st.sampled_from(["string", "str", "object", "category"]))
        frame[f"t{k}"] = pd.Series(texts, dtype=dtype, index=frame.index).array
    return frame


@settings(max_examples=400)
@given(_text_frames())
def test_neutralise_frame_is_the_old_one(frame: pd.DataFrame) -> None:
    from outcomes._internal.spreadsheet import neutralise_frame

    new, old = neutralise_frame(frame), _old_neutralise_frame(frame)
    # Under a repeated index the old frame took each column's array, and pandas inferred
    # text held as objects to be str; a Series is put in now, which keeps its dtype. The
    # cells, and so the CSV, are the same.
    pd.testing.assert_frame_equal(new, old, check_dtype=frame.index.is_unique)
    assert new.to_csv(index=False) == old.to_csv(index=False)
