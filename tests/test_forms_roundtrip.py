"""Round trips: export an instrument, write synthetic answers the way each platform exports them,
import them, and get the same scores as scoring the answers directly.

The platform files are built here from what the export wrote (the REDCap dictionary's choices,
the XLSForm's names and choice lists), as the platform itself would, not from the importer's
own tables.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

import outcomes as oc
import outcomes.forms as forms
from outcomes.instruments.scoring import score

# Long WCS field names are warned about once, in test_forms_export.py.
pytestmark = pytest.mark.filterwarnings("ignore::outcomes.forms.LongFieldNameWarning")

ROUND_TRIP = ["sdq_parent", "honosca", "chi_esq_parent", "workforce_confidence", "gbo", "swemwbs"]


# ----------------------------------------------------------------------------- synthetic answers
def synthetic_answers(instrument: str, n: int = 40, seed: int = 0) -> pd.DataFrame:
    """Codes per item: valid codes, no-answer codes (e.g. 9) and skipped cells; free text."""
    rng = np.random.default_rng(seed)
    inst = oc.load_instrument(instrument)
    cols = {}
    for it in inst.items:
        if it.type == "text":
            words = np.array(["kind staff", "", "more sessions, please", "n/a"], dtype=object)
            vals = rng.choice(words, n)
            cols[it.id] = pd.Series(np.where(vals == "", None, vals), dtype=object)
            continue
        rs = inst.response_sets[it.response_set]
        pool = [float(c) for c in (*rs.valid_codes, *rs.missing_codes)]
        vals = rng.choice(pool, n)
        skip = rng.random(n) < 0.06
        cols[it.id] = pd.Series(np.where(skip, np.nan, vals))
    df = pd.DataFrame(cols)
    # Every row answers at least the first coded item, so no row is "empty".
    first = inst.coded_items[0]
    df[first.id] = df[first.id].fillna(float(inst.response_sets[first.response_set].valid_codes[0]))
    return df


def scale_columns(instrument: str) -> list[str]:
    return [s.id for s in oc.load_instrument(instrument).scales]


def assert_same_scores(imported: pd.DataFrame, answers: pd.DataFrame, instrument: str) -> None:
    expected = score(answers, instrument)
    got = score(imported, instrument)
    assert len(got) == len(expected)
    for c in scale_columns(instrument):
        np.testing.assert_allclose(
            got[c].to_numpy(float), expected[c].to_numpy(float), atol=1e-12, equal_nan=True
        )
        assert (got[f"{c}_n"].to_numpy() == expected[f"{c}_n"].to_numpy()).all()


def parse_choices(text: str) -> dict[str, str]:
    """REDCap's 'code, label | code, label' as REDCap parses it (split at the first comma)."""
    out = {}
    for part in text.split("|"):
        code, label = part.split(",", 1)
        out[code.strip()] = label.strip()
    return out


def code_text(v: float) -> str:
    return "" if pd.isna(v) else str(int(v))


# ----------------------------------------------------------------------------- REDCap
def redcap_records(answers: pd.DataFrame, dictionary: pd.DataFrame, instrument: str, labels: bool):
    d = dictionary[dictionary["Form Name"] == instrument]
    d = d[d["Field Type"] != "descriptive"]
    d = d[d["Variable / Field Name"] != "record_id"]
    out = {"record_id": [str(i + 1) for i in range(len(answers))]}
    for field, choices in zip(
        d["Variable / Field Name"], d["Choices, Calculations, OR Slider Labels"], strict=True
    ):
        item = field.removeprefix(f"{instrument}_")
        col = answers[item]
        if choices:
            text = col.map(code_text)
            if labels:
                text = text.map(parse_choices(choices)).fillna("")
            out[field] = text
        else:
            out[field] = col.fillna("")
    out[f"{instrument}_complete"] = ["Complete" if labels else "2"] * len(answers)
    return pd.DataFrame(out)


