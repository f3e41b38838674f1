"""Item parameters of every simulated questionnaire: which latent trait each item reflects, how
strongly (loading) and how often each answer is given (target marginal proportions).

Proportions are P(score >= k) on the *scored* direction (after reverse keying), for a
respondent at the centre of the relevant population (theta = 0): the school population for the
SDQ self-report and SWEMWBS, children at assessment for the clinical measures, staff at
baseline for the WCS-10. They were set so that scale means and spreads land near published
figures (docs/synthetic.md lists them); item wording never enters this package.
"""

from __future__ import annotations

from .latent import ItemBlock

# Latent dimensions of a pupil in the school population.
P_EMO, P_CON, P_HYP, P_PEER, P_PRO, P_WB, P_GEN = range(7)
PUPIL_DIMS = ("emotional", "conduct", "hyperactivity", "peer", "prosocial", "wellbeing")

# Latent dimensions of a referred child (clinical severity; higher = worse except PRO, GOAL).
C_EMO, C_CON, C_HYP, C_PEER, C_PRO, C_IMP, C_INFO, C_GOAL, C_GEN = range(9)
CLINICAL_DIMS = (
    "emotional",
    "conduct",
    "hyperactivity",
    "peer",
    "prosocial",
    "impairment",
    "knowledge",
    "goal_progress",
)

SDQ_REVERSED = ("obeys", "friend", "popular", "reflect", "attends")
SDQ_IMPACT = ("distres", "imphome", "impfrie", "impclas", "impleis")


def _block(spec: dict[str, tuple[int, float, tuple[float, ...]]], **kw) -> ItemBlock:
    ids = tuple(spec)
    return ItemBlock(
        ids=ids,
        dims=tuple(spec[i][0] for i in ids),
        loadings=tuple(spec[i][1] for i in ids),
        props=tuple(spec[i][2] for i in ids),
        **kw,
    )


def _sdq(emo, con, hyp, peer, pro, dims, load) -> dict:
    """The 25 SDQ items in questionnaire order with per-scale (P>=1, P>=2) proportions."""
    e, c, h, p, r = dims
    le, lc, lh, lp, lr = load
    return {
        "consid": (r, lr, pro[0]),
        "restles": (h, lh, hyp[0]),
        "somatic": (e, le, emo[0]),
        "shares": (r, lr, pro[1]),
        "tantrum": (c, lc, con[0]),
        "loner": (p, lp, peer[0]),
        "obeys": (c, lc, con[1]),
        "worries": (e, le, emo[1]),
        "caring": (r, lr, pro[2]),
        "fidgety": (h, lh, hyp[1]),
        "friend": (p, lp, peer[1]),
        "fights": (c, lc, con[2]),
        "unhappy": (e, le, emo[2]),
        "popular": (p, lp, peer[2]),
        "distrac": (h, lh, hyp[2]),
        "clingy": (e, le, emo[3]),
        "kind": (r, lr, pro[3]),
        "lies": (c, lc, con[3]),
        "bullied": (p, lp, peer[3]),
        "helpout": (r, lr, pro[4]),
        "reflect": (h, lh, hyp[3]),
        "steals": (c, lc, con[4]),
        "oldbest": (p, lp, peer[4]),
        "afraid": (e, le, emo[4]),
        "attends": (h, lh, hyp[4]),
    }


def _reverse_flags(ids: tuple[str, ...]) -> tuple[bool, ...]:
    return tuple(i in SDQ_REVERSED for i in ids)


# --- school population: SDQ self-report (11-17) and SWEMWBS --------------------------------
def sdq_self_block() -> ItemBlock:
    spec = _sdq(
        emo=((0.42, 0.12), (0.48, 0.18), (0.30, 0.08), (0.52, 0.20), (0.33, 0.10)),
        con=((0.50, 0.15), (0.45, 0.06), (0.15, 0.03), (0.35, 0.07), (0.12, 0.03)),
        hyp=((0.55, 0.20), (0.45, 0.15), (0.65, 0.25), (0.55, 0.10), (0.55, 0.12)),
        peer=((0.35, 0.08), (0.12, 0.04), (0.35, 0.06), (0.25, 0.07), (0.40, 0.12)),
        pro=((0.97, 0.60), (0.95, 0.50), (0.97, 0.70), (0.93, 0.60), (0.92, 0.45)),
        dims=(P_EMO, P_CON, P_HYP, P_PEER, P_PRO),
        load=(0.70, 0.62, 0.63, 0.57, 0.66),
    )
    ids = tuple(spec)
    return _block(spec, reverse=_reverse_flags(ids))


