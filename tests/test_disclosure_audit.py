"""The disclosure audit (dbt Python model int_circumstance_disclosure_audit) on a hand-worked
table where no row or column holds a single hidden count, yet one count can be worked out.

    (people)   Settled  Temporary  Other  Total
    R              3*        0        0      3*     * hidden by the one-equation rule
    X              2*        1*       0      3*
    Y             20         4*       2*    26
    W             30         6*       3*    39
    Z             50        10        5     65
    E and W      105        21       10    136

Every row and column holds 0 or at least 2 hidden counts. But row R gives Settled R = Total R
(its other cells are 0), column Settled gives Settled R + Settled X = 105 - 100 = 5, column
Total gives Total R + Total X = 136 - 130 = 6, so Total X - Settled X = 1, and row X gives
Temporary X = Total X - Settled X - 0 = 1: worked out exactly. The audit finds it and hides
one more count sharing an equation with it; afterwards no hidden count is fixed (every hidden
count can take more than one value consistent with everything published).
"""

import importlib.util

import numpy as np
import pandas as pd

from orchestration.settings import DBT_PROJECT_DIR

MODEL = DBT_PROJECT_DIR / "models" / "intermediate" / "int_circumstance_disclosure_audit.py"
VALUES = {
    "R": {"SETTLED": 3, "TEMPORARY": 0, "OTHER": 0, "TOTAL": 3},
    "X": {"SETTLED": 2, "TEMPORARY": 1, "OTHER": 0, "TOTAL": 3},
    "Y": {"SETTLED": 20, "TEMPORARY": 4, "OTHER": 2, "TOTAL": 26},
    "W": {"SETTLED": 30, "TEMPORARY": 6, "OTHER": 3, "TOTAL": 39},
    "Z": {"SETTLED": 50, "TEMPORARY": 10, "OTHER": 5, "TOTAL": 65},
}
HIDDEN = {("R", "SETTLED"), ("R", "TOTAL"), ("X", "SETTLED"), ("X", "TEMPORARY"),
          ("X", "TOTAL"), ("Y", "TEMPORARY"), ("Y", "OTHER"), ("W", "TEMPORARY"),
          ("W", "OTHER")}  # fmt: skip


def load_model():
    spec = importlib.util.spec_from_file_location("disclosure_audit", MODEL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def table() -> pd.DataFrame:
    rows = []
    for group, counts in VALUES.items():
        for category, people in counts.items():
            rows.append(("OFFENCE", group, category, people, (group, category) in HIDDEN))
    national = {c: sum(v[c] for v in VALUES.values()) for c in VALUES["R"]}
    assert national == {"SETTLED": 105, "TEMPORARY": 21, "OTHER": 10, "TOTAL": 136}
    rows += [("NATIONAL", "K04000001", c, n, False) for c, n in national.items()]
    frame = pd.DataFrame(
        rows, columns=["breakdown", "breakdown_value", "category", "people", "confidential"]
    )
    return frame.assign(topic="ACCOMMODATION", checkpoint="RELEASE_NIGHT",
                        period_type="QUARTER", period="2024 Q4",
                        primary_suppression=frame["people"].between(1, 4))  # fmt: skip


def fixed_cells(module, frame, confidential) -> list[tuple[str, str]]:
    members = module.equations(frame)
    matrix = np.zeros((len(members), len(frame)))
    for row, idx in enumerate(members):
        matrix[row, idx] = 1
    # the one-equation rule holds: no equation has exactly one hidden count
    assert all(confidential[idx].sum() != 1 for idx in members)
    fixed = module.determined(matrix, np.flatnonzero(confidential))
    return [tuple(frame.iloc[i][["breakdown_value", "category"]]) for i in fixed]


def test_the_audit_finds_a_count_fixed_by_several_equations_and_hides_another():
    module = load_model()
    frame = table()
    before = frame["confidential"].to_numpy()
    assert fixed_cells(module, frame, before) == [("X", "TEMPORARY")]

    after = module.audit_table(frame)
    added = frame[after & ~before]
    # One more count, sharing an equation with Temporary X: a zero of column Temporary, since
    # hiding either non-zero count it shares an equation with (Temporary Z, or England and
    # Wales) would leave that count alone in its row, fixed.
    assert len(added) == 1
    assert tuple(added.iloc[0][["breakdown_value", "category"]]) == ("R", "TEMPORARY")
    assert fixed_cells(module, frame, after) == []


def test_the_audited_model_marks_why_each_count_is_hidden_and_hides_shares_with_totals():
    module = load_model()
    frame = table().assign(
        period_start=None, period_end=None, months_in_period=3, months_loaded=3,
        group_total=0, share_confidential=False, quality_status="OK", quality_reasons="",
        note_keys="", unreviewed_flag_ids="",
    )  # fmt: skip
    out = module.audit(frame).set_index(["breakdown_value", "category"])
    assert out.loc[("R", "SETTLED"), "suppression"] == "primary"
    assert out.loc[("Y", "OTHER"), "suppression"] == "primary"
    assert out.loc[("Y", "TOTAL"), "suppression"] is None or out.loc[("Y", "TOTAL"), "confidential"]
    assert (out["suppression"] == "audit").sum() == 1
    # a share is hidden with its count or its group's total: all of X's, none of Z's
    assert out.loc["X", "share_confidential"].all()
    assert not out.loc[("Z", "OTHER"), "share_confidential"]