@pytest.mark.parametrize("instrument", ROUND_TRIP)
@pytest.mark.parametrize("labels", [False, True], ids=["raw", "labels"])
def test_redcap_round_trip(tmp_path: Path, instrument: str, labels: bool) -> None:
    dict_path = forms.export(instrument, "redcap", tmp_path / "dictionary.csv")
    dictionary = pd.read_csv(dict_path, dtype=str, keep_default_na=False)
    answers = synthetic_answers(instrument)
    records = redcap_records(answers, dictionary, instrument, labels)
    path = tmp_path / "export.csv"
    records.to_csv(path, index=False)
    df, report = forms.read_export(path, instrument, return_report=True)
    assert report.platform == "redcap"
    assert report.dropped.empty and report.issues.empty and report.unmatched == []
    assert set(report.kept) == {"record_id", f"{instrument}_complete"}
    assert_same_scores(df, answers, instrument)
    # codes themselves survive, "no answer" codes included
    coded = [it.id for it in oc.load_instrument(instrument).coded_items]
    pd.testing.assert_frame_equal(
        df[coded].reset_index(drop=True), answers[coded], check_dtype=False
    )


def test_redcap_pack_longitudinal_export(tmp_path: Path) -> None:
    """A pack (staff survey + SWEMWBS) exported with events: rows of other events are dropped
    with a reason, each instrument is read from its own prefixed fields."""
    pack = ["workforce_confidence", "swemwbs"]
    dictionary = forms.redcap_dictionary(pack)
    a = synthetic_answers("workforce_confidence", n=6, seed=1)
    b = synthetic_answers("swemwbs", n=6, seed=2)
    ra = redcap_records(a, dictionary, "workforce_confidence", labels=False)
    rb = redcap_records(b, dictionary, "swemwbs", labels=False)
    both = pd.concat([ra, rb.drop(columns="record_id")], axis=1)
    both.insert(1, "redcap_event_name", "baseline_arm_1")
    # an extra event row per record where neither form was filled in
    blank = both.copy()
    for c in blank.columns[2:]:
        blank[c] = ""
    blank["redcap_event_name"] = "followup_arm_1"
    export = pd.concat([both, blank], ignore_index=True)
    path = tmp_path / "pack.csv"
    export.to_csv(path, index=False)

    wcs, rep = forms.read_export(path, "workforce_confidence", return_report=True)
    assert len(wcs) == 6 and len(rep.dropped) == 6
    assert rep.dropped["reason"].str.startswith("no answer to any item").all()
    assert rep.n_rows_read == rep.n_rows + len(rep.dropped)
    assert "redcap_event_name" in wcs.columns
    assert all(c.startswith("swemwbs_") for c in rep.unmatched)
    assert_same_scores(wcs, a, "workforce_confidence")
    sw = forms.read_export(path, "swemwbs")
    assert_same_scores(sw, b, "swemwbs")


def test_redcap_custom_prefix_round_trip(tmp_path: Path) -> None:
    short = forms.redcap_dictionary("workforce_confidence", prefix={"workforce_confidence": "wcs"})
    assert "wcs_q1" in set(short["Variable / Field Name"])
    assert set(short["Form Name"]) == {"wcs"}
    a = synthetic_answers("workforce_confidence", n=5)
    dictionary = forms.redcap_dictionary("workforce_confidence")
    rec = redcap_records(a, dictionary, "workforce_confidence", labels=True)
    rec.columns = [c.replace("workforce_confidence_", "wcs_") for c in rec.columns]
    assert set(rec.columns) - {"record_id", "wcs_complete"} <= set(short["Variable / Field Name"])
    with pytest.raises(oc.DataStructureError):
        forms.read_export(rec, "workforce_confidence", platform="redcap")
    df = forms.read_export(rec, "workforce_confidence", platform="redcap", prefix="wcs")
    assert_same_scores(df, a, "workforce_confidence")


