"""NHS England's CYP outcomes metric (MHS110-MHS115) written once, as SQL views that run
unchanged on DuckDB and on Spark SQL (specs/mhsds.md section 3; each step cites it).

Why plain SQL and not Ibis: the method is a chain of joins, window functions and
aggregations that both engines express with the same ANSI constructs (ROW_NUMBER, CASE,
COUNT(DISTINCT), CAST to FLOAT for NHS's 32-bit arithmetic); NHS Digital's own code is Spark
SQL, so a reviewer can set each step beside it; and it adds no dependency (Ibis 10 has no
pandas backend and pins its own PySpark range). The dialect is kept to what both engines
share; the tests run every step on both and compare the results.

Each step is ``(view name, SELECT ...)``; an engine materialises them in order.
"""

from __future__ import annotations

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
from .schema import REFERENCE, TABLES

RATERS3 = ("self", "parent", "clinician")

# Why an in-scope check fails, in the order tested (the first failing one is the reason).
R_NO_MPI = "no MHS001MPI record for the person"
R_OPEN = "not discharged"
R_PERIOD = "discharged outside the period"
R_AGE = "age at referral missing or outside 0-17"
R_OLD = "referral received before 2016-01-01 (or date missing)"
R_SPELL = "inpatient spell (MHS501)"
R_LA = "local authority outside England"
R_TEAM = "no team row that is neither rejected nor an excluded team type"

# Why an assessment row is not used.
U_CODE = "code not in the metric"
U_NODATE = "no date (MHS607 contact absent, or timestamp missing)"
U_INVALID = "score missing, not a number or outside the scale range"
U_DUP = "duplicate of a lower id (same person, date, referral, scale, score)"
U_NOREF = "no referral with this UniqServReqID"
U_PERSON = "Person_ID differs from that of the referral"
U_SCOPE = "referral not in scope"
U_NOC2 = "referral has no second contact"
U_BEFORE = "before the first contact"
U_AFTER = "after discharge"
U_MIDDLE = "neither the first nor the last score"
U_NOLAST = "only score of its scale on this referral (or none on or after Contact2)"

_SQL_TYPES = {
    "text": "STRING",
    "time": "STRING",
    "int": "BIGINT",
    "date": "DATE",
    "timestamp": "DATE",
}


