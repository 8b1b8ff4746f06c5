"""Synthetic landing zone for demos and tests: `generate_landing` writes every monthly extract.

- `extracts`: the layout written (columns, kinds, defect hooks), code lists, reference seeds;
- `simulate`: the population simulation (events, requirements, persons, contacts, facts);
- `inspections`: the HMIP inspections reference extract;
- `defects`: the built-in April-June 2021 unification defects and fault injection;
- `writer`: writing CSV or Parquet files, and `generate_landing` itself.
"""

from orchestration.demo.defects import DefectSpec, parse_defect
from orchestration.demo.writer import generate_landing

__all__ = ["DefectSpec", "generate_landing", "parse_defect"]
