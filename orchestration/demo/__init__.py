"""Synthetic landing zone for demos and tests: `generate_landing` writes every monthly delivery.

Deliveries behave like real ones (docs/methodology.md#landing-contract): each is cut as known when
it was extracted (a
seeded time early in the following month), fields completed later arrive in re-deliveries
(`_r2`, `_r3`), late-recorded terminations show backdated in a later month's snapshot, and
every file has a control file (`.ctl`) and the extraction time as its modification time.

- `extracts`: the layout written (columns, kinds, defect hooks), code lists, reference seeds;
- `simulate`: the population simulation (events, requirements, persons, contacts, facts);
- `inspections`: the HMIP inspections reference extract;
- `defects`: the built-in April-June 2021 unification defects and fault injection;
- `writer`: delivery times, writing CSV or Parquet files and control files, `generate_landing`.
"""

from orchestration.demo.defects import DefectSpec, parse_defect
from orchestration.demo.writer import generate_landing

__all__ = ["DefectSpec", "generate_landing", "parse_defect"]
