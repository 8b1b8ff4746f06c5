"""Disclosure audit of the circumstances tables: no hidden count can be worked out at all.

int_circumstance_disclosure hides small counts and, wherever one row or column equation holds
a single hidden cell, another cell of it. That stops a count being worked out from one
equation, but not from several together: in a table where two groups hide their Settled
count and their total, and one of them hides a third count, adding and subtracting the four
equations gives that third count exactly. This model audits every table (topic, checkpoint,
period) with linear algebra: the published cells are constants, the hidden ones unknowns, and
a hidden count is determined exactly when every solution of the equations agrees on it, that
is when its coordinate is zero in every vector of the null space of the equations' hidden
part. While one is determined, one more published cell sharing an equation with it is hidden:
the one that leaves fewest counts fixed, then non-zero before zero, then the smallest; and the
table is audited again.

A share is hidden with its count or its group's total, as in int_circumstance_disclosure.
`suppression` says why a count is hidden: primary (small), secondary (one equation), audit.
"""

import numpy as np
import pandas as pd

TABLE = ["topic", "checkpoint", "period_type", "period"]


def equations(cells: pd.DataFrame) -> list[list[int]]:
    """Positions of the cells in each equation of one table: each group's statuses and total;
    each category over a breakdown's groups with the England and Wales count."""
    found = [list(idx) for idx in cells.groupby(["breakdown", "breakdown_value"]).indices.values()]
    national = cells["breakdown"].eq("NATIONAL").to_numpy()
    for (breakdown, category), idx in cells.groupby(["breakdown", "category"]).indices.items():
        if breakdown == "NATIONAL":
            continue
        same = np.flatnonzero(national & cells["category"].eq(category).to_numpy())
        found.append([*idx, *same])
    return found


def determined(matrix: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """Positions among `hidden` whose value the equations fix (zero in the whole null space)."""
    if not len(hidden):
        return hidden
    part = matrix[:, hidden]
    _, singular, vt = np.linalg.svd(part)
    rank = int((singular > 1e-9 * max(1.0, singular.max(initial=0))).sum())
    null_space = vt[rank:]
    if not len(null_space):
        return hidden
    return hidden[np.all(np.abs(null_space) < 1e-9, axis=0)]


def audit_table(cells: pd.DataFrame) -> np.ndarray:
    """The confidential flags of one table after the audit."""
    confidential = cells["confidential"].to_numpy(dtype=bool).copy()
    people = cells["people"].to_numpy(dtype=float)
    members = equations(cells)
    matrix = np.zeros((len(members), len(cells)))
    for row, idx in enumerate(members):
        matrix[row, idx] = 1
    while True:
        fixed = determined(matrix, np.flatnonzero(confidential))
        if not len(fixed):
            return confidential
        cell = fixed[0]
        sharing = np.flatnonzero(matrix[matrix[:, cell] > 0].sum(axis=0) > 0)
        candidates = [i for i in sharing if not confidential[i]]
        if not candidates:  # everything it touches is hidden: hide the rest of the table
            confidential[:] = True
            return confidential
        hidden = np.flatnonzero(confidential)
        # the counts still fixed once a candidate is hidden, then zeros last, then the smallest
        costs = [
            (len(determined(matrix, np.sort(np.append(hidden, i)))), people[i] == 0, people[i], i)
            for i in candidates
        ]
        confidential[min(costs)[-1]] = True


def audit(cells: pd.DataFrame) -> pd.DataFrame:
    """Every table audited; `suppression` and the share flags updated."""
    cells = cells.sort_values([*TABLE, "breakdown", "breakdown_value", "category"])
    cells = cells.reset_index(drop=True)
    confidential = cells["confidential"].to_numpy(dtype=bool).copy()
    for idx in cells.groupby(TABLE).indices.values():
        table = cells.iloc[idx]
        if table["confidential"].any():
            confidential[idx] = audit_table(table)
    out = cells.assign(confidential=confidential)
    out["suppression"] = np.select(
        [
            out["primary_suppression"].astype(bool),
            cells["confidential"].astype(bool),
            out["confidential"],
        ],
        ["primary", "secondary", "audit"],
        default=None,
    )
    totals = out[out["category"].eq("TOTAL")].set_index([*TABLE, "breakdown", "breakdown_value"])[
        "confidential"
    ]
    group_total_hidden = totals.reindex(
        pd.MultiIndex.from_frame(out[[*TABLE, "breakdown", "breakdown_value"]])
    ).to_numpy(dtype=bool)
    out["share_confidential"] = out["confidential"] | group_total_hidden
    return out


def model(dbt, session):
    dbt.config(materialized="table")
    return audit(dbt.ref("int_circumstance_disclosure").df())