# ----------------------------------------------------------------------------- ODK / Kobo
def odk_export(answers: pd.DataFrame, xlsform: Path, instrument: str, sep: str) -> pd.DataFrame:
    survey = pd.read_excel(xlsform, sheet_name="survey", dtype=str).fillna("")
    choices = pd.read_excel(xlsform, sheet_name="choices", dtype=str).fillna("")
    out = {"SubmissionDate": ["2026-01-10T10:00:00.000Z"] * len(answers)}
    group = None
    for t, name in zip(survey["type"], survey["name"], strict=True):
        if t == "begin_group":
            group = name
            continue
        if t in ("end_group", "note") or group != instrument:
            continue
        item = name.removeprefix(f"{instrument}_")
        col = answers[item]
        if t.startswith("select_one "):
            names = set(choices.loc[choices["list_name"] == t.split(" ", 1)[1], "name"])
            text = col.map(code_text)
            assert set(text) - {""} <= names
            out[f"{group}{sep}{name}"] = text
        else:
            out[f"{group}{sep}{name}"] = col.fillna("")
    key = "KEY" if sep == "-" else "_uuid"
    out[key] = [f"uuid:{i:08d}" for i in range(len(answers))]
    return pd.DataFrame(out)


@pytest.mark.parametrize("instrument", ROUND_TRIP)
@pytest.mark.parametrize("sep", ["-", "/"], ids=["odk_central", "kobo"])
def test_odk_round_trip(tmp_path: Path, instrument: str, sep: str) -> None:
    xls = forms.export(instrument, "xlsform", tmp_path / "form.xlsx")
    answers = synthetic_answers(instrument, seed=3)
    path = tmp_path / "submissions.csv"
    odk_export(answers, xls, instrument, sep).to_csv(path, index=False)
    df, report = forms.read_export(path, instrument, return_report=True)
    assert report.platform == "odk"
    assert report.issues.empty and report.dropped.empty
    assert report.columns["matched_by"].str.contains("in a group").all()
    assert_same_scores(df, answers, instrument)


def test_kobo_excel_export_of_a_pack(tmp_path: Path) -> None:
    pack = ["chi_esq_parent", "gbo"]
    xls = forms.export(pack, "xlsform", tmp_path / "pack.xlsx")
    a = synthetic_answers("chi_esq_parent", n=12, seed=4)
    b = synthetic_answers("gbo", n=12, seed=5)
    ea = odk_export(a, xls, "chi_esq_parent", "/")
    eb = odk_export(b, xls, "gbo", "/").drop(columns=["SubmissionDate", "_uuid"])
    path = tmp_path / "kobo.xlsx"
    pd.concat([ea, eb], axis=1).to_excel(path, index=False)
    assert forms.detect_platform(path) == "odk"
    assert_same_scores(forms.read_export(path, "chi_esq_parent"), a, "chi_esq_parent")
    assert_same_scores(forms.read_export(path, "gbo"), b, "gbo")


# ----------------------------------------------------------------------------- Qualtrics
def qualtrics_csv(
    answers: pd.DataFrame, instrument: str, path: Path, *, labels: bool, tags: str
) -> None:
    """Three header rows; metadata first; tags either item ids or Qualtrics' default Q1.. with
    the question text (a matrix: '<question> - <statement>') in row 2."""
    inst = oc.load_instrument(instrument)
    n = len(answers)
    meta = {
        "StartDate": ["2026-02-01 09:00:00"] * n,
        "EndDate": ["2026-02-01 09:05:00"] * n,
        "Status": ["IP Address"] * n,
        "Progress": ["100"] * n,
        "Duration (in seconds)": ["300"] * n,
        "Finished": ["True"] * n,
        "RecordedDate": ["2026-02-01 09:05:01"] * n,
        "ResponseId": [f"R_{i:05d}" for i in range(n)],
    }
    tags_row, text_row, import_row, cols = list(meta), list(meta), [], dict(meta)
    import_row = [json.dumps({"ImportId": k.lower()}) for k in meta]
    for k, it in enumerate(inst.items, start=1):
        col = answers[it.id]
        if it.type == "coded":
            rs = inst.response_sets[it.response_set]
            lab = {float(o.code): o.label for o in (*rs.options, *rs.missing)}
            vals = col.map(
                lambda v, lab=lab: "" if pd.isna(v) else (lab[v] if labels else str(int(v)))
            )
        else:
            vals = col.fillna("")
        tag = it.id if tags == "ids" else f"Q1_{k}"
        shown = it.text if inst.licence.embed_wording and it.text else it.label
        tags_row.append(tag)
        text_row.append(f"How much do you agree? - {shown}" if tags == "default" else shown)
        import_row.append(json.dumps({"ImportId": f"QID1_{k}"}))
        cols[tag] = vals
    body = pd.DataFrame(cols)
    # a preview response, to be dropped with its reason
    preview = body.iloc[[0]].copy()
    preview["Status"] = "Survey Preview"
    body = pd.concat([body, preview], ignore_index=True)
    header = pd.DataFrame([text_row, import_row], columns=tags_row)
    pd.concat([header, body], ignore_index=True).to_csv(path, index=False, encoding="utf-8-sig")


