"""The demo scenario the quality-gate and workbook tests share: one demo landing zone (scale
0.02, January 2021 to March 2022, with the built-in April-June 2021 unification defects) with
eight injected defects of every kind, in different regions and months inside the edition
2022-03's window, and the flags they must raise."""

START, END, EDITION = "2021-01", "2022-03", "2022-03"
INJECTED = {  # defect -> the rule expected to flag it
    "null_spike:measure_returns:N03:2021-09:0.3": "null_required",
    "shift_dates:events:N50:2021-09:0.1": "outside_partition",
    "drop_rows:contacts:N07:2021-10:0.4": "row_count",
    "duplicate_rows:upw_sessions:N52:2021-11:0.2": "duplicate_keys",
    "shift_dates:accommodation_checks:N51:2021-12:0.3": "outside_partition",
    "drop_region:events:N53:2022-01": "region_missing",
    "null_spike:requirements:N58:2022-02:0.3": "null_required",
    "drop_rows:contacts:N56:2022-03:0.5": "row_count",
}
# The flags the injected damage raises: each damaged extract feeds at least one published
# measure. The contacts drops also move SL007 (in-person contacts of everyone supervised) far
# enough for a measure_jump flag of their own, and the events dropped for N53 in January 2022
# were open in December's file: they have vanished too.
BLOCKING = {
    "null_required:measure_returns:N03:2021-09",
    "outside_partition:events:N50:2021-09",
    "row_count:contacts:N07:2021-10",
    "duplicate_keys:upw_sessions:N52:2021-11",
    "outside_partition:accommodation_checks:N51:2021-12",
    "region_missing:events:N53:2022-01",
    "vanished_records:events:N53:2022-01",
    "null_required:requirements:N58:2022-02",
    "row_count:contacts:N56:2022-03",
    "measure_jump:SL007:N07:2021-10",
    "measure_jump:SL007:N56:2022-03",
}
# SL007 is valid for publication from April 2022: in the edition to March 2022 its cells publish
# [z], so its own measure_jump flags are raised but hold nothing back.
NOT_APPLICABLE_FLAGS = {"measure_jump:SL007:N07:2021-10", "measure_jump:SL007:N56:2022-03"}
HOLDING = BLOCKING - NOT_APPLICABLE_FLAGS
