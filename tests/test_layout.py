"""The shape of the code: modules import one way (no circle)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit


def test_the_quality_reviews_do_not_import_the_configuration_checks():
    """orchestration.configuration checks the reviews with orchestration.quality; quality reads
    its CSV with orchestration.csv_text, never through configuration (the circle once there)."""
    probe = (
        "import sys, orchestration.quality; sys.exit('orchestration.configuration' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", probe], check=False).returncode == 0