@pytest.mark.parametrize("instrument", ROUND_TRIP)
@pytest.mark.parametrize("labels", [False, True], ids=["numeric", "choice_text"])
def test_qualtrics_round_trip_item_tags(tmp_path: Path, instrument: str, labels: bool) -> None:
    answers = synthetic_answers(instrument, seed=6)
    path = tmp_path / "qualtrics.csv"
    qualtrics_csv(answers, instrument, path, labels=labels, tags="ids")
    df, report = forms.read_export(path, instrument, return_report=True)
    assert report.platform == "qualtrics"
    assert report.dropped["reason"].tolist() == [
        "not a real response: Qualtrics status Survey Preview"
    ]
    assert report.n_rows_read == len(answers) + 1 and len(df) == len(answers)
    assert "ResponseId" in df.columns
    assert_same_scores(df, answers, instrument)


@pytest.mark.parametrize("instrument", ["workforce_confidence", "swemwbs", "chi_esq_parent"])
def test_qualtrics_default_tags_matched_by_question_text(tmp_path: Path, instrument: str) -> None:
    """Default tags Q1_1.. are not our item ids (and never matched as such); the statement in
    the second header row is."""
    answers = synthetic_answers(instrument, seed=7)
    path = tmp_path / "qualtrics.csv"
    qualtrics_csv(answers, instrument, path, labels=True, tags="default")
    df, report = forms.read_export(path, instrument, return_report=True)
    assert report.columns["matched_by"].str.startswith("question text").all()
    assert_same_scores(df, answers, instrument)


# ----------------------------------------------------------------------------- SPSS
def test_spss_round_trip_value_labels_and_user_missing(tmp_path: Path) -> None:
    """ESQ stored as SPSS often is: coded 1-3 (1 = Certainly true) with value labels,
    "Don't know" = 8 and "Refused" = -99 declared user-missing. Labels decide the code; 8 is
    the instrument's "Don't know" by its label; -99 becomes missing."""
    inst = oc.load_instrument("chi_esq_parent")
    answers = synthetic_answers("chi_esq_parent", n=50, seed=8)
    spss_code = {2.0: 1.0, 1.0: 2.0, 0.0: 3.0, 9.0: 8.0}
    rng = np.random.default_rng(9)
    data = {"id": [f"C{i:03d}" for i in range(len(answers))]}
    labels, missing = {}, {}
    for it in inst.coded_items:
        col = answers[it.id].map(spss_code)
        refused = rng.random(len(col)) < 0.05
        col[refused] = -99.0
        answers.loc[refused, it.id] = np.nan  # what the scores must see
        data[it.id] = col
        labels[it.id] = {
            1: "Certainly true",
            2: "Partly true",
            3: "Not true",
            8: "Don't know",
            -99: "Refused",
        }
        missing[it.id] = [8, -99]
    data["good"] = answers["good"].fillna("")
    path = tmp_path / "esq.sav"
    pyreadstat.write_sav(
        pd.DataFrame(data),
        str(path),
        variable_value_labels=labels,
        missing_ranges=missing,
        column_labels={it.id: it.label for it in inst.items},
    )
    df, report = forms.read_export(path, "chi_esq_parent", return_report=True)
    assert report.platform == "spss"
    assert any("recoded through their SPSS value labels" in n for n in report.notes)
    assert any("user-missing" in n for n in report.notes)
    assert set(np.unique(df["q1"].dropna())) <= {0.0, 1.0, 2.0, 9.0}
    assert_same_scores(df, answers, "chi_esq_parent")