def sdq_self_impact_block() -> ItemBlock:
    spec = {
        "ebddiff": (P_GEN, 0.80, (0.38, 0.13, 0.03)),
        "distres": (P_GEN, 0.70, (0.55, 0.22, 0.06)),
        "imphome": (P_GEN, 0.70, (0.45, 0.16, 0.04)),
        "impfrie": (P_GEN, 0.70, (0.42, 0.15, 0.04)),
        "impclas": (P_GEN, 0.70, (0.55, 0.22, 0.06)),
        "impleis": (P_GEN, 0.70, (0.35, 0.11, 0.03)),
    }
    return _block(spec)


def swemwbs_block() -> ItemBlock:
    # Codes 1-5; P(code >= 2..5). Centre gives a metric mean near 21-22 (adolescent samples).
    spec = {
        "q1": (P_WB, 0.74, (0.96, 0.82, 0.48, 0.15)),
        "q2": (P_WB, 0.74, (0.97, 0.84, 0.50, 0.15)),
        "q3": (P_WB, 0.72, (0.94, 0.76, 0.40, 0.11)),
        "q4": (P_WB, 0.76, (0.97, 0.84, 0.48, 0.13)),
        "q5": (P_WB, 0.76, (0.97, 0.84, 0.50, 0.15)),
        "q6": (P_WB, 0.68, (0.96, 0.82, 0.50, 0.17)),
        "q7": (P_WB, 0.70, (0.98, 0.88, 0.58, 0.21)),
    }
    return _block(spec, offset=1)


# --- referred children: HoNOSCA, SDQ parent, GBO, CHI-ESQ ---------------------------------
def sdq_parent_block() -> ItemBlock:
    spec = _sdq(
        emo=((0.75, 0.38), (0.80, 0.48), (0.62, 0.30), (0.78, 0.45), (0.65, 0.32)),
        con=((0.68, 0.32), (0.60, 0.15), (0.30, 0.10), (0.45, 0.15), (0.15, 0.05)),
        hyp=((0.62, 0.30), (0.55, 0.25), (0.72, 0.40), (0.68, 0.22), (0.62, 0.25)),
        peer=((0.50, 0.20), (0.25, 0.10), (0.40, 0.12), (0.45, 0.20), (0.55, 0.22)),
        pro=((0.94, 0.55), (0.88, 0.40), (0.94, 0.60), (0.88, 0.50), (0.85, 0.35)),
        dims=(C_EMO, C_CON, C_HYP, C_PEER, C_PRO),
        load=(0.72, 0.68, 0.72, 0.62, 0.66),
    )
    ids = tuple(spec)
    return _block(spec, reverse=_reverse_flags(ids))


def sdq_parent_impact_block() -> ItemBlock:
    spec = {
        "ebddiff": (C_GEN, 0.75, (0.92, 0.62, 0.20)),
        "distres": (C_GEN, 0.70, (0.88, 0.58, 0.22)),
        "imphome": (C_GEN, 0.70, (0.80, 0.48, 0.16)),
        "impfrie": (C_GEN, 0.70, (0.70, 0.38, 0.12)),
        "impclas": (C_GEN, 0.70, (0.80, 0.48, 0.18)),
        "impleis": (C_GEN, 0.70, (0.65, 0.32, 0.10)),
    }
    return _block(spec)


def honosca_block() -> ItemBlock:
    # P(rating >= 1..4) at assessment; totals (scales 1-13) average about 11 at assessment.
    spec = {
        "q1": (C_CON, 0.62, (0.45, 0.25, 0.10, 0.03)),
        "q2": (C_HYP, 0.62, (0.50, 0.30, 0.12, 0.04)),
        "q3": (C_EMO, 0.50, (0.20, 0.12, 0.05, 0.02)),
        "q4": (C_CON, 0.45, (0.08, 0.04, 0.02, 0.005)),
        "q5": (C_IMP, 0.55, (0.50, 0.30, 0.12, 0.03)),
        "q6": (C_IMP, 0.30, (0.25, 0.10, 0.04, 0.01)),
        "q7": (C_EMO, 0.40, (0.06, 0.03, 0.01, 0.003)),
        "q8": (C_EMO, 0.50, (0.50, 0.30, 0.12, 0.03)),
        "q9": (C_EMO, 0.72, (0.92, 0.75, 0.45, 0.12)),
        "q10": (C_PEER, 0.62, (0.60, 0.38, 0.15, 0.04)),
        "q11": (C_IMP, 0.45, (0.25, 0.10, 0.04, 0.01)),
        "q12": (C_IMP, 0.60, (0.65, 0.42, 0.18, 0.05)),
        "q13": (C_IMP, 0.55, (0.45, 0.28, 0.12, 0.05)),
        "q14": (C_INFO, 0.75, (0.70, 0.45, 0.20, 0.05)),
        "q15": (C_INFO, 0.75, (0.65, 0.40, 0.18, 0.05)),
    }
    return _block(spec)


