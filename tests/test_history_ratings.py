"""Historic ratings (docs/methodology.md#ratings "History"): the PTRS 2010/11 trust ratings (seed
000) and the
2006 Offender Management Inspection scoring of Cumbria (seed 004, Appendix 3), against golden
values worked out by hand from the published documents."""

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT

PTRS_SEED = DBT_PROJECT_DIR / "seeds" / "ratings" / "ptrs_2010_11_trust_ratings.csv"
PTRS_REFERENCE = PROJECT_ROOT.parent / "shared" / "reference" / "ptrs_2010_11_trust_ratings.csv"

# Cumbria, July 2006. Section means by hand (Appendix 3: the plain average of the criteria):
# 1: (90 + 74 + 73 + 71 + 67) / 5 = 375 / 5 = 75.0
# 2: (62 + 75 + 75 + 80 + 72 + 82 + 70) / 7 = 516 / 7 = 73.714... -> 73.7
# 3: (60 + 72) / 2 = 132 / 2 = 66.0
# RoH: the thread's own score, Table 2 of the report: 76
CUMBRIA_SECTIONS = {
    "1": (375 / 5, Decimal("75.0"), 5),
    "2": (516 / 7, Decimal("73.7"), 7),
    "3": (132 / 2, Decimal("66.0"), 2),
    "RoH": (76.0, Decimal("76.0"), None),
}
CUMBRIA_GRADINGS = (
    "4.1 Well met; 4.2 Well met; 4.3 Satisfactorily met; 4.4 Satisfactorily met; "
    "4.5 Partly met; 4.6 Satisfactorily met"
)


def rows(con, sql: str) -> list[dict]:
    result = con.execute(sql)
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def test_cumbria_2006_section_scores(warehouse):
    sections = {
        r["section"]: r
        for r in rows(warehouse, "select * from omi_2006_section_scores where area = 'Cumbria'")
    }
    assert set(sections) == {"1", "2", "3", "4", "RoH"}
    for section, (score, score_1dp, criteria) in CUMBRIA_SECTIONS.items():
        row = sections[section]
        assert row["score"] == pytest.approx(score), section
        assert row["score_1dp"] == score_1dp, section
        assert row["criteria_count"] == criteria, section
        assert row["inspected"] == "2006-07"
    assert sections["RoH"]["score"] == 76
    # section 4 is graded in words: no score, the gradings kept as text
    assert sections["4"]["score"] is None
    assert sections["4"]["score_1dp"] is None
    assert sections["4"]["criteria_count"] == 6
    assert sections["4"]["gradings"] == CUMBRIA_GRADINGS
    assert {s: r["criteria_below_priority_line"] for s, r in sections.items()} == {
        "1": "1.5",
        "2": "2.1",
        "3": "3.1",
        "4": None,
        "RoH": None,
    }


def test_cumbria_2006_flagged_criteria(warehouse):
    criteria = {
        r["criterion"]: r
        for r in rows(warehouse, "select * from omi_2006_criteria where area = 'Cumbria'")
    }
    assert len(criteria) == 14 + 6  # sections 1-3, then section 4; the RoH thread is no criterion
    flagged = {c for c, r in criteria.items() if r["below_priority_line"]}
    assert flagged == {"1.5", "2.1", "3.1"}
    # 2.7 scores exactly 70: on the line is not below it
    assert criteria["2.7"]["score"] == 70
    assert criteria["2.7"]["below_priority_line"] is False
    # the flags agree with the report's own conclusions on sections 1-3
    for criterion, row in criteria.items():
        if row["section"] in ("1", "2", "3"):
            assert row["priority_line"] == 70
            expected = row["conclusion_in_report"] == "priority for improvement"
            assert row["below_priority_line"] is expected, criterion
        else:
            assert row["score"] is None and row["below_priority_line"] is None, criterion
            assert row["grading"] in {"Well met", "Satisfactorily met", "Partly met"}, criterion


def test_ptrs_2010_11_trust_ratings(warehouse):
    trusts = rows(warehouse, "select * from ptrs_trust_ratings_2010_11")
    assert len(trusts) == 35
    by_rating = {}
    for trust in trusts:
        by_rating.setdefault(trust["rating"], set()).add(trust["trust_name"])
    assert set(by_rating) == {3, 4}  # none rated 1 or 2
    assert len(by_rating[3]) == 32
    assert by_rating[4] == {
        "Humberside Probation Trust",
        "Northumbria Probation Trust",
        "York and North Yorkshire Probation Trust",
    }
    labels = {t["rating"]: t["rating_label"] for t in trusts}
    assert labels == {3: "Good performance", 4: "Exceptional performance"}

    moderated = {t["trust_name"] for t in trusts if t["moderation_marker"] == "*"}
    assert moderated == {
        "Durham Tees Valley Probation Trust",
        "Surrey and Sussex Probation Trust",
        "Wiltshire Probation Trust",
    }
    assert {t["trust_name"] for t in trusts if t["moderation_considered"]} == moderated
    assert {t["moderation_marker"] for t in trusts} == {"*", ""}
    published = {t["trust_name"]: t["trust_name_as_published"] for t in trusts}
    assert published["Durham Tees Valley Probation Trust"] == "Durham Tees Valley Probation Trust*"
    assert published["Humberside Probation Trust"] == "Humberside Probation Trust"
    assert sum(name.endswith("*") for name in published.values()) == 3


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


@pytest.mark.skipif(
    not PTRS_REFERENCE.exists(), reason=f"no shared reference file at {PTRS_REFERENCE}"
)
def test_ptrs_seed_matches_the_shared_reference():
    assert read_csv(PTRS_SEED) == read_csv(PTRS_REFERENCE)
