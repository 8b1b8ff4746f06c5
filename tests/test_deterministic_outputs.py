"""The bulletin's charts and the Great Expectations Data Docs are the same bytes whenever the
same inputs are rendered, so that a rebuilt edition can be compared with the published one
file by file (orchestration/release/edition_compare.py)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from orchestration.publication.bulletin import _regional_chart, _trend_chart
from orchestration.publication.validation import Check, _expectations, run_checks, run_identity

pytestmark = pytest.mark.unit

PUBLICATION = dt.date(2025, 5, 8)
DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{8}T\d{6}")


def _measure() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "measure_code": "SL004",
            "period": [f"2024-{m:02d}" for m in range(1, 13)],
            "performance_pct": [70 + m / 2 for m in range(12)],
            "cell_status": ["final"] * 10 + ["provisional"] * 2,
        }
    )


def test_a_chart_drawn_twice_is_the_same_svg_without_a_date():
    targets = {"2023/24": 75.0, "2024/25": 76.0}
    first, alt = _trend_chart(_measure(), targets)  # each call draws a fresh figure
    second, _ = _trend_chart(_measure(), targets)
    assert first == second
    assert "<dc:date>" not in first
    assert not DATE_LIKE.search(first), DATE_LIKE.search(first)
    assert "clip-path" in first  # the salted ids are there, and fixed


def test_two_charts_of_one_page_do_not_share_salted_ids():
    regions = pd.DataFrame(
        {
            "measure_code": "SL004",
            "geography_name": ["North", "South"],
            "performance_pct": [71.0, 79.5],
        }
    )
    regional, _ = _regional_chart(regions, 75.0, "Some measure")
    trend, _ = _trend_chart(_measure(), {})
    ids = re.compile(r'id="([pm][0-9a-f]{10})"')
    assert set(ids.findall(regional)).isdisjoint(ids.findall(trend))


def test_the_salt_is_set_for_the_chart_only():
    import matplotlib

    _trend_chart(_measure(), {})
    assert matplotlib.rcParams["svg.hashsalt"] is None


CHILD = """
import sys, datetime as dt
from pathlib import Path
from tests.test_deterministic_outputs import small_checks, PUBLICATION
from orchestration.publication.validation import run_checks
print(run_checks(small_checks(), Path(sys.argv[1]), PUBLICATION))
"""


def small_checks() -> list[Check]:
    gxe = _expectations()
    frame = pd.DataFrame({"key": [1, 2, 3], "share_pct": [10.0, 50.0, 120.0]})
    return [
        Check(
            "shares",
            frame,
            [
                gxe.ExpectColumnValuesToNotBeNull(column="key"),
                gxe.ExpectColumnValuesToBeBetween(column="share_pct", min_value=0, max_value=100),
            ],
        ),
        Check("keys", frame, [gxe.ExpectColumnValuesToBeInSet(column="key", value_set=[1, 2])]),
    ]


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_data_docs_are_the_same_bytes_on_another_day_and_time_zone(tmp_path):
    here = run_checks(small_checks(), tmp_path / "here", PUBLICATION)
    # another process (another uuid, another clock) in another time zone
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "there")],
        cwd=Path(__file__).parents[1],
        env={**__import__("os").environ, "TZ": "Asia/Tokyo"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == str(here)
    assert here["success"] is False  # a failing check is rendered too
    first, second = _tree(tmp_path / "here"), _tree(tmp_path / "there")
    assert list(first) == list(second)
    differing = [name for name in first if first[name] != second[name]]
    assert not differing
    pages = [name for name in first if name.startswith("validations/")]
    assert pages == [
        "validations/keys/publication/20250508T000000.000000Z/published-keys.html",
        "validations/shares/publication/20250508T000000.000000Z/published-shares.html",
    ]
    page = first[pages[1]].decode()
    assert "2025-05-08T00:00:00Z" in page  # the run time shown is the publication date
    assert "20250508T000000.000000Z" in page  # and the batch's load time too
    assert "?d=" not in page  # no wall-clock cache-busting query on the logo


def test_run_identity_is_never_the_wall_clock():
    assert run_identity(PUBLICATION) == (
        "publication",
        dt.datetime(2025, 5, 8, tzinfo=dt.UTC),
    )
    naive = dt.datetime(2025, 5, 8, 9, 30)
    assert run_identity(naive)[1] == naive.replace(tzinfo=dt.UTC)
    bst = dt.datetime(2025, 5, 8, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert run_identity(bst)[1] == dt.datetime(2025, 5, 8, 8, 30, tzinfo=dt.UTC)
    assert run_identity(None) == run_identity() == ("undated", run_identity()[1])
    assert run_identity()[1].year == 2000
