"""``engine="pandas"``: the steps of :mod:`outcomes.mhsds.method` in pandas, for machines
without a database and as an independent check of the SQL (the tests require equal results
on the hand-built and the synthetic extracts). Step names and reasons are the SQL's; each
function below restates one view. Dates are ``datetime64``; the 32-bit arithmetic uses
``numpy.float32`` exactly as the SQL's ``CAST(... AS FLOAT)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import method as m
from .reference import (
    AGE_BANDS,
    ATTENDED,
    DIGITAL_MECHANISMS,
    DIGITAL_PROVIDERS,
    DIRECT_MECHANISMS,
    EARLIEST_REFERRAL,
    EXCLUDED_TEAM_TYPES,
    GENDER,
    IMD_DECILE,
    REFERRAL_REASONS,
    UPPER_ETHNICITY,
)

F32 = np.float32


def _latest(df: pd.DataFrame, key: str) -> pd.DataFrame:
    d = df[df[key].notna()].copy()
    d["_m"] = d["UniqMonthID"].astype("float64")
    d = d.sort_values(["_m", "_row"], ascending=[False, False], na_position="last", kind="stable")
    return d.drop_duplicates(key, keep="first").drop(columns="_m")


def _f32(x: pd.Series) -> np.ndarray:
    return x.astype("float64").to_numpy().astype(F32)


def run(frames: dict[str, pd.DataFrame], start: str, end: str, by: list[str]) -> dict:
    t = {k[3:]: v for k, v in frames.items()}  # "in_X" -> "X"
    ps, pe = pd.Timestamp(start), pd.Timestamp(end)
    ref = _latest(t["MHS101Referral"], "UniqServReqID")
    mpi = _latest(t["MHS001MPI"], "Person_ID")
    for d in (ref, t["MHS102OtherServiceType"]):
        d["ReferRejectionDate"] = pd.to_datetime(d["ReferRejectionDate"])

    # teams (3.2)
    own = ref[["UniqServReqID", "ServTeamType", "ReferRejectionDate"]].set_axis(
        ["UniqServReqID", "team_type", "rejected"], axis=1
    )
    oth = t["MHS102OtherServiceType"][
        ["UniqServReqID", "ServTeamTypeRefToMH", "ReferRejectionDate"]
    ].set_axis(["UniqServReqID", "team_type", "rejected"], axis=1)
    teams = pd.concat([own, oth], ignore_index=True)
    ok = teams["rejected"].isna() & (
        teams["team_type"].isna() | ~teams["team_type"].isin(EXCLUDED_TEAM_TYPES)
    )
    teams_ok = (
        teams[ok]
        .assign(team_type=lambda d: d["team_type"].fillna("UNKNOWN"))
        .drop_duplicates(["UniqServReqID", "team_type"])[["UniqServReqID", "team_type"]]
    )

    # scope (3.2): the first failing rule is the reason
    mcols = ["Person_ID", "Gender", "GenderIDCode", "NHSDEthnicity", "LSOA2011"]
    mcols += ["OrgIDSubICBLocResidence", "LADistrictAuth"]
    s = ref.merge(mpi[mcols].assign(_has=True), on="Person_ID", how="left")
    spells = t["MHS501HospProvSpell"]
    has_spell = pd.MultiIndex.from_frame(s[["UniqServReqID", "Person_ID"]].astype(object)).isin(
        pd.MultiIndex.from_frame(spells[["UniqServReqID", "Person_ID"]].astype(object))
    )
    dis = pd.to_datetime(s["ServDischDate"])
    rec = pd.to_datetime(s["ReferralRequestReceivedDate"])
    age = s["AgeServReferRecDate"].astype("float64")
    la = s["LADistrictAuth"].astype(object)
    la_ok = la.isna() | (la.fillna("").str.strip() == "") | la.fillna("").str.startswith("E")
    rules = [
        (s["_has"].isna(), m.R_NO_MPI),
        (dis.isna(), m.R_OPEN),
        ((dis < ps) | (dis > pe), m.R_PERIOD),
        (age.isna() | (age < 0) | (age > 17), m.R_AGE),
        (rec.isna() | (rec < pd.Timestamp(EARLIEST_REFERRAL)), m.R_OLD),
        (pd.Series(has_spell, index=s.index), m.R_SPELL),
        (~la_ok, m.R_LA),
        (~s["UniqServReqID"].isin(teams_ok["UniqServReqID"]), m.R_TEAM),
    ]
    reason = np.select(
        [c.fillna(False).to_numpy(bool) for c, _ in rules], [r for _, r in rules], ""
    )
    s["reason"] = reason
    s["ServDischDate"] = dis
    s["in_scope"] = s["reason"] == ""

    # contacts (3.3)
    c = t["MHS201CareContact"]
    direct = c["AttendStatus"].isin(ATTENDED) & (
        c["ConsMechanismMH"].isin(DIRECT_MECHANISMS)
        | (c["OrgIDProv"].isin(DIGITAL_PROVIDERS) & c["ConsMechanismMH"].isin(DIGITAL_MECHANISMS))
    )
    ind = t["MHS204IndirectActivity"].drop_duplicates(
        ["UniqServReqID", "Person_ID", "IndirectActDate", "IndirectActTime"]
    )
    act = pd.concat(
        [
            c.loc[direct, ["UniqServReqID", "Person_ID", "CareContDate"]].set_axis(
                ["UniqServReqID", "Person_ID", "act_date"], axis=1
            ),
            ind[["UniqServReqID", "Person_ID", "IndirectActDate"]].set_axis(
                ["UniqServReqID", "Person_ID", "act_date"], axis=1
            ),
        ],
        ignore_index=True,
    )
    act["act_date"] = pd.to_datetime(act["act_date"])
    act = act.merge(
        s.loc[s["in_scope"], ["UniqServReqID", "Person_ID", "ServDischDate"]],
        on=["UniqServReqID", "Person_ID"],
    )
    act = act[act["act_date"].notna() & (act["act_date"] <= act["ServDischDate"])]
    act = act.sort_values(["UniqServReqID", "act_date"], kind="stable")
    act["k"] = act.groupby("UniqServReqID").cumcount() + 1
    con = act.groupby("UniqServReqID").agg(n_contacts=("k", "size"))
    con["contact1"] = act[act["k"] == 1].set_index("UniqServReqID")["act_date"]
    con["contact2"] = act[act["k"] == 2].set_index("UniqServReqID")["act_date"]
    r = s.merge(con.reset_index(), on="UniqServReqID", how="left")
    r["n_contacts"] = r["n_contacts"].fillna(0).astype("int64")

    # assessments (3.4)
    a6 = t["MHS606CodedScoreAssessmentRefer"]
    a7 = t["MHS607CodedScoreAssessmentAct"]
    cdate = (
        c.assign(CareContDate=pd.to_datetime(c["CareContDate"]))
        .groupby(["UniqServReqID", "UniqCareContID"], dropna=False)["CareContDate"]
        .min()
        .reset_index()
    )
    a7d = a7.merge(cdate, on=["UniqServReqID", "UniqCareContID"], how="left")
    a = pd.concat(
        [
            pd.DataFrame(
                {
                    "source": "MHS606",
                    "id": a6["MHS606UniqID"].astype("float64"),
                    "_row": a6["_row"],
                    "UniqServReqID": a6["UniqServReqID"],
                    "Person_ID": a6["Person_ID"],
                    "code": a6["CodedAssToolType"],
                    "PersScore": a6["PersScore"],
                    "score": a6["score"].astype("float64"),
                    "score_date": pd.to_datetime(a6["AssToolCompTimestamp"]).dt.normalize(),
                }
            ),
            pd.DataFrame(
                {
                    "source": "MHS607",
                    "id": a7d["MHS607UniqID"].astype("float64"),
                    "_row": a7d["_row"],
                    "UniqServReqID": a7d["UniqServReqID"],
                    "Person_ID": a7d["Person_ID"],
                    "code": a7d["CodedAssToolType"],
                    "PersScore": a7d["PersScore"],
                    "score": a7d["score"].astype("float64"),
                    "score_date": a7d["CareContDate"],
                }
            ),
        ],
        ignore_index=True,
    )
    meas = t["measures"].rename(columns={"min": "min_score", "max": "max_score"})
    a = a.merge(
        meas[
            [
                "code",
                "nhs_scale",
                "rater",
                "min_score",
                "max_score",
                "threshold",
                "higher_is_better",
            ]
        ],
        on="code",
        how="left",
    )
    v32 = _f32(a["score"])
    with np.errstate(invalid="ignore"):
        valid = (
            a["score"].notna().to_numpy()
            & (v32 >= _f32(a["min_score"]))
            & (v32 <= _f32(a["max_score"]))
        )
    a["pre_reason"] = np.select(
        [a["nhs_scale"].isna().to_numpy(), a["score_date"].isna().to_numpy(), ~valid],
        [m.U_CODE, m.U_NODATE, m.U_INVALID],
        "",
    )
    a = a.sort_values(["id", "source", "_row"], kind="stable")
    dkey = ["Person_ID", "score_date", "UniqServReqID", "nhs_scale", "PersScore", "pre_reason"]
    dup = a.duplicated(dkey, keep="first")
    a["dreason"] = np.where(a["pre_reason"] != "", a["pre_reason"], np.where(dup, m.U_DUP, ""))

    # linking, window and RCADS T (3.4-3.5)
    rr = r[
        ["UniqServReqID", "Person_ID", "in_scope", "contact1", "contact2", "ServDischDate"]
        + ["AgeServReferRecDate", "Gender"]
    ].rename(columns={"Person_ID": "_ref_person"})
    a = a.merge(rr, on="UniqServReqID", how="left", indicator="_m")
    no_ref = (a["_m"] == "left_only").to_numpy()
    person_bad = (
        a["Person_ID"].isna().to_numpy()
        | (a["_ref_person"].astype(object) != a["Person_ID"].astype(object)).to_numpy()
    )
    sd = a["score_date"]
    a["lreason"] = np.select(
        [
            (a["dreason"] != "").to_numpy(),
            no_ref,
            person_bad,
            ~a["in_scope"].fillna(False).astype(bool).to_numpy(),
            a["contact2"].isna().to_numpy(),
            (sd < a["contact1"]).fillna(False).to_numpy(bool),
            (sd > a["ServDischDate"]).fillna(False).to_numpy(bool),
        ],
        [
            a["dreason"].to_numpy(),
            m.U_NOREF,
            m.U_PERSON,
            m.U_SCOPE,
            m.U_NOC2,
            m.U_BEFORE,
            m.U_AFTER,
        ],
        "",
    )
    sex = np.select([a["Gender"] == "1", a["Gender"] == "2"], ["M", "F"], None)
    norms = t["norms"]
    a["_sex"] = sex
    a["_age"] = a["AgeServReferRecDate"].astype("float64")
    a = a.merge(
        norms.rename(columns={"sex": "_sex", "age": "_age"}).assign(
            _age=lambda d: d["_age"].astype("float64")
        ),
        on=["nhs_scale", "_sex", "_age"],
        how="left",
    )
    raw32 = _f32(a["score"])
    with np.errstate(invalid="ignore"):
        tval = (
            ((raw32.astype("float64") - a["mean"].to_numpy()) / a["sd"].to_numpy()) * 10 + 50
        ).astype(F32)
    has_norm = a["mean"].notna().to_numpy()
    a["value32"] = np.where(has_norm, tval, raw32)
    a["t_score"] = has_norm

    # first and last (3.6)
    u = a[a["lreason"] == ""].sort_values(
        ["UniqServReqID", "nhs_scale", "score_date", "id", "source"], kind="stable"
    )
    g = u.groupby(["UniqServReqID", "nhs_scale"], sort=False)
    u = u.assign(k=g.cumcount() + 1, n_usable=g["id"].transform("size"))
    is_last = (u["k"] == u["n_usable"]) & (u["k"] > 1) & (u["score_date"] >= u["contact2"])
    mid = (u["k"] > 1) & ~is_last
    ucols = ["source", "id", "_row", "UniqServReqID", "Person_ID", "code", "PersScore"]
    ucols += ["score_date", "nhs_scale"]
    unused = pd.concat(
        [
            a.loc[a["lreason"] != "", ucols].assign(reason=a.loc[a["lreason"] != "", "lreason"]),
            u.loc[mid, ucols].assign(
                reason=np.where(u.loc[mid, "k"] == u.loc[mid, "n_usable"], m.U_NOLAST, m.U_MIDDLE)
            ),
        ],
        ignore_index=True,
    )
    first = u[u["k"] == 1]
    last = u[is_last]
    keep = ["UniqServReqID", "nhs_scale", "score_date", "id", "score", "value32"]
    mm = first[keep + ["rater", "threshold", "higher_is_better", "t_score"]].merge(
        last[keep], on=["UniqServReqID", "nhs_scale"], how="left", suffixes=("_f", "_l")
    )
    fv, lv = mm["value32_f"].to_numpy(F32), mm["value32_l"].astype("float64").to_numpy().astype(F32)
    change = (lv - fv).astype(F32)
    thr = mm["threshold"].to_numpy("float64").astype(F32)
    hib = mm["higher_is_better"].astype(bool).to_numpy()
    with np.errstate(invalid="ignore"):
        cls = np.select(
            [
                mm["id_l"].isna().to_numpy(),
                np.abs(change) < thr,
                (hib & (change > 0)) | (~hib & (change < 0)),
            ],
            [None, "no_change", "improvement"],
            "deterioration",
        )
    measures = pd.DataFrame(
        {
            "UniqServReqID": mm["UniqServReqID"],
            "nhs_scale": mm["nhs_scale"],
            "rater": mm["rater"],
            "threshold": mm["threshold"],
            "higher_is_better": mm["higher_is_better"],
            "first_date": mm["score_date_f"],
            "first_id": mm["id_f"],
            "first_raw": mm["score_f"],
            "first_value": fv,
            "last_date": mm["score_date_l"],
            "last_id": mm["id_l"],
            "last_raw": mm["score_l"],
            "last_value": np.where(mm["id_l"].isna(), np.nan, lv),
            "t_score": mm["t_score"],
            "change": np.where(mm["id_l"].isna(), np.nan, change),
            "class": cls,
        }
    )

    # per referral and rater (3.9)
    per = r.copy()
    per["counted"] = (per["in_scope"] & per["contact2"].notna()).astype("int64")
    for x in m.RATERS3:
        mx = measures[measures["rater"] == x]
        assessed = set(mx["UniqServReqID"])
        paired = set(mx.loc[mx["class"].notna(), "UniqServReqID"])
        imp = set(mx.loc[mx["class"] == "improvement", "UniqServReqID"])
        det = set(mx.loc[mx["class"] == "deterioration", "UniqServReqID"])
        rid = per["UniqServReqID"]
        per[f"{x}_assessed"] = rid.isin(assessed).astype("int64")
        per[f"{x}_paired"] = rid.isin(paired).astype("int64")
        per[f"{x}_outcome"] = np.select(
            [~rid.isin(paired), rid.isin(det), rid.isin(imp)],
            [None, "deterioration", "improvement"],
            "no_change",
        )

    # levels (3.11) and aggregation (3.10)
    lv_parts = []
    ins = per[per["in_scope"]]
    for b in by:
        if b == "england":
            lev = pd.Series("England", index=ins.index)
            desc = lev
        elif b == "provider":
            lev = ins["OrgIDProv"].fillna("UNKNOWN")
            desc = lev
        elif b in ("icb", "region"):
            col, name = ("ICB_Code", "ICB_Name") if b == "icb" else ("Region_Code", "Region_Name")
            look = t["ref_sub_icb"].set_index("SubICB_Code")
            code = ins["OrgIDSubICBLocResidence"].map(look[col])
            lev = code.fillna("UNKNOWN")
            desc = ins["OrgIDSubICBLocResidence"].map(look[name]).fillna(lev)
        elif b == "age_band":
            ag = ins["AgeServReferRecDate"].astype("float64")
            lev = pd.Series(
                np.select(
                    [(ag >= lo) & (ag <= hi) for lo, hi, _ in AGE_BANDS],
                    [x for *_, x in AGE_BANDS],
                    "UNKNOWN",
                ),
                index=ins.index,
            )
            desc = lev
        elif b == "gender":
            gi, gg = ins["GenderIDCode"], ins["Gender"]
            lev = pd.Series(
                np.select(
                    [gi.isin(["1", "2", "3", "4"]), gg.isin(["1", "2", "9"])], [gi, gg], "UNKNOWN"
                ),
                index=ins.index,
            )
            desc = lev.map(GENDER).fillna("UNKNOWN")
        elif b == "ethnicity":
            lev = ins["NHSDEthnicity"].map(UPPER_ETHNICITY).fillna("UNKNOWN")
            desc = lev
        elif b == "imd_decile":
            look = t["ref_lsoa_imd"].set_index("LSOA2011")["IMD_Decile"]
            dec = ins["LSOA2011"].map(look).astype("float64")
            lev = dec.map({float(k): v for k, v in IMD_DECILE.items()}).fillna("UNKNOWN")
            desc = lev
        elif b == "referral_reason":
            rr_ = ins["PrimReasonReferralMH"]
            lev = rr_.where(rr_.isin(REFERRAL_REASONS), "UNKNOWN").fillna("UNKNOWN")
            desc = lev
        elif b == "team_type":
            tt = ins[["UniqServReqID"]].merge(teams_ok, on="UniqServReqID")
            lv_parts.append(
                pd.DataFrame(
                    {
                        "UniqServReqID": tt["UniqServReqID"],
                        "breakdown": b,
                        "level": tt["team_type"],
                        "level_description": tt["team_type"],
                    }
                )
            )
            continue
        lv_parts.append(
            pd.DataFrame(
                {
                    "UniqServReqID": ins["UniqServReqID"],
                    "breakdown": b,
                    "level": lev.astype(object),
                    "level_description": desc.astype(object),
                }
            )
        )
    levels = pd.concat(lv_parts, ignore_index=True)
    j = levels.merge(per, on="UniqServReqID")
    cnt = j["counted"] == 1
    j["n_referrals"] = j["counted"]
    j["any_assessed"] = (cnt & j[[f"{x}_assessed" for x in m.RATERS3]].eq(1).any(axis=1)).astype(
        int
    )
    j["any_paired"] = (cnt & j[[f"{x}_paired" for x in m.RATERS3]].eq(1).any(axis=1)).astype(int)
    out_cols = ["n_referrals", "any_assessed", "any_paired"]
    for x in m.RATERS3:
        j[f"{x}_assessed"] = j[f"{x}_assessed"].where(cnt, 0)
        j[f"{x}_paired"] = j[f"{x}_paired"].where(cnt, 0)
        out_cols += [f"{x}_assessed", f"{x}_paired"]
        for o in ("improvement", "no_change", "deterioration"):
            j[f"{x}_{o}"] = (cnt & (j[f"{x}_outcome"] == o)).astype(int)
            out_cols.append(f"{x}_{o}")
    wide = j.groupby(["breakdown", "level"], as_index=False).agg(
        level_description=("level_description", "max"), **{c: (c, "sum") for c in out_cols}
    )
    per_out = per.drop(columns=["_has", "_row", "rn"], errors="ignore")
    return {"wide": wide, "referrals": per_out, "measures": measures, "unused": unused}