def test_spss_user_missing_equal_to_instrument_code(tmp_path: Path) -> None:
    """HoNOSCA 9 (not known) declared user-missing in SPSS stays 9: no answer either way."""
    answers = synthetic_answers("honosca", n=30, seed=10)
    items = [f"q{i}" for i in range(1, 16)]
    path = tmp_path / "honosca.sav"
    pyreadstat.write_sav(
        answers[items],
        str(path),
        missing_ranges={i: [9] for i in items},
    )
    df = forms.read_export(path, "honosca")
    pd.testing.assert_frame_equal(df[items], answers[items], check_dtype=False)
    assert_same_scores(df, answers, "honosca")


# ----------------------------------------------------------------------------- Microsoft Forms
@pytest.mark.parametrize("instrument", ["workforce_confidence", "chi_esq_parent", "sdq_parent"])
def test_msforms_round_trip(tmp_path: Path, instrument: str) -> None:
    inst = oc.load_instrument(instrument)
    answers = synthetic_answers(instrument, seed=11)
    n = len(answers)
    cols = {
        "ID": list(range(1, n + 1)),
        "Start time": ["3/1/26 9:00:00"] * n,
        "Completion time": ["3/1/26 9:04:00"] * n,
        "Email": ["anonymous"] * n,
        "Name": [""] * n,
    }
    for k, it in enumerate(inst.items, start=1):
        header = it.text if inst.licence.embed_wording and it.text else f"{k}. {it.label}"
        if it.type == "coded":
            rs = inst.response_sets[it.response_set]
            lab = {float(o.code): o.label for o in (*rs.options, *rs.missing)}
            cols[header] = answers[it.id].map(lambda v, lab=lab: None if pd.isna(v) else lab[v])
        else:
            cols[header] = answers[it.id]
    path = tmp_path / "forms.xlsx"
    pd.DataFrame(cols).to_excel(path, index=False)
    df, report = forms.read_export(path, instrument, return_report=True)
    assert report.platform == "msforms"
    assert set(report.unmatched) == {"Email", "Name"}  # identifying: not carried over
    assert_same_scores(df, answers, instrument)


# ----------------------------------------------------------------------------- hand-checked
def test_honosca_label_export_scored_by_hand(tmp_path: Path) -> None:
    """Ratings 2,1,0,0,'Not known',1,0,1,3,2,1,2,0 on scales 1-13: 12 rated, sum 13, so the
    prorated total is 13 x 13/12 = 14.0833; behaviour 2+1+0+0 = 3; impairment needs scale 5,
    so it is missing (project rules in instruments/honosca.yaml)."""
    labels = {
        0: "No problem",
        1: "Minor problem",
        2: "Mild problem",
        3: "Moderately severe problem",
    }
    ratings = [2, 1, 0, 0, None, 1, 0, 1, 3, 2, 1, 2, 0, 0, 1]
    row = {"record_id": "17"}
    for i, r in enumerate(ratings, start=1):
        row[f"honosca_q{i}"] = "Not known" if r is None else labels[r]
    row["honosca_complete"] = "Complete"
    path = tmp_path / "labels.csv"
    pd.DataFrame([row]).to_csv(path, index=False)
    s = score(forms.read_export(path, "honosca", person_id="record_id"), "honosca")
    assert s["person_id"].tolist() == ["17"]
    assert s["total"].iloc[0] == pytest.approx(13 * 13 / 12, abs=1e-9)
    assert s["behaviour"].iloc[0] == 3
    assert np.isnan(s["impairment"].iloc[0])
    assert s["total_n"].iloc[0] == 12


def test_swemwbs_table_all_often(tmp_path: Path) -> None:
    """Seven answers 'Often' (4): raw 28, metric 25.03 (Warwick conversion table)."""
    raw = pd.DataFrame({"KEY": ["uuid:1"], **{f"swemwbs-swemwbs_q{i}": ["4"] for i in range(1, 8)}})
    s = score(forms.read_export(raw, "swemwbs"), "swemwbs")
    assert s["raw"].iloc[0] == 28
    assert s["metric"].iloc[0] == pytest.approx(25.03, abs=1e-9)
