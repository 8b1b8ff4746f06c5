"""Demo inspections reference extract: HMI Probation ratings of CRCs, NPS divisions, regions, PDUs.

Two frameworks: "HMIP 2018" inspections of the 21 CRCs and 7 NPS divisions (first round June
2018 to September 2019, a second round for some CRCs early in 2020) and "HMIP 2021" inspections
of the 12 regions and some PDUs (2021-10 to 2024-12). Each inspection rates its framework's
standards (10 in HMIP 2018: two in domain 3; 9 in HMIP 2021: one in domain 3) OUTSTANDING /
GOOD / REQUIRES_IMPROVEMENT / INADEQUATE; NPS divisions tend to do better than CRCs, and case
supervision standards worse than organisational ones, as in the published reports.
"""

from __future__ import annotations

import numpy as np

from orchestration.demo import extracts as X

CASE_SUPERVISION = (
    ("1.1", "Leadership"),
    ("1.2", "Staff"),
    ("1.3", "Services"),
    ("1.4", "Information and facilities"),
    ("2.1", "Assessment"),
    ("2.2", "Planning"),
    ("2.3", "Implementation and delivery"),
    ("2.4", "Reviewing"),
)
STANDARDS = {
    ("HMIP 2018", "CRC"): CASE_SUPERVISION + (("3.1", "Unpaid work"), ("3.2", "Through the Gate")),
    ("HMIP 2018", "NPS_DIVISION"): CASE_SUPERVISION
    + (("3.1", "Court reports and case allocation"), ("3.2", "Statutory victim work")),
    ("HMIP 2021", "REGION"): CASE_SUPERVISION + (("3.1", "Court work"),),
    ("HMIP 2021", "PDU"): CASE_SUPERVISION + (("3.1", "Unpaid work"),),
}
ORGANISATION_EFFECT = {"CRC": -0.45, "NPS_DIVISION": 0.55, "REGION": -0.1, "PDU": -0.1}
CUTS = (1.35, 0.25, -1.1)  # score above: OUTSTANDING, GOOD, REQUIRES_IMPROVEMENT; else INADEQUATE
PDUS_PER_REGION = 3
SECOND_ROUND_CRCS = 8


def _dates(rng: np.random.Generator, first: str, last: str, n: int) -> np.ndarray:
    lo, hi = np.datetime64(first), np.datetime64(last)
    days = lo + np.sort(rng.integers(0, (hi - lo).astype(np.int64) + 1, n)).astype("timedelta64[D]")
    return np.busday_offset(days, 0, roll="forward")


def inspection_rows(seed: int) -> dict[str, np.ndarray]:
    """One row per inspection and standard, ordered by publication date."""
    rng = np.random.default_rng([int(seed), 8, 0])
    ref = X.load_reference()
    orgs: list[tuple[str, str, str, str]] = []  # code, name, type, framework
    first_round = rng.permutation(len(ref.providers))
    orgs += [
        (ref.providers[i], ref.provider_names[i], ref.provider_types[i], "HMIP 2018")
        for i in first_round
    ]
    dates = list(_dates(rng, "2018-06-01", "2019-09-30", len(first_round)))
    crcs = [i for i, kind in enumerate(ref.provider_types) if kind == "CRC"]
    second = sorted(rng.choice(crcs, size=min(SECOND_ROUND_CRCS, len(crcs)), replace=False))
    second = [second[i] for i in rng.permutation(len(second))]
    orgs += [(ref.providers[i], ref.provider_names[i], "CRC", "HMIP 2018") for i in second]
    dates += list(_dates(rng, "2020-01-06", "2020-03-13", len(second)))
    late = []
    for r, code in enumerate(ref.regions):
        late.append((code, ref.region_names[r], "REGION", "HMIP 2021"))
        size = min(PDUS_PER_REGION, len(ref.pdus[r]))
        picks = sorted(rng.choice(len(ref.pdus[r]), size=size, replace=False))
        late += [(ref.pdus[r][k], ref.pdu_names[r][k], "PDU", "HMIP 2021") for k in picks]
    order = rng.permutation(len(late))
    orgs += [late[i] for i in order]
    dates += list(_dates(rng, "2021-10-01", "2024-12-31", len(late)))

    # Order by publication date; re-inspected CRCs mostly improved on their first round.
    ranked = np.array(sorted(range(len(orgs)), key=lambda k: (dates[k], k)))
    orgs = [orgs[k] for k in ranked]
    published = np.array(dates, dtype="datetime64[D]")[ranked]
    kinds = np.array([o[2] for o in orgs])
    second_round = np.zeros(len(orgs), dtype=bool)
    second_round[len(orgs) - len(late) - len(second) : len(orgs) - len(late)] = True
    second_round = second_round[ranked]
    effect = np.array([ORGANISATION_EFFECT[k] for k in kinds]) + rng.normal(0, 0.6, len(orgs))
    effect += 0.5 * second_round

    per_org = [STANDARDS[(o[3], o[2])] for o in orgs]
    sizes = np.array([len(standards) for standards in per_org])
    row_org = np.repeat(np.arange(len(orgs)), sizes)
    std_code = np.array([code for standards in per_org for code, _ in standards])
    std_name = np.array([name for standards in per_org for _, name in standards])
    case_work = np.char.startswith(std_code, "2.")
    score = effect[row_org] + rng.normal(0, 0.55, row_org.size) - 0.35 * case_work
    rating = np.searchsorted(-np.array(CUTS), -score, side="left")
    table = np.array(orgs, dtype=str)
    return {
        "inspection_id": np.char.add("HMIP", np.char.zfill((row_org + 1).astype(str), 4)),
        "organisation_code": table[row_org, 0],
        "organisation_name": table[row_org, 1],
        "organisation_type": table[row_org, 2],
        "framework": table[row_org, 3],
        "published_date": published[row_org],
        "standard_code": std_code,
        "standard_name": std_name,
        "rating": np.array(X.INSPECTION_RATINGS)[rating],
    }
