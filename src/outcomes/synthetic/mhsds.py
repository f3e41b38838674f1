"""Synthetic MHSDS extracts (specs/mhsds.md section 2): referrals, people, contacts and coded
scored assessments with the mess real submissions carry (open and rejected referrals, adults,
people without an MPI record, Welsh residents, excluded teams, DNAs, out-of-range and unparseable scores, duplicates, codes
outside the metric), generated column-wise with numpy so a million referrals take seconds.

The clinical change follows the programme simulator's assumption (docs/synthetic.md): on
average people improve, by ``effect`` standard deviations of each scale's range, with
individual variation; so the metric's improvement share rises with ``effect``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._internal.params import COUNT, NON_NEGATIVE, validate_params

# A spread of metric scales (SNOMED code, min, max, step, higher_is_better) plus a distractor.
_SCALES = (
    ("718145004", 0, 10, 1, False),  # SDQ self emotional
    ("986071000000101", 0, 10, 1, False),  # SDQ parent emotional
    ("986111000000107", 0, 10, 1, True),  # SDQ parent prosocial
    ("989751000000102", 0, 4, 1, False),  # HoNOSCA-CR s01
    ("989621000000101", 0, 4, 1, False),  # HoNOSCA-SR s01
    ("860591000000104", 1, 100, 1, True),  # CGAS
    ("716613004", 0, 40, 0.1, True),  # ORS (tenths: float32 matters)
    ("718655001", 0, 30, 1, False),  # RCADS self depression
    ("958301000000102", 0, 30, 1, False),  # RCADS parent depression
    ("960481000000107", 7, 35, 1, True),  # SWEMWBS
    ("1638531000000102", 0, 10, 1, True),  # GBO goal 1
    ("720433000", 0, 27, 1, False),  # PHQ-9
    ("986121000000101", 0, 40, 1, False),  # SDQ parent total: not in the metric
)


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    text = pc.cast(pa.array(numbers), pa.large_string())
    return pc.binary_join_element_wise(_s(prefix), text, _s(""))


def _s(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.large_string())


def _take(values: pa.Array, index: np.ndarray | None = None) -> pd.api.extensions.ExtensionArray:
    """Arrow-backed pandas text (no Python string objects)."""
    out = values if index is None else values.take(pa.array(index, pa.int64()))
    return pd.array(out, dtype=pd.StringDtype("pyarrow"))


@validate_params(
    {
        "n_referrals": COUNT,
        "seed": COUNT,
        "scores_per_referral": NON_NEGATIVE,
        "effect": NON_NEGATIVE,
    }
)
def simulate_mhsds(
    n_referrals: int = 1000,
    *,
    seed: int = 0,
    scores_per_referral: float = 10.0,
    effect: float = 0.3,
    period: tuple[str, str] = ("2025-04-01", "2026-03-31"),
) -> dict[str, pd.DataFrame]:
    """A synthetic MHSDS extract as ``{table name: DataFrame}`` for :func:`outcomes.mhsds.read`,
    with reference tables ``ref_sub_icb`` and ``ref_lsoa_imd``.

    Example:
        >>> from outcomes.synthetic.mhsds import simulate_mhsds
        >>> t = simulate_mhsds(200, seed=1)
        >>> len(t["MHS101Referral"]), sorted(t)[:2]
        (200, ['MHS001MPI', 'MHS101Referral'])
    """
    rng = np.random.default_rng(seed)
    n = int(n_referrals)
    i = np.arange(n)
    # text columns are built by Arrow's kernels (take, join), not Python strings: 10 million
    # score rows take seconds
    pid = _ids("P", i)
    rid = _ids("R", i)
    start, end = np.datetime64(period[0]), np.datetime64(period[1])
    span = int((end - start).astype(int)) + 1

    def pick(options, p=None, size=n):
        return _take(pa.array(options, pa.large_string()), rng.choice(len(options), size=size, p=p))

    lsoa = pa.array([f"E0100{k:04d}" for k in range(60)], pa.large_string())
    mpi = pd.DataFrame(
        {
            "Person_ID": _take(pid),
            "UniqMonthID": 1500,
            "Gender": pick(["1", "2", "9", None], [0.48, 0.48, 0.02, 0.02]),
            "GenderIDCode": pick(["1", "2", "3", "4", None], [0.3, 0.3, 0.03, 0.02, 0.35]),
            "NHSDEthnicity": pick(list("ABCDEFGHJKLMNPRSZ") + ["99", "T"]),
            "LSOA2011": pick([*lsoa.to_pylist(), "W01000001"]),
            "LADistrictAuth": pick(
                ["E08000012", "E09000001", "W06000015", None], [0.6, 0.35, 0.02, 0.03]
            ),
            "OrgIDSubICBLocResidence": pick(["00X", "01A", "02B", "03C", "99Z"]),
        }
    )
    # 1% of people have no MPI record (their referrals are out of scope)
    mpi = mpi[rng.random(n) >= 0.01].reset_index(drop=True)
    # discharge: mostly inside the period, some before/after, some still open
    disch = start + rng.integers(-60, span + 60, n).astype("timedelta64[D]")
    length = rng.integers(20, 400, n).astype("timedelta64[D]")
    received = disch - length
    open_ = rng.random(n) < 0.08
    ref = pd.DataFrame(
        {
            "UniqServReqID": _take(rid),
            "Person_ID": _take(pid),
            "OrgIDProv": pick([f"R{k:02d}" for k in range(1, 21)]),
            "UniqMonthID": 1500,
            "ReferralRequestReceivedDate": pd.to_datetime(received),
            "ServDischDate": pd.to_datetime(np.where(open_, np.datetime64("NaT"), disch)),
            "AgeServReferRecDate": rng.integers(0, 20, n),
            "PrimReasonReferralMH": pick([f"{k:02d}" for k in range(1, 32)]),
            "ServTeamType": pick(
                ["C01", "C04", "C05", "E01", "B02", None], [0.5, 0.2, 0.15, 0.05, 0.05, 0.05]
            ),
            "ReferRejectionDate": pd.to_datetime(
                np.where(
                    rng.random(n) < 0.03, received + np.timedelta64(3, "D"), np.datetime64("NaT")
                )
            ),
        }
    )
    # contacts: Poisson(4) per referral between receipt and discharge (+ a few after)
    nc = rng.poisson(4, n)
    cref = np.repeat(i, nc)
    m = len(cref)
    off = (rng.random(m) * (length[cref].astype(int) + 10)).astype(int)
    cdate = received[cref] + off.astype("timedelta64[D]")
    k = np.arange(m)
    cid = pc.binary_join_element_wise(
        rid.take(cref), pc.cast(pa.array(k), pa.large_string()), _s("-C")
    )
    con = pd.DataFrame(
        {
            "MHS201UniqID": 3000000000 + k,
            "UniqCareContID": _take(cid),
            "UniqServReqID": _take(rid, cref),
            "Person_ID": _take(pid, cref),
            "OrgIDProv": ref["OrgIDProv"].array[cref],
            "UniqMonthID": 1500,
            "CareContDate": pd.to_datetime(cdate),
            "CareContTime": pick(["09:00:00", "13:30:00", None], size=m),
            "AttendStatus": pick(["5", "6", "3", "7", "2"], [0.7, 0.1, 0.1, 0.05, 0.05], size=m),
            "ConsMechanismMH": pick(
                ["01", "02", "11", "04", "98", "12"], [0.6, 0.15, 0.15, 0.02, 0.05, 0.03], size=m
            ),
        }
    )
    ind_ref = i[rng.random(n) < 0.1]
    ind = pd.DataFrame(
        {
            "MHS204UniqID": 4000000000 + np.arange(len(ind_ref)),
            "UniqServReqID": _take(rid, ind_ref),
            "Person_ID": _take(pid, ind_ref),
            "UniqMonthID": 1500,
            "IndirectActDate": pd.to_datetime(received[ind_ref] + np.timedelta64(14, "D")),
            "IndirectActTime": "10:00:00",
        }
    )
    spell_ref = i[rng.random(n) < 0.01]
    spell = pd.DataFrame(
        {
            "UniqHospProvSpellID": _take(_ids("H", spell_ref)),
            "UniqServReqID": _take(rid, spell_ref),
            "Person_ID": _take(pid, spell_ref),
        }
    )
    other = i[rng.random(n) < 0.05]
    team = pd.DataFrame(
        {
            "UniqServReqID": _take(rid, other),
            "Person_ID": _take(pid, other),
            "ServTeamTypeRefToMH": pick(["C04", "E02", "C01"], size=len(other)),
        }
    )

    # scores: about scores_per_referral per referral, over 1-4 scales, 2-3 administrations each
    n_scales = rng.integers(1, 5, n)
    # 1-4 scales (mean 2.5) x 1-3 administrations (mean 2) per referral
    per = max(scores_per_referral, 0.0) / 2.5 / 2.0
    n_scales = np.maximum(0, np.round(n_scales * per).astype(int))
    sref = np.repeat(i, n_scales)
    s = len(sref)
    scale = rng.integers(0, len(_SCALES), s)
    n_adm = rng.integers(1, 4, s)
    aref = np.repeat(sref, n_adm)
    ascale = np.repeat(scale, n_adm)
    # administration number within its scale: position minus the scale's first position
    adm = np.arange(len(aref)) - np.repeat(np.cumsum(n_adm) - n_adm, n_adm)
    a = len(aref)
    lo = np.array([x[1] for x in _SCALES], float)[ascale]
    hi = np.array([x[2] for x in _SCALES], float)[ascale]
    step = np.array([x[3] for x in _SCALES], float)[ascale]
    hib = np.array([x[4] for x in _SCALES], bool)[ascale]
    base = rng.normal(0.55, 0.15, len(sref))
    drift = rng.normal(effect, 0.5, len(sref)) * 0.25
    frac = np.repeat(base, n_adm) + np.where(hib, 1, -1) * np.repeat(drift, n_adm) * adm / 2
    val = np.clip(lo + frac * (hi - lo), lo, hi)
    val = np.round(val / step) * step
    # the score as text through a lookup: whole numbers 0-100, tenths 0.0-40.0, then 'NA'
    words = pa.array(
        [str(v) for v in range(101)] + [f"{v / 10:.1f}" for v in range(401)] + ["NA"],
        pa.large_string(),
    )
    pos = np.where(step < 1, 101 + np.round(val * 10), val).astype(np.int64)
    bad = rng.random(a)
    pos[bad < 0.01] = 9  # HoNOSCA "not known" and out-of-range elsewhere
    pos[(bad >= 0.01) & (bad < 0.015)] = len(words) - 1
    text = words.take(pos)
    # dates spread from receipt to just after discharge, in administration order
    length_a = length[aref].astype(int)
    day = (adm + rng.random(a)) / 3 * (length_a + 10)
    adate = received[aref] + day.astype(int).astype("timedelta64[D]")
    codes = pa.array([x[0] for x in _SCALES], pa.large_string()).take(ascale)
    to607 = rng.random(a) < 0.1
    # MHS607 rows point to one of the referral's contacts (its date replaces adate)
    first_c = np.concatenate([[0], np.cumsum(nc)[:-1]]) if n else np.zeros(0, int)
    has_c = nc[aref] > 0
    to607 &= has_c
    c_pick = first_c[aref] + (rng.random(a) * np.maximum(nc[aref], 1)).astype(int)
    ids = np.arange(a)
    w6, w7 = np.flatnonzero(~to607), np.flatnonzero(to607)
    a606 = pd.DataFrame(
        {
            "MHS606UniqID": 1000000000 + w6,
            "UniqServReqID": _take(rid, aref[w6]),
            "Person_ID": _take(pid, aref[w6]),
            "UniqMonthID": 1500,
            "CodedAssToolType": _take(codes, w6),
            "PersScore": _take(text, w6),
            "AssToolCompTimestamp": pd.to_datetime(adate[w6]),
        }
    )
    dup = a606.sample(frac=0.01, random_state=seed)
    dup = dup.assign(MHS606UniqID=dup["MHS606UniqID"] + 500000000)
    a606 = pd.concat([a606, dup], ignore_index=True)
    a607 = pd.DataFrame(
        {
            "MHS607UniqID": 2000000000 + ids[w7],
            "UniqServReqID": _take(rid, aref[w7]),
            "Person_ID": _take(pid, aref[w7]),
            "UniqMonthID": 1500,
            "UniqCareContID": _take(cid, c_pick[w7]),
            "CodedAssToolType": _take(codes, w7),
            "PersScore": _take(text, w7),
        }
    )
    sub = pd.DataFrame(
        {
            "SubICB_Code": ["00X", "01A", "02B", "03C"],
            "SubICB_Name": ["Sub-ICB 00X", "Sub-ICB 01A", "Sub-ICB 02B", "Sub-ICB 03C"],
            "ICB_Code": ["QWE", "QWE", "QMJ", "QMJ"],
            "ICB_Name": ["ICB QWE", "ICB QWE", "ICB QMJ", "ICB QMJ"],
            "Region_Code": ["Y56", "Y56", "Y56", "Y56"],
            "Region_Name": ["London"] * 4,
        }
    )
    imd = pd.DataFrame({"LSOA2011": _take(lsoa), "IMD_Decile": (np.arange(60) % 10) + 1})
    return {
        "MHS001MPI": mpi,
        "MHS101Referral": ref,
        "MHS102OtherServiceType": team,
        "MHS201CareContact": con,
        "MHS204IndirectActivity": ind,
        "MHS501HospProvSpell": spell,
        "MHS606CodedScoreAssessmentRefer": a606,
        "MHS607CodedScoreAssessmentAct": a607,
        "ref_sub_icb": sub,
        "ref_lsoa_imd": imd,
    }


@validate_params({"tables": "no_validation", "folder": [str, Path], "format": [str]})
def write_extract(
    tables: dict[str, pd.DataFrame], folder: str | Path, *, format: str = "parquet"
) -> Path:
    """Write an extract as ``<Table>.parquet`` (or ``.csv``) files, the folder shape that
    ``oc.mhsds.read`` and ``outcomes nhs-metric`` take.

    Example:
        >>> import tempfile, outcomes as oc
        >>> from outcomes.synthetic.mhsds import simulate_mhsds, write_extract
        >>> folder = write_extract(simulate_mhsds(100, seed=1), tempfile.mkdtemp())
        >>> len(oc.mhsds.read(folder, engine="duckdb").tables["MHS101Referral"])
        100
    """
    if format not in ("parquet", "csv"):
        from .._internal.text import unknown

        raise ValueError(unknown("format", format, ("parquet", "csv")))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        if format == "parquet":
            df.to_parquet(folder / f"{name}.parquet", index=False)
        else:
            df.to_csv(folder / f"{name}.csv", index=False)
    return folder


# The programme's broad groups as the first NHS code of each group (the metric's ethnicity
# breakdown reports the groups, so the choice of code within a group does not show)
_ETHNICITY = {"White": "A", "Mixed": "D", "Asian": "H", "Black": "M", "Other": "S"}
_GENDER = {"male": "1", "female": "2"}


@validate_params({"data": "no_validation", "provider": [str], "local_authority": [str]})
def from_programme(
    data, *, provider: str = "RXX", local_authority: str = "E08000018"
) -> dict[str, pd.DataFrame]:
    """The simulated programme (:class:`~outcomes.synthetic.ProgrammeData`) as the MHSDS
    extract its services would submit: people, referrals, contacts and the scale scores of
    every instrument with SNOMED codes (``snomed:`` in the instrument YAML), one row per score
    in ``MHS606CodedScoreAssessmentRefer``. The same children and scores as the item-level
    tables, so the demo can show both paths.

    Mapping: each team is a provider (``provider`` + team letter); a not-accepted referral is
    rejected on its referral date; contacts are the first and second contact dates and the
    rest of ``n_contacts`` spread evenly up to discharge, all attended face to face; gender
    male/female -> 1/2, otherwise 9; ethnicity groups -> NHS codes A, D, H, M, S (not known:
    99). LSOA and sub-ICB are not simulated (their breakdowns are ``UNKNOWN``).

    Example:
        >>> import outcomes as oc
        >>> from outcomes.synthetic import demo_programme
        >>> from outcomes.synthetic.mhsds import from_programme
        >>> ex = oc.mhsds.read(from_programme(demo_programme()))
        >>> sorted(ex.tables)[:2]
        ['MHS001MPI', 'MHS101Referral']
    """
    import outcomes as oc

    from ..coded_scores import snomed_index

    refs = data.referrals
    people = refs.drop_duplicates("person_id")
    mpi = pd.DataFrame(
        {
            "Person_ID": people["person_id"].astype(str).to_numpy(),
            "Gender": people["gender"].map(_GENDER).fillna("9").to_numpy(),
            "NHSDEthnicity": people["ethnicity"].map(_ETHNICITY).fillna("99").to_numpy(),
            "LADistrictAuth": local_authority,
        }
    )
    team = refs["team"].astype(str)
    accepted = refs["accepted"].fillna(False).astype(bool)
    ref = pd.DataFrame(
        {
            "UniqServReqID": refs["referral_id"].astype(str).to_numpy(),
            "Person_ID": refs["person_id"].astype(str).to_numpy(),
            "OrgIDProv": (provider + team.str[-1].str.upper()).to_numpy(),
            "ReferralRequestReceivedDate": refs["referral_date"].to_numpy(),
            "ServDischDate": refs["discharge_date"].to_numpy(),
            "AgeServReferRecDate": refs["age"].to_numpy(),
            "ReferRejectionDate": refs["referral_date"].where(~accepted).to_numpy(),
        }
    )
    rows = []
    for r in refs.itertuples(index=False):
        if pd.isna(r.first_contact_date):
            continue
        dates = [r.first_contact_date]
        if pd.notna(r.second_contact_date):
            dates.append(r.second_contact_date)
            rest = int(r.n_contacts) - 2
            end = r.discharge_date if pd.notna(r.discharge_date) else r.second_contact_date
            for k in range(1, rest + 1):
                dates.append(r.second_contact_date + (end - r.second_contact_date) * k / (rest + 1))
        for k, d in enumerate(dates):
            rows.append((f"{r.referral_id}-C{k + 1}", str(r.referral_id), str(r.person_id), d))
    con = pd.DataFrame(
        rows, columns=["UniqCareContID", "UniqServReqID", "Person_ID", "CareContDate"]
    )
    con["CareContDate"] = pd.to_datetime(con["CareContDate"]).dt.normalize()
    con["AttendStatus"] = "5"
    con["ConsMechanismMH"] = "01"
    con.insert(0, "MHS201UniqID", np.arange(len(con)) + 1)

    code_of: dict[tuple[str, str], str] = {}
    for code, key in snomed_index().items():
        code_of.setdefault(key, code)
    scores = []
    for inst, frame in data.responses.items():
        mine = {s: c for (i, s), c in code_of.items() if i == inst}
        if not mine or frame.empty:
            continue
        scored = oc.score(frame, inst)
        scored = scored[scored["referral_id"].notna()]
        for scale, code in mine.items():
            if scale not in scored.columns:
                continue
            v = scored[["person_id", "referral_id", "date", scale]].dropna()
            num = v[scale].astype("float64").round(2)
            text = np.where(num % 1 == 0, num.map("{:.0f}".format), num.map("{:g}".format))
            scores.append(
                pd.DataFrame(
                    {
                        "UniqServReqID": v["referral_id"].astype(str).to_numpy(),
                        "Person_ID": v["person_id"].astype(str).to_numpy(),
                        "CodedAssToolType": code,
                        "PersScore": text,
                        "AssToolCompTimestamp": pd.to_datetime(v["date"]).to_numpy(),
                    }
                )
            )
    a606 = pd.concat(scores, ignore_index=True) if scores else pd.DataFrame()
    a606.insert(0, "MHS606UniqID", np.arange(len(a606)) + 1)
    return {
        "MHS001MPI": mpi,
        "MHS101Referral": ref,
        "MHS201CareContact": con,
        "MHS606CodedScoreAssessmentRefer": a606,
    }
