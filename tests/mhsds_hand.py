"""A hand-built MHSDS extract exercising every rule of the NHS CYP outcomes metric
(specs/mhsds.md section 3). Period: March 2025 (2025-03-01..2025-03-31).

Unless said otherwise a referral: person P<nn> (MPI: Gender 1, GenderIDCode X, ethnicity A,
LSOA E01000001 -> IMD decile 1, LA E08000012, sub-ICB 00X -> ICB QWE / region Y56), provider
RH1, received 2024-09-01, discharged 2025-03-20, age 12, reason 04, team C01, contacts
2024-10-01 and 2024-11-01 (attended '5', face to face '01'); a first score on 2024-10-01 and a
last on 2025-03-01.

Out of scope (3.2), one reason each:
  R02 age 18; R03 discharged 2025-04-02; R04 open; R05 rejected; R07 inpatient spell;
  R08 LA W06000001; R09 no MPI row; R10 received 2015-12-31.
In scope without a second contact: R11 (one attended; one DNA '3'; one attended by '12').
In scope and counted (MHS110 = 13): R01 R06 R12-R22.

  R01 age 16. self SDQ emotional 8->3 (-5, thr 4): improvement. parent SDQ prosocial 8->4
      (-4, thr 3): NHS improvement (Q1), clinical deterioration. clinician HoNOSCA-CR s02
      2->2: no change. Extra contacts that do not count: DNA '3', mechanism '98', one after
      discharge.
  R06 own team E01 (excluded) + MHS102 C04 (passes, Q9). self SWEMWBS 20->24 (+4, thr 3):
      improvement.
  R12 contacts: one direct 2024-10-01 + indirect 2024-10-15 twice (same date and time: once,
      Q10), so Contact2 = 2024-10-15. self GBO family "tool" goal 1 2->6: improvement (Q4);
      GBO family "chart" goal 1 a single 5 (families never pair). LSOA E01000002 (decile 10).
  R13 two MHS101 rows (1499 open; 1500 discharged: the latest is used). Two contacts on
      2024-10-01 (Contact1 = Contact2). self ORS 8.9->2.3: float32 change -6.5999994 < 6.6:
      no change (Q6; in float64 it would be a deterioration). LSOA not in the lookup.
  R14 MPI rows 1499 (Gender 1) and 1500 (Gender 2: used). Gender 2, GenderIDCode missing,
      ethnicity M. RCADS self depression 20->10 at age 12, F norms 7.89/3.91:
      T 80.97 -> 55.40, change -25.58 >= 17.73: improvement (raw -10 would be no change).
  R15 age 7, RCADS depression v2 code 25 then v1 code 5 (codes pair): raw change -20 vs the
      T threshold 17.73 (Q5): improvement.
  R16 parent: HoNOSCA-SR scale 1 4->1 (NHS: parent, Q3) improvement; SDQ parent emotional
      2->7 (+5): deterioration -> parent deterioration. Clinical: HoNOSCA-SR s1 is self.
  R17 contacts 2024-10-01, DNA '7' 2024-10-10, 2024-11-01. self PHQ-9 15 (MHS607 at the DNA
      contact: dated 2024-10-10, Q8) -> 8 (MHS606 2025-03-01): -7 >= 6: improvement.
  R18 clinician HoNOSCA-CR s01: 2024-09-15 '2' (before Contact1), 2024-10-01 '3' (first),
      2024-10-01 '3' again with a higher id (duplicate), 2024-12-01 '9' and 2024-12-02 'NA'
      (invalid), 2025-01-01 '2' (middle), 2025-03-01 '1' (last), 2025-03-25 '0' (after
      discharge). 3->1 (-2, thr 2): improvement.
  R19 a score with Person_ID P99 (other person); SDQ teacher code and 999999999 (not in the
      metric); self YP-CORE single 20: assessed, not paired.
  R20 self SWEMWBS 2024-10-01 20 and 2024-10-15 25: the latest is before Contact2: assessed,
      not paired.
  R21 provider RH2, sub-ICB 99Z (not in the lookup). clinician CGAS 40 (id ...211) and 55
      (id ...212) both on 2025-03-01: a pair on one date (Q7), +15 >= 11: improvement.
  R22 provider RH2, team type missing (UNKNOWN), GenderIDCode 3, ethnicity T (UNKNOWN, Q11),
      reason 17 (UNKNOWN, Q11). No scores.
  R11 also has a score (unused: no second contact).
"""

from __future__ import annotations

import pandas as pd

PERIOD = ("2025-03-01", "2025-03-31")