def _q(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _first(checks: list[tuple[str, str]]) -> str:
    """The reason of the first check that holds, else ''."""
    return "CASE " + " ".join(f"WHEN {c} THEN '{r}'" for c, r in checks) + " ELSE '' END"


def _none(checks: list[tuple[str, str]]) -> str:
    """No check holds (a check that is NULL does not hold, as in :func:`_first`)."""
    return " AND ".join(f"NOT COALESCE({c}, FALSE)" for c, _ in checks)


def _case(expr: str, mapping: dict, default: str = "UNKNOWN") -> str:
    whens = " ".join(f"WHEN {expr} = '{k}' THEN '{v}'" for k, v in mapping.items())
    return f"CASE {whens} ELSE '{default}' END"


def staging() -> list[tuple[str, str]]:
    """Typed views ``t_<table>`` over the raw inputs ``in_<table>`` (same in both engines)."""
    out = []
    for name, spec in TABLES.items():
        cols = []
        for c, kind in spec["columns"].items():
            if kind == "score":
                cols += [f"CAST({c} AS STRING) AS {c}", "CAST(score AS DOUBLE) AS score"]
            else:
                cols.append(f"CAST({c} AS {_SQL_TYPES[kind]}) AS {c}")
        cols.append("CAST(_row AS BIGINT) AS _row")
        out.append((f"t_{name}", f"SELECT {', '.join(cols)} FROM in_{name}"))
    for name, cols in REFERENCE.items():
        sel = ", ".join(f"CAST({c} AS {_SQL_TYPES[k]}) AS {c}" for c, k in cols.items())
        out.append((f"t_{name}", f"SELECT {sel} FROM in_{name}"))
    out.append(
        (
            "t_measures",
            "SELECT CAST(code AS STRING) AS code, CAST(nhs_scale AS STRING) AS nhs_scale, "
            "CAST(rater AS STRING) AS rater, CAST(min AS DOUBLE) AS min_score, "
            "CAST(max AS DOUBLE) AS max_score, CAST(threshold AS DOUBLE) AS threshold, "
            "CAST(higher_is_better AS BOOLEAN) AS higher_is_better FROM in_measures",
        )
    )
    out.append(
        (
            "t_norms",
            "SELECT CAST(nhs_scale AS STRING) AS nhs_scale, CAST(sex AS STRING) AS sex, "
            "CAST(age AS BIGINT) AS age, CAST(mean AS DOUBLE) AS mean, "
            "CAST(sd AS DOUBLE) AS sd FROM in_norms",
        )
    )
    return out


def steps(period_start: str, period_end: str) -> list[tuple[str, str]]:
    """The method after staging. Period bounds are ISO dates (inclusive)."""
    ps, pe = f"DATE '{period_start}'", f"DATE '{period_end}'"
    s: list[tuple[str, str]] = []
    # 3.1: the latest record per referral and per person
    s.append(
        (
            "ref",
            "SELECT * FROM (SELECT r.*, ROW_NUMBER() OVER (PARTITION BY UniqServReqID "
            "ORDER BY UniqMonthID DESC NULLS LAST, _row DESC) AS rn "
            "FROM t_MHS101Referral r WHERE UniqServReqID IS NOT NULL) x WHERE rn = 1",
        )
    )
    s.append(
        (
            "mpi",
            "SELECT * FROM (SELECT p.*, ROW_NUMBER() OVER (PARTITION BY Person_ID "
            "ORDER BY UniqMonthID DESC NULLS LAST, _row DESC) AS rn "
            "FROM t_MHS001MPI p WHERE Person_ID IS NOT NULL) x WHERE rn = 1",
        )
    )
    # 3.2: team rows = the referral's own plus MHS102; a row passes when not rejected and
    # not an excluded team type (a missing type passes)
    s.append(
        (
            "teams",
            "SELECT UniqServReqID, ServTeamType AS team_type, ReferRejectionDate AS rejected "
            "FROM ref UNION ALL SELECT UniqServReqID, ServTeamTypeRefToMH, ReferRejectionDate "
            "FROM t_MHS102OtherServiceType",
        )
    )
    s.append(
        (
            "teams_ok",
            "SELECT DISTINCT UniqServReqID, COALESCE(team_type, 'UNKNOWN') AS team_type "
            f"FROM teams WHERE rejected IS NULL AND (team_type IS NULL OR team_type NOT IN "
            f"({_q(EXCLUDED_TEAM_TYPES)}))",
        )
    )
    spell = (
        "EXISTS (SELECT 1 FROM t_MHS501HospProvSpell h WHERE h.UniqServReqID = r.UniqServReqID "
        "AND h.Person_ID = r.Person_ID)"
    )
    team_ok = "EXISTS (SELECT 1 FROM teams_ok t WHERE t.UniqServReqID = r.UniqServReqID)"
    la = "p.LADistrictAuth"
    reason = (
        "CASE "
        f"WHEN p.Person_ID IS NULL THEN '{R_NO_MPI}' "
        f"WHEN r.ServDischDate IS NULL THEN '{R_OPEN}' "
        f"WHEN r.ServDischDate < {ps} OR r.ServDischDate > {pe} THEN '{R_PERIOD}' "
        "WHEN r.AgeServReferRecDate IS NULL OR r.AgeServReferRecDate < 0 "
        f"OR r.AgeServReferRecDate > 17 THEN '{R_AGE}' "
        "WHEN r.ReferralRequestReceivedDate IS NULL OR r.ReferralRequestReceivedDate < "
        f"DATE '{EARLIEST_REFERRAL}' THEN '{R_OLD}' "
        f"WHEN {spell} THEN '{R_SPELL}' "
        f"WHEN NOT ({la} IS NULL OR TRIM({la}) = '' OR SUBSTR({la}, 1, 1) = 'E') THEN '{R_LA}' "
        f"WHEN NOT {team_ok} THEN '{R_TEAM}' "
        "ELSE '' END"
    )
    s.append(
        (
            "scope",
            "SELECT r.UniqServReqID, r.Person_ID, r.OrgIDProv, r.ServDischDate, "
            "r.AgeServReferRecDate, r.PrimReasonReferralMH, p.Gender, p.GenderIDCode, "
            "p.NHSDEthnicity, p.LSOA2011, p.OrgIDSubICBLocResidence, "
            f"{reason} AS reason FROM ref r LEFT JOIN mpi p ON p.Person_ID = r.Person_ID",
        )
    )
    # 3.3: qualifying activity of in-scope referrals, on or before discharge
    direct = (
        f"c.AttendStatus IN ({_q(ATTENDED)}) AND (c.ConsMechanismMH IN ({_q(DIRECT_MECHANISMS)}) "
        f"OR (c.OrgIDProv IN ({_q(DIGITAL_PROVIDERS)}) AND c.ConsMechanismMH IN "
        f"({_q(DIGITAL_MECHANISMS)})))"
    )
    s.append(
        (
            "activity",
            "SELECT UniqServReqID, Person_ID, CareContDate AS act_date FROM t_MHS201CareContact c "
            f"WHERE {direct} UNION ALL SELECT UniqServReqID, Person_ID, IndirectActDate FROM "
            "(SELECT DISTINCT UniqServReqID, Person_ID, IndirectActDate, IndirectActTime "
            "FROM t_MHS204IndirectActivity) i",
        )
    )
    s.append(
        (
            "contacts",
            "SELECT UniqServReqID, COUNT(*) AS n_contacts, "
            "MAX(CASE WHEN k = 1 THEN act_date END) AS contact1, "
            "MAX(CASE WHEN k = 2 THEN act_date END) AS contact2 FROM ("
            "SELECT a.UniqServReqID, a.act_date, ROW_NUMBER() OVER (PARTITION BY a.UniqServReqID "
            "ORDER BY a.act_date) AS k FROM activity a JOIN scope s ON "
            "s.UniqServReqID = a.UniqServReqID AND s.Person_ID = a.Person_ID "
            "WHERE s.reason = '' AND a.act_date IS NOT NULL AND a.act_date <= s.ServDischDate) x "
            "GROUP BY UniqServReqID",
        )
    )
    s.append(
        (
            "referrals",
            "SELECT s.*, CASE WHEN s.reason = '' THEN TRUE ELSE FALSE END AS in_scope, "
            "COALESCE(c.n_contacts, 0) AS n_contacts, c.contact1, c.contact2 "
            "FROM scope s LEFT JOIN contacts c ON c.UniqServReqID = s.UniqServReqID",
        )
    )
    # 3.4: assessments from both tables; MHS607 dated by its contact (even if not attended):
    # the earliest MHS201 date of its (UniqServReqID, UniqCareContID). Why per MHS607 row
    # (grouped by _row) and not per contact: only the contacts that have scores are grouped
    # (a quarter of the contacts at national scale), and the assessments join it on one
    # integer.
    s.append(
        (
            "contact_dates",
            "SELECT a._row, MIN(c.CareContDate) AS CareContDate "
            "FROM t_MHS607CodedScoreAssessmentAct a JOIN t_MHS201CareContact c "
            "ON c.UniqServReqID = a.UniqServReqID AND c.UniqCareContID = a.UniqCareContID "
            "GROUP BY a._row",
        )
    )
    s.append(
        (
            "assess",
            "SELECT 'MHS606' AS source, MHS606UniqID AS id, _row, UniqServReqID, Person_ID, "
            "CodedAssToolType AS code, PersScore, score, AssToolCompTimestamp AS score_date "
            "FROM t_MHS606CodedScoreAssessmentRefer UNION ALL "
            "SELECT 'MHS607', a.MHS607UniqID, a._row, a.UniqServReqID, a.Person_ID, "
            "a.CodedAssToolType, a.PersScore, a.score, c.CareContDate "
            "FROM t_MHS607CodedScoreAssessmentAct a LEFT JOIN contact_dates c ON c._row = a._row",
        )
    )
    valid = (
        "a.score IS NOT NULL AND CAST(a.score AS FLOAT) >= CAST(m.min_score AS FLOAT) "
        "AND CAST(a.score AS FLOAT) <= CAST(m.max_score AS FLOAT)"
    )
    # why a row is not used, in the order tested: before linking (a = assess, m = t_measures)
    # and linking (r = referrals). Each list gives a reason column (the first check that
    # holds) and, for the metric's own rows, a filter (no check holds).
    pre_checks = [
        ("m.nhs_scale IS NULL", U_CODE),
        ("a.score_date IS NULL", U_NODATE),
        (f"NOT ({valid})", U_INVALID),
    ]
    link_checks = [
        ("r.UniqServReqID IS NULL", U_NOREF),
        ("r.Person_ID <> a.Person_ID OR a.Person_ID IS NULL", U_PERSON),
        ("NOT r.in_scope", U_SCOPE),
        ("r.contact2 IS NULL", U_NOC2),
        ("a.score_date < r.contact1", U_BEFORE),
        ("a.score_date > r.ServDischDate", U_AFTER),
    ]
    s.append(
        (
            "assess_m",
            "SELECT a.*, m.nhs_scale, m.rater, m.threshold, m.higher_is_better, "
            f"{_first(pre_checks)} AS pre_reason FROM assess a "
            "LEFT JOIN t_measures m ON m.code = a.code",
        )
    )
    # 3.4 linking, before the duplicate check (the method checks duplicates first). Why:
    # duplicates share person, date and referral, so every row of a duplicate group gets the
    # same linking outcome; the metric then needs the duplicate check only among rows that
    # link (a quarter of the score rows), and the check over every score row is left to the
    # ``unused`` detail table, computed when asked for. lreason is the first reason a row is
    # not used apart from duplication.
    cols = (
        "source id _row UniqServReqID Person_ID code PersScore score score_date nhs_scale "
        "rater threshold higher_is_better"
    ).split()
    s.append(
        (
            "assess_l",
            f"SELECT {', '.join('a.' + c for c in cols)}, a.pre_reason, CASE WHEN "
            f"a.pre_reason <> '' THEN a.pre_reason ELSE {_first(link_checks)} END AS lreason "
            "FROM assess_m a LEFT JOIN referrals r ON r.UniqServReqID = a.UniqServReqID",
        )
    )
    # the rows that pass every check (lreason = '' above), written as inner joins and a filter
    # so that the engine filters the referrals before joining 10 million rows to them.
    # De-duplication: same person, date, referral, scale and score text; the first by (id,
    # source, _row) is kept; among linked rows the person is the referral's, so the key needs
    # no Person_ID. 3.5: RCADS T-scores by sex and age; otherwise the raw score (quirk Q5);
    # float32 (Q6).
    sex = "CASE WHEN r.Gender = '1' THEN 'M' WHEN r.Gender = '2' THEN 'F' END"
    scale_cols = ("nhs_scale", "rater", "threshold", "higher_is_better")
    s.append(
        (
            "usable",
            f"SELECT {', '.join(('m.' if c in scale_cols else 'a.') + c for c in cols)}, r.contact2, "
            "CASE WHEN n.mean IS NULL THEN CAST(a.score AS FLOAT) ELSE CAST(((CAST(CAST(a.score "
            "AS FLOAT) AS DOUBLE) - n.mean) / n.sd) * 10 + 50 AS FLOAT) END AS value32, "
            "CASE WHEN n.mean IS NULL THEN FALSE ELSE TRUE END AS t_score, "
            "ROW_NUMBER() OVER (PARTITION BY a.UniqServReqID, m.nhs_scale, a.score_date, "
            "a.PersScore ORDER BY a.id, a.source, a._row) AS dn FROM assess a "
            "JOIN t_measures m ON m.code = a.code "
            "JOIN referrals r ON r.UniqServReqID = a.UniqServReqID "
            f"LEFT JOIN t_norms n ON n.nhs_scale = m.nhs_scale AND n.sex = {sex} "
            f"AND n.age = r.AgeServReferRecDate WHERE {_none(pre_checks + link_checks)}",
        )
    )
    # 3.6: first = earliest, last = latest when >= 2 and on or after Contact2 (ties by id)
    s.append(
        (
            "ranked",
            "SELECT u.*, ROW_NUMBER() OVER (PARTITION BY u.UniqServReqID, u.nhs_scale ORDER BY "
            "u.score_date, u.id, u.source) AS k, COUNT(*) OVER (PARTITION BY u.UniqServReqID, "
            "u.nhs_scale) AS n_usable FROM usable u WHERE u.dn = 1",
        )
    )
    # the duplicates among rows that do not link (for ``unused`` only). Why a hash: grouping
    # ~7 million rows by five columns to find the few keys seen twice is costly; grouping by
    # one integer, the hash of the five (hash() exists in both engines; DuckDB's is 64-bit,
    # Spark's 32-bit), then ranking only rows whose hash is seen twice by the real key, is not,
    # and a collision only adds a candidate. Missing Person_ID or UniqServReqID hash alike,
    # and the window's partitions treat missing as equal, as the method does.
    dkey = "Person_ID, score_date, UniqServReqID, nhs_scale, PersScore"
    nolink = "pre_reason = '' AND lreason <> ''"
    s.append(
        (
            "dup_hashes",
            f"SELECT h FROM (SELECT hash({dkey}) AS h FROM assess_l WHERE {nolink}) x "
            "GROUP BY h HAVING COUNT(*) > 1",
        )
    )
    s.append(
        (
            "dups",
            f"SELECT source, _row FROM (SELECT source, _row, ROW_NUMBER() OVER (PARTITION BY "
            f"{dkey} ORDER BY id, source, _row) AS n FROM assess_l WHERE {nolink} AND "
            f"hash({dkey}) IN (SELECT h FROM dup_hashes)) x WHERE n > 1",
        )
    )
    ucols = "source, id, _row, UniqServReqID, Person_ID, code, PersScore, score_date, nhs_scale"
    s.append(
        (
            "unused",
            f"SELECT {', '.join('a.' + c for c in ucols.split(', '))}, CASE WHEN d._row IS NOT "
            f"NULL THEN '{U_DUP}' ELSE a.lreason END AS reason FROM assess_l a LEFT JOIN dups d "
            "ON d.source = a.source AND d._row = a._row WHERE a.lreason <> '' UNION ALL "
            f"SELECT {ucols}, '{U_DUP}' FROM usable WHERE dn > 1 UNION ALL "
            f"SELECT {ucols}, CASE WHEN k = n_usable THEN '{U_NOLAST}' "
            f"ELSE '{U_MIDDLE}' END FROM ranked WHERE k > 1 AND (k < n_usable OR "
            "score_date < contact2)",
        )
    )
    # 3.7: change and reliable change in 32-bit floats
    s.append(
        (
            "measures",
            "SELECT f.UniqServReqID, f.nhs_scale, f.rater, f.threshold, f.higher_is_better, "
            "f.score_date AS first_date, f.id AS first_id, f.score AS first_raw, "
            "f.value32 AS first_value, l.score_date AS last_date, l.id AS last_id, "
            "l.score AS last_raw, l.value32 AS last_value, f.t_score, "
            "CAST(l.value32 - f.value32 AS FLOAT) AS change, "
            "CASE WHEN l.id IS NULL THEN NULL "
            "WHEN ABS(CAST(l.value32 - f.value32 AS FLOAT)) < CAST(f.threshold AS FLOAT) "
            "THEN 'no_change' "
            "WHEN (f.higher_is_better AND l.value32 - f.value32 > 0) OR "
            "(NOT f.higher_is_better AND l.value32 - f.value32 < 0) THEN 'improvement' "
            "ELSE 'deterioration' END AS class "
            "FROM (SELECT * FROM ranked WHERE k = 1) f LEFT JOIN "
            "(SELECT * FROM ranked WHERE k = n_usable AND k > 1 AND score_date >= contact2) l "
            "ON l.UniqServReqID = f.UniqServReqID AND l.nhs_scale = f.nhs_scale",
        )
    )
    # 3.8-3.9: per referral and rater
    cols = []
    for r in RATERS3:
        w = f"rater = '{r}'"
        cols += [
            f"MAX(CASE WHEN {w} THEN 1 ELSE 0 END) AS {r}_assessed",
            f"MAX(CASE WHEN {w} AND class IS NOT NULL THEN 1 ELSE 0 END) AS {r}_paired",
            f"MAX(CASE WHEN {w} AND class = 'improvement' THEN 1 ELSE 0 END) AS {r}_imp",
            f"MAX(CASE WHEN {w} AND class = 'deterioration' THEN 1 ELSE 0 END) AS {r}_det",
        ]
    s.append(
        (
            "per_rater",
            f"SELECT UniqServReqID, {', '.join(cols)} FROM measures GROUP BY UniqServReqID",
        )
    )
    outcome = []
    for r in RATERS3:
        outcome.append(
            f"CASE WHEN COALESCE(p.{r}_paired, 0) = 0 THEN NULL WHEN p.{r}_det = 1 THEN "
            f"'deterioration' WHEN p.{r}_imp = 1 THEN 'improvement' ELSE 'no_change' END "
            f"AS {r}_outcome, COALESCE(p.{r}_assessed, 0) AS {r}_assessed, "
            f"COALESCE(p.{r}_paired, 0) AS {r}_paired"
        )
    s.append(
        (
            "per_referral",
            "SELECT r.*, CASE WHEN r.in_scope AND r.contact2 IS NOT NULL THEN 1 ELSE 0 END AS "
            f"counted, {', '.join(outcome)} FROM referrals r LEFT JOIN per_rater p "
            "ON p.UniqServReqID = r.UniqServReqID",
        )
    )
    return s


def levels(by: list[str]) -> str:
    """One row per in-scope referral and breakdown level (3.11)."""
    parts = []
    sel = "SELECT r.UniqServReqID, '{b}' AS breakdown, {lev} AS level, {desc} AS level_description"
    src = " FROM per_referral r"
    for b in by:
        if b == "england":
            parts.append(sel.format(b=b, lev="'England'", desc="'England'") + src)
        elif b == "provider":
            lev = "COALESCE(r.OrgIDProv, 'UNKNOWN')"
            parts.append(sel.format(b=b, lev=lev, desc=lev) + src)
        elif b in ("icb", "region"):
            col = "ICB_Code" if b == "icb" else "Region_Code"
            name = "ICB_Name" if b == "icb" else "Region_Name"
            lev = f"COALESCE(i.{col}, 'UNKNOWN')"
            parts.append(
                sel.format(b=b, lev=lev, desc=f"COALESCE(i.{name}, {lev})")
                + src
                + " LEFT JOIN t_ref_sub_icb i ON i.SubICB_Code = r.OrgIDSubICBLocResidence"
            )
        elif b == "age_band":
            a = "r.AgeServReferRecDate"
            whens = " ".join(
                f"WHEN {a} BETWEEN {lo} AND {hi} THEN '{lab}'" for lo, hi, lab in AGE_BANDS
            )
            lev = f"CASE {whens} ELSE 'UNKNOWN' END"
            parts.append(sel.format(b=b, lev=lev, desc=lev) + src)
        elif b == "gender":
            lev = (
                "CASE WHEN r.GenderIDCode IN ('1', '2', '3', '4') THEN r.GenderIDCode "
                "WHEN r.Gender IN ('1', '2', '9') THEN r.Gender ELSE 'UNKNOWN' END"
            )
            desc = _case(f"({lev})", GENDER)
            parts.append(sel.format(b=b, lev=lev, desc=desc) + src)
        elif b == "ethnicity":
            lev = _case("r.NHSDEthnicity", UPPER_ETHNICITY)
            parts.append(sel.format(b=b, lev=lev, desc=lev) + src)
        elif b == "imd_decile":
            lev = _case("CAST(d.IMD_Decile AS STRING)", {str(k): v for k, v in IMD_DECILE.items()})
            parts.append(
                sel.format(b=b, lev=lev, desc=lev)
                + src
                + " LEFT JOIN t_ref_lsoa_imd d ON d.LSOA2011 = r.LSOA2011"
            )
        elif b == "referral_reason":
            lev = (
                f"CASE WHEN r.PrimReasonReferralMH IN ({_q(REFERRAL_REASONS)}) "
                "THEN r.PrimReasonReferralMH ELSE 'UNKNOWN' END"
            )
            parts.append(sel.format(b=b, lev=lev, desc=lev) + src)
        elif b == "team_type":
            parts.append(
                sel.format(b=b, lev="t.team_type", desc="t.team_type")
                + src
                + " JOIN teams_ok t ON t.UniqServReqID = r.UniqServReqID"
            )
    body = " UNION ALL ".join(f"({p} WHERE r.in_scope)" for p in parts)
    return f"SELECT * FROM ({body}) x"


def aggregate() -> str:
    """Counts per breakdown level (3.10); one row per level, raters as columns."""
    cols = ["SUM(r.counted) AS n_referrals"]
    any_a = " OR ".join(f"r.{x}_assessed = 1" for x in RATERS3)
    any_p = " OR ".join(f"r.{x}_paired = 1" for x in RATERS3)
    cols.append(f"SUM(CASE WHEN r.counted = 1 AND ({any_a}) THEN 1 ELSE 0 END) AS any_assessed")
    cols.append(f"SUM(CASE WHEN r.counted = 1 AND ({any_p}) THEN 1 ELSE 0 END) AS any_paired")
    for x in RATERS3:
        cols += [
            f"SUM(CASE WHEN r.counted = 1 THEN r.{x}_assessed ELSE 0 END) AS {x}_assessed",
            f"SUM(CASE WHEN r.counted = 1 THEN r.{x}_paired ELSE 0 END) AS {x}_paired",
        ]
        for o in ("improvement", "no_change", "deterioration"):
            cols.append(
                f"SUM(CASE WHEN r.counted = 1 AND r.{x}_outcome = '{o}' THEN 1 ELSE 0 END) "
                f"AS {x}_{o}"
            )
    return (
        f"SELECT l.breakdown, l.level, MAX(l.level_description) AS level_description, "
        f"{', '.join(cols)} FROM levels l JOIN per_referral r ON r.UniqServReqID = "
        "l.UniqServReqID GROUP BY l.breakdown, l.level"
    )