def gbo_block() -> ItemBlock:
    # Progress 0-10 at the first rating: mean near 3 (Law & Jacob 2015 report typical starts
    # of 2-4 and ends of 6-7).
    first = (0.90, 0.76, 0.56, 0.36, 0.20, 0.10, 0.05, 0.022, 0.010, 0.004)
    spec = {
        "goal1": (C_GOAL, 0.85, first),
        "goal2": (C_GOAL, 0.85, first),
        "goal3": (C_GOAL, 0.85, first),
    }
    return _block(spec)


def esq_block() -> ItemBlock:
    # Scored 0-2 (2 = certainly true); strongly skewed to satisfied. Column 0 of the
    # latent matrix passed in is the satisfaction trait.
    care = (0.97, 0.78)
    env = (0.93, 0.62)
    spec = {f"q{i}": (0, 0.78, care) for i in (1, 2, 3, 4, 5, 6, 7, 11, 12)}
    spec.update({f"q{i}": (0, 0.55, env) for i in (8, 9, 10)})
    spec["q6"] = (0, 0.78, (0.94, 0.66))  # explanation of help: the usual weakest care item
    return _block({f"q{i}": spec[f"q{i}"] for i in range(1, 13)})


# --- staff ---------------------------------------------------------------------------------
def wcs_block() -> ItemBlock:
    # Codes 1-5 agreement; P(code >= 2..5) at baseline. Referral routes, local support and
    # timely advice (q5, q7, q10) start lowest, as in baseline surveys of school staff.
    spec = {
        "q1": (0, 0.76, (0.96, 0.84, 0.55, 0.12)),
        "q2": (0, 0.78, (0.95, 0.80, 0.50, 0.12)),
        "q3": (0, 0.80, (0.93, 0.74, 0.42, 0.09)),
        "q4": (0, 0.62, (0.98, 0.93, 0.72, 0.26)),
        "q5": (0, 0.70, (0.86, 0.62, 0.30, 0.06)),
        "q6": (0, 0.74, (0.90, 0.68, 0.34, 0.06)),
        "q7": (0, 0.70, (0.85, 0.58, 0.27, 0.05)),
        "q8": (0, 0.80, (0.92, 0.72, 0.40, 0.08)),
        "q9": (0, 0.74, (0.94, 0.78, 0.46, 0.10)),
        "q10": (0, 0.62, (0.80, 0.50, 0.22, 0.05)),
    }
    return _block(spec, offset=1)


def wcs_overall_block() -> ItemBlock:
    props = (0.995, 0.98, 0.95, 0.90, 0.80, 0.62, 0.40, 0.18, 0.06, 0.015)
    return _block({"overall": (0, 0.80, props)})


# --- MHST outcome measures (optional: settings.mhst_measures) ------------------------------
#: RCADS-25 items that belong to the anxiety scale (the rest are depression); see the YAML
RCADS25_ANXIETY = (2, 3, 5, 6, 7, 9, 11, 12, 14, 17, 18, 20, 22, 23, 25)


def rcads_25_block() -> ItemBlock:
    # Codes 0-3; P(code >= 1..3) at assessment. Chosen so that anxiety averages about 19 of 45
    # and depression about 12 of 30, the size of referred samples in RCADS-25 reports; not
    # calibrated to a published table. Every item loads on the emotional trait.
    anx, dep = (0.75, 0.40, 0.15), (0.70, 0.35, 0.12)
    spec = {f"q{i}": (C_EMO, 0.62, anx if i in RCADS25_ANXIETY else dep) for i in range(1, 26)}
    return _block(spec)


def gad_7_block() -> ItemBlock:
    # Codes 0-3; a mean near 11-12 at assessment (a moderate intake, as IAPT-style services).
    return _block({f"q{i}": (C_EMO, 0.68, (0.85, 0.55, 0.22)) for i in range(1, 8)})


def phq_9_block() -> ItemBlock:
    # Codes 0-3; a mean near 13 at assessment; item 9 (self-harm thoughts) much rarer.
    spec = {f"q{i}": (C_EMO, 0.66, (0.85, 0.55, 0.25)) for i in range(1, 9)}
    spec["q9"] = (C_EMO, 0.50, (0.30, 0.12, 0.04))
    return _block(spec)


def scwbs_block() -> ItemBlock:
    # Codes 1-5; P(code >= 2..5) in the primary population, a total near 44 of 60 (primary
    # samples in the Stirling standardisation report score in the mid-40s; not calibrated).
    # The three social-desirability items (q2, q7, q13) load weakly on wellbeing.
    spec = {f"q{i}": (P_WB, 0.66, (0.97, 0.88, 0.62, 0.30)) for i in range(1, 16)}
    for i in (2, 7, 13):
        spec[f"q{i}"] = (P_WB, 0.25, (0.95, 0.80, 0.50, 0.22))
    return _block(spec, offset=1)