def build() -> dict[str, pd.DataFrame]:
    mpi, ref, team, con, ind, spell, a606, a607 = [], [], [], [], [], [], [], []
    ids = {"606": 1000000000, "607": 2000000000}

    def person(p, **kw):
        row = {
            "Person_ID": p,
            "UniqMonthID": "1500",
            "Gender": "1",
            "GenderIDCode": "X",
            "NHSDEthnicity": "A",
            "LSOA2011": "E01000001",
            "LADistrictAuth": "E08000012",
            "OrgIDSubICBLocResidence": "00X",
        }
        row.update(kw)
        mpi.append(row)

    def referral(r, p, **kw):
        row = {
            "UniqServReqID": r,
            "Person_ID": p,
            "OrgIDProv": "RH1",
            "UniqMonthID": "1500",
            "ReferralRequestReceivedDate": "2024-09-01",
            "ServDischDate": "2025-03-20",
            "AgeServReferRecDate": "12",
            "PrimReasonReferralMH": "04",
            "ServTeamType": "C01",
            "ReferRejectionDate": "",
        }
        row.update(kw)
        ref.append(row)

    def contact(r, p, cid, date, status="5", mech="01", time="09:00:00", prov="RH1"):
        con.append(
            {
                "UniqCareContID": cid,
                "UniqServReqID": r,
                "Person_ID": p,
                "OrgIDProv": prov,
                "CareContDate": date,
                "CareContTime": time,
                "AttendStatus": status,
                "ConsMechanismMH": mech,
            }
        )

    def two_contacts(r, p, prov="RH1"):
        contact(r, p, f"{r}-C1", "2024-10-01", prov=prov)
        contact(r, p, f"{r}-C2", "2024-11-01", prov=prov)

    def s606(r, p, code, score, date, uid=None):
        ids["606"] += 1
        a606.append(
            {
                "MHS606UniqID": str(uid or ids["606"]),
                "UniqServReqID": r,
                "Person_ID": p,
                "CodedAssToolType": code,
                "PersScore": score,
                "AssToolCompTimestamp": f"{date}T10:00:00",
            }
        )

    def standard(n, **kw):
        r, p = f"R{n:02d}", f"P{n:02d}"
        person(p, **kw.pop("mpi", {}))
        referral(r, p, **kw)
        two_contacts(r, p, prov=kw.get("OrgIDProv", "RH1"))
        return r, p

    # ---- out of scope
    r, p = standard(2, AgeServReferRecDate="18")
    s606(r, p, "718145004", "8", "2024-10-01")
    s606(r, p, "718145004", "2", "2025-03-01")
    standard(3, ServDischDate="2025-04-02")
    standard(4, ServDischDate="")
    standard(5, ReferRejectionDate="2024-09-05")
    r, p = standard(7)
    spell.append({"UniqHospProvSpellID": "H7", "UniqServReqID": r, "Person_ID": p})
    standard(8, mpi={"LADistrictAuth": "W06000001"})
    referral("R09", "P09")
    two_contacts("R09", "P09")
    standard(10, ReferralRequestReceivedDate="2015-12-31")
    # ---- in scope, no second contact
    person("P11")
    referral("R11", "P11")
    contact("R11", "P11", "R11-C1", "2024-10-01")
    contact("R11", "P11", "R11-C2", "2024-10-08", status="3")
    contact("R11", "P11", "R11-C3", "2024-10-15", mech="12")
    s606("R11", "P11", "718145004", "8", "2024-10-01")
    # ---- counted
    r, p = standard(1, AgeServReferRecDate="16")
    contact(r, p, "R01-C3", "2024-10-05", status="3")
    contact(r, p, "R01-C4", "2024-10-06", mech="98")
    contact(r, p, "R01-C5", "2025-03-25")
    s606(r, p, "718145004", "8", "2024-10-01")  # SDQ self emotional
    s606(r, p, "718145004", "3", "2025-03-01")
    s606(r, p, "986111000000107", "8", "2024-10-01")  # SDQ parent prosocial
    s606(r, p, "986111000000107", "4", "2025-03-01")
    s606(r, p, "989801000000109", "2", "2024-10-01")  # HoNOSCA-CR s02
    s606(r, p, "989801000000109", "2", "2025-03-01")

    r, p = standard(6, ServTeamType="E01")
    team.append({"UniqServReqID": r, "Person_ID": p, "ServTeamTypeRefToMH": "C04"})
    s606(r, p, "960481000000107", "20", "2024-10-01")  # SWEMWBS
    s606(r, p, "960481000000107", "24", "2025-03-01")

    person("P12", LSOA2011="E01000002")
    referral("R12", "P12")
    contact("R12", "P12", "R12-C1", "2024-10-01")
    for _ in range(2):
        ind.append(
            {
                "UniqServReqID": "R12",
                "Person_ID": "P12",
                "IndirectActDate": "2024-10-15",
                "IndirectActTime": "10:00:00",
            }
        )
    s606("R12", "P12", "1638531000000102", "2", "2024-10-15")  # GBO tool goal 1
    s606("R12", "P12", "1638531000000102", "6", "2025-03-01")
    s606("R12", "P12", "1034351000000101", "5", "2025-03-01")  # GBO chart goal 1

    person("P13", LSOA2011="E01999999")
    referral("R13", "P13", UniqMonthID="1499", ServDischDate="")
    referral("R13", "P13")
    contact("R13", "P13", "R13-C1", "2024-10-01", time="09:00:00")
    contact("R13", "P13", "R13-C2", "2024-10-01", time="14:00:00")
    s606("R13", "P13", "716613004", "8.9", "2024-10-01")  # ORS
    s606("R13", "P13", "716613004", "2.3", "2025-03-01")

    person("P14", UniqMonthID="1499")
    r, p = standard(14, mpi={"Gender": "2", "GenderIDCode": "", "NHSDEthnicity": "M"})
    s606(r, p, "718655001", "20", "2024-10-01")  # RCADS self depression
    s606(r, p, "718655001", "10", "2025-03-01")

    r, p = standard(15, AgeServReferRecDate="7")
    s606(r, p, "958231000000102", "25", "2024-10-01")
    s606(r, p, "718655001", "5", "2025-03-01")

    r, p = standard(16)
    s606(r, p, "989621000000101", "4", "2024-10-01")  # HoNOSCA-SR s1
    s606(r, p, "989621000000101", "1", "2025-03-01")
    s606(r, p, "986071000000101", "2", "2024-10-01")  # SDQ parent emotional
    s606(r, p, "986071000000101", "7", "2025-03-01")

    r, p = standard(17)
    contact(r, p, "R17-C9", "2024-10-10", status="7")
    a607.append(
        {
            "MHS607UniqID": "2000000171",
            "UniqServReqID": r,
            "Person_ID": p,
            "UniqCareContID": "R17-C9",
            "CodedAssToolType": "720433000",  # PHQ-9
            "PersScore": "15",
        }
    )
    s606(r, p, "720433000", "8", "2025-03-01")

    r, p = standard(18)
    code = "989751000000102"  # HoNOSCA-CR s01
    s606(r, p, code, "2", "2024-09-15")
    s606(r, p, code, "3", "2024-10-01")
    s606(r, p, code, "3", "2024-10-01")
    s606(r, p, code, "9", "2024-12-01")
    s606(r, p, code, "NA", "2024-12-02")
    s606(r, p, code, "2", "2025-01-01")
    s606(r, p, code, "1", "2025-03-01")
    s606(r, p, code, "0", "2025-03-25")

    r, p = standard(19)
    s606(r, "P99", "718437004", "20", "2024-10-01")
    s606(r, p, "986161000000109", "5", "2024-10-01")  # SDQ teacher: not in the metric
    s606(r, p, "999999999", "5", "2024-10-01")  # unknown
    s606(r, p, "718437004", "20", "2024-10-01")  # YP-CORE single

    r, p = standard(20)
    s606(r, p, "960481000000107", "20", "2024-10-01")
    s606(r, p, "960481000000107", "25", "2024-10-15")

    r, p = standard(21, OrgIDProv="RH2", mpi={"OrgIDSubICBLocResidence": "99Z"})
    s606(r, p, "860591000000104", "40", "2025-03-01", uid=1000000211)  # CGAS
    s606(r, p, "860591000000104", "55", "2025-03-01", uid=1000000212)

    standard(
        22,
        OrgIDProv="RH2",
        ServTeamType="",
        PrimReasonReferralMH="17",
        mpi={"GenderIDCode": "3", "NHSDEthnicity": "T"},
    )

    tables = {
        "MHS001MPI": pd.DataFrame(mpi),
        "MHS101Referral": pd.DataFrame(ref),
        "MHS102OtherServiceType": pd.DataFrame(team),
        "MHS201CareContact": pd.DataFrame(con),
        "MHS204IndirectActivity": pd.DataFrame(ind),
        "MHS501HospProvSpell": pd.DataFrame(spell),
        "MHS606CodedScoreAssessmentRefer": pd.DataFrame(a606),
        "MHS607CodedScoreAssessmentAct": pd.DataFrame(a607),
        "ref_sub_icb": pd.DataFrame(
            {
                "SubICB_Code": ["00X"],
                "SubICB_Name": ["Sub-ICB X"],
                "ICB_Code": ["QWE"],
                "ICB_Name": ["ICB QWE"],
                "Region_Code": ["Y56"],
                "Region_Name": ["London"],
            }
        ),
        "ref_lsoa_imd": pd.DataFrame(
            {"LSOA2011": ["E01000001", "E01000002"], "IMD_Decile": ["1", "10"]}
        ),
    }
    # empty cells are missing, as in a CSV
    return {k: v.mask(v == "") for k, v in tables.items()}
