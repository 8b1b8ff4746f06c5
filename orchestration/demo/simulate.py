"""Population simulation behind the demo landing zone: who is supervised, and what happens to them.

Everything is drawn with numpy and vectorised over records; loops run per month (cohort) or per
region only. The simulation is anchored on a fixed epoch (`SIM_EPOCH`, earlier when the requested
range starts earlier) and every month draws from its own random stream `(seed, stream, month)`,
so a month's files do not depend on the range requested: generating 2021-03..2021-07 gives the
same files for those months as generating 2019-04..2025-03.

Cohort stages, each with its own stream so that skipping one never shifts another:
- A `events`/`persons`: the sentences and releases starting in the month, and new people;
- B `requirements`: requirements of community orders and their unpaid work sessions;
- C `facts`: initial appointments, sentence plans, accommodation and employment checks, recalls;
- D `custody`: handovers and parole reports (they precede release, so run ahead of the range).
Per output month: regular contacts (`contacts`) and aggregated measure returns (`returns`).

What a file can know (streams added later, so the draws above never change):
- terminations of events (`event_recording`) and requirements (`requirement_recording`) are
  recorded on the day, or for about 10% one or two months later; snapshot files are cut as
  known at the end of the month, so such a termination shows, backdated, in the file of the
  month it was recorded (`file_events`);
- a contact's outcome is recorded on the day for about 85% of contacts, up to 60 days later
  for the rest (`contact_recording`); a recall's Part B, a parole report and a handover meeting
  are recorded on their date; `as_delivered` hides what a delivery extracted on a given date
  cannot know yet (docs/methodology.md#landing-contract fields completed later);
- about 10% of release-night accommodation checks are dated the day after release
  (`release_night`); `extractions` times the deliveries (see `writer`).

Performance levels (e.g. the share of initial appointments in time) vary by region (a fixed
random effect per seed), drift over the years, drop in the COVID period (2020-04 to 2021-03,
when in-person contact largely gave way to telephone and video) and dip after unification.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import holidays as holidays_lib
import numpy as np

from orchestration.demo import extracts as X

SIM_EPOCH = "2016-04"  # first cohort simulated (earlier if the range needs a longer warm-up)
WARMUP_MONTHS = 36  # every event ends within this many months of its start
LOOKAHEAD_MONTHS = 41  # handovers precede release by up to 40 months
UNIFICATION_DAY = np.datetime64("2021-06-26")  # CRCs absorbed: provider_code null from here
COVID = (np.datetime64("2020-04-01"), np.datetime64("2021-03-31"))
UNIFICATION_DIP = (np.datetime64("2021-04-01"), np.datetime64("2021-12-31"))
LEVEL_ORIGIN = np.datetime64("2019-04-01")  # drift is measured in years from here
NAT = np.datetime64("NaT", "D")
INT_NULL = -1  # integer fields are never negative: -1 marks null

STREAMS = {
    "events": 1,
    "persons": 2,
    "requirements": 3,
    "facts": 4,
    "custody": 5,
    "contacts": 6,
    "returns": 7,
    "inspections": 8,
    "levels": 9,
    # Added later: when things are recorded and delivered (never reorder or reuse numbers).
    "contact_recording": 10,
    "event_recording": 11,
    "requirement_recording": 12,
    "release_night": 13,
    "extractions": 14,
}

# National monthly starts at scale 1.0 (E&W, around 2019-2024).
MONTHLY_STARTS = {"CO": 5800, "SSO": 4000, "SDO": 200, "LICENCE": 6000, "PSS": 1300}
SEASON = (1.02, 1.0, 1.08, 0.97, 1.0, 1.0, 1.05, 0.93, 1.0, 1.03, 1.0, 0.86)  # Jan..Dec
# Court closures in the first COVID months cut new community sentences.
COVID_COMMUNITY_VOLUME = {
    "2020-04": 0.35, "2020-05": 0.45, "2020-06": 0.6, "2020-07": 0.8, "2020-08": 0.85,
    "2020-09": 0.85, "2020-10": 0.85, "2020-11": 0.8, "2020-12": 0.8, "2021-01": 0.75,
    "2021-02": 0.8, "2021-03": 0.9,
}  # fmt: skip
COVID_LICENCE_VOLUME = {"2020-04": 0.8, "2020-05": 0.85, "2020-06": 0.9}
PERSON_REUSE_SHARE = 0.12  # new events for someone with an event in the last 36 months
CRC_SHARE = 0.6  # pre-unification events managed by a CRC (rest: NPS division)
PDU_NULL_SHARE = 0.02
REMAND_SHARE = 0.08

OFFENCE_MIX = {  # in OFFENCE_CATEGORIES order
    "community": (0.28, 0.04, 0.01, 0.18, 0.12, 0.10, 0.05, 0.08, 0.14),
    "custody": (0.31, 0.04, 0.07, 0.15, 0.18, 0.03, 0.04, 0.05, 0.13),
}
TERMINATION_MIX = {  # in EVENT_TERMINATION_REASONS order
    "CO": (0.70, 0.15, 0.0, 0.02, 0.005, 0.125),
    "SSO": (0.70, 0.15, 0.0, 0.02, 0.005, 0.125),
    "SDO": (0.80, 0.12, 0.0, 0.01, 0.005, 0.065),
    "LICENCE": (0.74, 0.0, 0.20, 0.02, 0.01, 0.03),
    "PSS": (0.78, 0.10, 0.0, 0.02, 0.005, 0.095),
}
ORDER_MONTHS = {"CO": ((12, 18, 24), (0.3, 0.35, 0.35)), "SSO": ((12, 18, 24), (0.3, 0.3, 0.4))}
CONTACTS_PER_MONTH = {"CO": 2.3, "SSO": 2.4, "SDO": 1.5, "LICENCE": 3.0, "PSS": 2.0}

# Requirements of CO/SSO: independent chance of each type (REQUIREMENT_TYPES order), at most 3.
REQUIREMENT_CHANCE = (0.45, 0.40, 0.08, 0.06, 0.04, 0.14, 0.07, 0.05)
REQUIREMENT_CHANCE_SEXUAL = (0.20, 0.30, 0.50, 0.30, 0.25, 0.10, 0.02, 0.05)
DRUG_REHAB_CHANCE_DRUGS = 0.35
UPW_HOURS = ((40, 60, 80, 100, 120, 150, 180, 200, 240, 300),
             (0.10, 0.14, 0.16, 0.16, 0.12, 0.10, 0.07, 0.07, 0.04, 0.04))  # fmt: skip
# Days from the requirement's start to its natural end (None: runs with the order).
REQUIREMENT_LENGTH_DAYS = {
    "RAR": None, "ACCREDITED_PROGRAMME": (100, 250), "STRUCTURED_INTERVENTION": (40, 150),
    "TOOLKIT": (40, 150), "CURFEW": (60, 240), "DRUG_REHAB": (180, 365), "OTHER": None,
}  # fmt: skip
REQUIREMENT_START_DAYS = {
    "RAR": (5, 25), "ACCREDITED_PROGRAMME": (30, 120), "STRUCTURED_INTERVENTION": (20, 90),
    "TOOLKIT": (20, 90), "CURFEW": (0, 2), "DRUG_REHAB": (5, 30), "OTHER": (5, 40),
}  # fmt: skip
UPW_SESSION_HOURS = 7
UPW_OTHER_STATUS = (0.08, 0.05)  # FAILED_TO_ATTEND, ACCEPTABLE_ABSENCE (STOOD_DOWN by level)

CONTACT_OUTCOME_MIX = (0.82, 0.09, 0.06, 0.03)
INITIAL_OUTCOME_MIX = (0.89, 0.07, 0.03, 0.01)
PLAN_SHARE = 0.95
CHECK_SHARE = 0.9
RELEASE_NIGHT_CHECK_SHARE = 0.92
RECALL_RECORD_SHARE = 0.35  # recalled licences with a Part B record in `recalls`
HANDOVER_SHARE = 0.26  # licences (custodial >= 8 months) with a COM handover
PAROLE_SHARE = 0.18  # licences (custodial >= 48 months) with a parole report
INDETERMINATE_SHARE = 0.3
RELEASE_NIGHT_NEXT_DAY_SHARE = 0.10  # release-night checks dated the day after release

# Recording lags: what a delivery can know (docs/methodology.md#landing-contract "fields completed
# later").
CONTACT_RECORDED_LATE_SHARE = 0.15  # outcomes not recorded on the day of the contact
CONTACT_RECORDING_LAG_DAYS = (1, 60)  # uniform, for the late ones
TERMINATION_RECORDED_LATE_SHARE = 0.10  # event / requirement terminations recorded late
TERMINATION_RECORDING_LAG_DAYS = (28, 62)  # uniform: one or two months late

PERSON_MIX = {
    "sex": (0.85, 0.15),  # M, F
    "age_band": (0.06, 0.12, 0.17, 0.33, 0.19, 0.13),
    "ethnicity": (0.78, 0.09, 0.07, 0.04, 0.02),  # WHITE .. OTHER
    "religion": (0.22, 0.06, 0.08, 0.09, 0.45, 0.02, 0.01, 0.02, 0.005, 0.045),
    "disability": (0.25, 0.75),  # Y, N
    "sexual_orientation": (0.93, 0.03, 0.03, 0.01),
}
# Chance a characteristic is not recorded at first (2016 cohorts; falls 8% a year to 35% of it).
UNRECORDED_AT_FIRST = {
    "sex": 0.01, "ethnicity": 0.07, "disability": 0.18, "religion": 0.22,
    "sexual_orientation": 0.30,
}  # fmt: skip
NEVER_RECORDED_SHARE = 0.35

# (code, first month, national monthly denominator at scale 1, typical performance)
RETURN_MEASURES = (
    ("SL001", "2021-10", 9000, 0.86),
    ("SL020", "2021-10", 4000, 0.82),
    ("QM102", "2021-10", 1200, 0.72),
    ("QM103", "2021-10", 1200, 0.74),
    ("QM104", "2021-10", 1200, 0.76),
    ("SL031", "2022-04", 1500, 0.75),
    ("CRS_SL001", "2022-04", 5000, 0.85),
    ("CRS_SL002", "2022-04", 4000, 0.70),
    ("CRS_QM1", "2023-01", 600, 0.75),
    ("CRS_QM2", "2023-01", 600, 0.78),
    ("EM_SL01", "2019-04", 9000, 0.93),
    ("EM_SL02", "2019-04", 9000, 0.95),
    ("EM_SL03", "2019-04", 2500, 0.90),
)
RETURN_MIN_DENOMINATOR = 10


@dataclass(frozen=True)
class Level:
    """A performance rate: base, region spread (sd), drift a year, COVID and unification shifts."""

    base: float
    spread: float = 0.0
    drift: float = 0.0
    covid: float = 0.0
    unification: float = 0.0
    lo: float = 0.0
    hi: float = 1.0


LEVELS: dict[str, Level] = {
    "community_initial_timely": Level(0.905, 0.018, 0.003, 0.0, -0.03, 0.80, 0.955),
    "licence_initial_timely": Level(0.90, 0.03, 0.005, 0.0, -0.05, 0.80, 0.975),
    "initial_in_person": Level(0.965, 0.01, 0.0, -0.66, 0.0, 0.20, 0.995),
    "contact_in_person": Level(0.80, 0.03, -0.004, -0.55, 0.0, 0.15, 0.95),
    "plan_timely": Level(0.84, 0.05, 0.008, -0.05, -0.10, 0.50, 0.98),
    "upw_first_timely": Level(0.70, 0.08, 0.01, -0.40, -0.10, 0.10, 0.95),
    "upw_stood_down": Level(0.07, 0.015, 0.0, 0.12, 0.02, 0.03, 0.40),
    "housed_on_release": Level(0.86, 0.03, 0.005, -0.02, -0.02, 0.70, 0.97),
    "settled_licence": Level(0.60, 0.05, 0.005, -0.03, 0.0, 0.35, 0.90),
    "settled_community": Level(0.80, 0.04, 0.003, -0.02, 0.0, 0.55, 0.95),
    "employed_6w": Level(0.22, 0.04, 0.01, -0.07, 0.0, 0.05, 0.50),
    "employed_6m_licence": Level(0.30, 0.05, 0.01, -0.06, 0.0, 0.10, 0.55),
    "employed_6m_community": Level(0.42, 0.05, 0.01, -0.08, 0.0, 0.15, 0.65),
    "recall_on_time": Level(0.86, 0.05, 0.005, -0.05, -0.08, 0.50, 0.98),
    "parole_on_time": Level(0.84, 0.05, 0.005, -0.04, -0.05, 0.50, 0.98),
    "handover_on_time": Level(0.78, 0.06, 0.01, -0.05, -0.05, 0.40, 0.97),
}

_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


# --------------------------------------------------------------------------- months and days
def month_index(label: str) -> int:
    """'2021-04' -> year * 12 + month - 1; ValueError for anything else."""
    match = _MONTH_RE.match(label or "")
    if not match:
        raise ValueError(f"bad month {label!r}: expected YYYY-MM")
    return int(match[1]) * 12 + int(match[2]) - 1


def month_label(mi: int) -> str:
    return f"{mi // 12:04d}-{mi % 12 + 1:02d}"


def month_start(mi) -> Any:  # a datetime64 scalar or array, as mi is
    """First day of month index mi (scalar or array)."""
    return (
        (np.asarray(mi, dtype=np.int64) - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")
    )


def month_end(mi) -> Any:  # a datetime64 scalar or array, as mi is
    return month_start(np.asarray(mi) + 1) - np.timedelta64(1, "D")


def add_months(days: np.ndarray, k) -> np.ndarray:
    """Same day k calendar months later, clipped to the end of a shorter month."""
    first = days.astype("datetime64[M]")
    dom = (days - first.astype("datetime64[D]")).astype(np.int64)
    target = first + np.asarray(k).astype("timedelta64[M]")
    length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(
        np.int64
    )
    return target.astype("datetime64[D]") + np.minimum(dom, length - 1)


def _days(n) -> np.ndarray:
    return np.asarray(n, dtype=np.int64).astype("timedelta64[D]")


class Calendar:
    """England and Wales business days (Mon-Fri, not a bank holiday) from `holidays`."""

    def __init__(self, first_year: int, last_year: int):
        years = range(first_year, last_year + 1)
        days = sorted(holidays_lib.country_holidays("GB", subdiv="ENG", years=years))
        self.holidays = np.array(days, dtype="datetime64[D]")
        self.busdaycal = np.busdaycalendar(holidays=self.holidays)

    def add(self, days: np.ndarray, n) -> np.ndarray:
        """The n-th business day strictly after each date (docs/methodology.md#measures
        add_business_days)."""
        return np.busday_offset(days, n, roll="backward", busdaycal=self.busdaycal)

    def back(self, days: np.ndarray, n) -> np.ndarray:
        """The n-th business day before each date."""
        return np.busday_offset(days, -np.asarray(n), roll="forward", busdaycal=self.busdaycal)

    def roll(self, days: np.ndarray, forward: bool = True) -> np.ndarray:
        return np.busday_offset(
            days, 0, roll="forward" if forward else "backward", busdaycal=self.busdaycal
        )

    def business_days(self, mi: int) -> np.ndarray:
        days = np.arange(month_start(mi), month_end(mi) + np.timedelta64(1, "D"))
        return days[np.is_busday(days, busdaycal=self.busdaycal)]


# --------------------------------------------------------------------------- small helpers
def stochastic_round(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """Round to an integer count >= 0, keeping the expectation (floor + Bernoulli(frac))."""
    x = np.maximum(np.asarray(x, dtype=np.float64), 0.0)
    base = np.floor(x)
    return (base + (rng.random(x.shape) < x - base)).astype(np.int64)


def choose(rng: np.random.Generator, probs, n: int) -> np.ndarray:
    """n draws of an index with the given probabilities (normalised), as int8."""
    p = np.asarray(probs, dtype=np.float64)
    cum = np.cumsum(p / p.sum())
    cum[-1] = 1.0
    return np.searchsorted(cum, rng.random(n), side="right").astype(np.int8)


def uniform_int(rng: np.random.Generator, lo, hi, n: int) -> np.ndarray:
    """Integers in [lo, hi] inclusive; lo/hi may be arrays."""
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    return lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(np.int64)


def format_ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Vectorised f'{prefix}{n:0{width}d}' as a numpy unicode array."""
    n = np.asarray(numbers, dtype=np.int64)
    if n.size and (n.min() < 0 or n.max() >= 10**width):
        raise ValueError(f"id numbers for prefix {prefix!r} do not fit in {width} digits")
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    matrix = np.empty((n.size, head.size + width), dtype=np.uint8)
    matrix[:, : head.size] = head
    matrix[:, head.size :] = (n[:, None] // powers) % 10 + 48
    size = head.size + width
    return matrix.view(f"S{size}").ravel().astype(f"U{size}")


CRN_LETTERS = b"XYZABCDEFGHIJKLMNOPQRSTUVW"


def format_crns(numbers: np.ndarray) -> np.ndarray:
    """nDelius-style CRN: a letter and six digits (X000001 .. X999999, then Y..., Z..., A...)."""
    n = np.asarray(numbers, dtype=np.int64)
    if n.size and n.max() >= 26 * 10**6:
        raise ValueError("too many persons for the CRN format")
    letters = np.frombuffer(CRN_LETTERS, dtype=np.uint8)[n // 10**6]
    digits = format_ids("", n % 10**6, 6).astype("S6").view(np.uint8).reshape(-1, 6)
    matrix = np.empty((n.size, 7), dtype=np.uint8)
    matrix[:, 0] = letters
    matrix[:, 1:] = digits
    return matrix.view("S7").ravel().astype("U7")


def codes(table: tuple[str, ...], idx: np.ndarray) -> np.ndarray:
    """Code strings for indexes into table; -1 gives '' (null)."""
    lookup = np.array(list(table) + [""])
    return lookup[np.asarray(idx, dtype=np.int64)]


def _cat(parts: list[dict[str, np.ndarray]], like: dict[str, np.ndarray]) -> dict:
    """Concatenate dict-of-array parts (like: empty arrays giving the dtypes when no parts)."""
    if not parts:
        return {k: v[:0].copy() for k, v in like.items()}
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _take(table: dict[str, np.ndarray], idx) -> dict[str, np.ndarray]:
    return {k: v[idx] for k, v in table.items()}


# --------------------------------------------------------------------------- the simulation
class Simulation:
    """The simulated population for months first..last (month indexes, inclusive).

    Event-level arrays live in `self.ev` (one entry per event, in event-number order), people in
    `self.people`, requirements in `self.req`; fact rows within the output range in `self.facts`
    (per extract, sorted by date). `frame(extract, mi)` cuts one month's file.
    """

    def __init__(self, first: int, last: int, scale: float, seed: int):
        if last < first:
            raise ValueError("end month is before start month")
        if scale < 0:
            raise ValueError("scale must be >= 0")
        self.first, self.last, self.scale, self.seed = first, last, float(scale), int(seed)
        self.ref = X.load_reference()
        self.n_regions = len(self.ref.regions)
        self.shares = np.array([X.REGION_SHARES[r] for r in self.ref.regions])
        self.epoch = min(month_index(SIM_EPOCH), first - WARMUP_MONTHS)
        self.horizon = last + LOOKAHEAD_MONTHS
        self.cal = Calendar(self.epoch // 12 - 1, self.horizon // 12 + 1)
        self.out_start, self.out_end = month_start(first), month_end(last)
        levels_rng = self.rng("levels", 0)
        self.region_z = {key: levels_rng.standard_normal(self.n_regions) for key in sorted(LEVELS)}
        self._reference_tables()
        self._simulate()

    def rng(self, stream: str, mi: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, STREAMS[stream], int(mi)])

    def level(self, key: str, region: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Performance rate for each (region, date)."""
        lv = LEVELS[key]
        years = (days - LEVEL_ORIGIN).astype(np.float64) / 365.25
        covid = (days >= COVID[0]) & (days <= COVID[1])
        dip = (days >= UNIFICATION_DIP[0]) & (days <= UNIFICATION_DIP[1])
        value = (
            lv.base
            + lv.spread * self.region_z[key][region]
            + lv.drift * years
            + lv.covid * covid
            + lv.unification * dip
        )
        return np.clip(value, lv.lo, lv.hi)

    def _reference_tables(self) -> None:
        ref = self.ref
        self.pdu_codes = tuple(code for codes_ in ref.pdus for code in codes_)
        counts = np.array([len(c) for c in ref.pdus])
        self.pdu_count = counts
        self.pdu_offset = np.concatenate([[0], np.cumsum(counts)[:-1]])
        width = len(ref.providers)
        crc = np.full((self.n_regions, width), -1, dtype=np.int64)
        nps = np.full((self.n_regions, width), -1, dtype=np.int64)
        n_crc = np.zeros(self.n_regions, dtype=np.int64)
        n_nps = np.zeros(self.n_regions, dtype=np.int64)
        for p, (kind, regions) in enumerate(
            zip(ref.provider_types, ref.provider_regions, strict=True)
        ):
            for code in regions:
                r = ref.regions.index(code)
                if kind == "CRC":
                    crc[r, n_crc[r]] = p
                    n_crc[r] += 1
                else:
                    nps[r, n_nps[r]] = p
                    n_nps[r] += 1
        if (n_crc == 0).any() or (n_nps == 0).any():
            raise ValueError("providers.csv: every region needs a CRC and an NPS division")
        self.crc_table, self.nps_table, self.n_crc, self.n_nps = crc, nps, n_crc, n_nps

    # ----------------------------------------------------------------------- orchestration
    def _simulate(self) -> None:
        cohorts = range(self.epoch, self.horizon + 1)
        parts, people_parts = [], []
        self.next_person = 0
        recent: list[list[np.ndarray]] = [[] for _ in range(self.n_regions)]
        for mi in cohorts:
            block, people = self._stage_events(mi, recent)
            parts.append(block)
            people_parts.append(people)
        self.cohort_offsets = np.cumsum([0] + [len(p["etype"]) for p in parts])
        self.ev = _cat(parts, parts[0])
        self.ev["num"] = np.arange(1, len(self.ev["etype"]) + 1, dtype=np.int64)
        self.people = _cat(people_parts, people_parts[0])
        n = len(self.ev["num"])
        self.ev["term_rec"] = np.concatenate(
            [
                self._recorded(self.ev["term"][lo:hi], "event_recording", mi)
                for mi, lo, hi in zip(
                    cohorts, self.cohort_offsets[:-1], self.cohort_offsets[1:], strict=True
                )
            ]
        )
        for name in ("init_date", "follow_date", "first_att"):
            self.ev[name] = np.full(n, NAT)
        for name in ("init_mode", "init_outcome", "follow_mode"):
            self.ev[name] = np.full(n, -1, dtype=np.int8)

        fact_parts: dict[str, list] = {name: [] for name in FACT_TABLES}
        req_parts, session_parts = [], []
        self.next_req = 1
        for k, mi in enumerate(cohorts):
            lo, hi = self.cohort_offsets[k], self.cohort_offsets[k + 1]
            if mi <= self.last:
                req, sessions = self._stage_requirements(mi, lo, hi)
                req["term_rec"] = self._recorded(req["term"], "requirement_recording", mi)
                req_parts.append(req)
                session_parts.append(sessions)
                for name, rows in self._stage_facts(mi, lo, hi).items():
                    fact_parts[name].append(rows)
            for name, rows in self._stage_custody(mi, lo, hi).items():
                fact_parts[name].append(rows)
        self.req = _cat(req_parts, req_parts[0])
        fact_parts["upw_sessions"] = session_parts
        self.facts = {}
        for name, like in FACT_TABLES.items():
            table = _cat(fact_parts[name], like)
            order = np.lexsort((table["id"], table["date"]))
            self.facts[name] = _take(table, order)

    def _recorded(self, term: np.ndarray, stream: str, mi: int) -> np.ndarray:
        """When each termination was recorded: on the day, or for a share of them one or two
        months later (a backdated termination), drawn from the cohort's own stream."""
        rng = self.rng(stream, mi)
        n = term.size
        late = rng.random(n) < TERMINATION_RECORDED_LATE_SHARE
        lag = uniform_int(rng, *TERMINATION_RECORDING_LAG_DAYS, n)
        return term + _days(np.where(late, lag, 0))

    # ----------------------------------------------------------------------- stage A
    def _stage_events(self, mi: int, recent: list[list[np.ndarray]]):
        rng = self.rng("events", mi)
        label = month_label(mi)
        season = SEASON[mi % 12]
        types = X.EVENT_TYPES
        factor = np.array(
            [
                season
                * (
                    COVID_LICENCE_VOLUME.get(label, 1.0)
                    if t in ("LICENCE", "PSS")
                    else COVID_COMMUNITY_VOLUME.get(label, 1.0)
                )
                for t in types
            ]
        )
        base = np.array([MONTHLY_STARTS[t] for t in types]) * factor
        counts = stochastic_round(rng, np.outer(base, self.shares) * self.scale)  # (type, region)
        n = int(counts.sum())
        etype = np.repeat(np.repeat(np.arange(len(types)), self.n_regions), counts.ravel())
        region = np.repeat(np.tile(np.arange(self.n_regions), len(types)), counts.ravel())
        etype, region = etype.astype(np.int8), region.astype(np.int8)
        bdays = self.cal.business_days(mi)
        start = bdays[rng.integers(0, len(bdays), n)]
        order = np.argsort(start, kind="stable")
        etype, region, start = etype[order], region[order], start[order]

        is_custody = (etype == types.index("LICENCE")) | (etype == types.index("PSS"))
        offence = np.where(
            is_custody,
            choose(rng, OFFENCE_MIX["custody"], n),
            choose(rng, OFFENCE_MIX["community"], n),
        ).astype(np.int8)
        pdu = self.pdu_offset[region] + np.floor(rng.random(n) * self.pdu_count[region]).astype(
            np.int64
        )
        pdu = np.where(rng.random(n) < PDU_NULL_SHARE, -1, pdu).astype(np.int16)
        use_crc = rng.random(n) < CRC_SHARE
        pick = rng.random(n)
        provider = np.where(
            use_crc,
            self.crc_table[region, np.floor(pick * self.n_crc[region]).astype(np.int64)],
            self.nps_table[region, np.floor(pick * self.n_nps[region]).astype(np.int64)],
        )
        provider = np.where(start < UNIFICATION_DAY, provider, -1).astype(np.int8)
        release = np.where(is_custody, (rng.random(n) < REMAND_SHARE).astype(np.int8), -1).astype(
            np.int8
        )

        # Sentence length and expected end.
        licence = etype == types.index("LICENCE")
        pss = etype == types.index("PSS")
        custodial_licence = np.clip(np.round(np.exp(rng.normal(np.log(30), 0.8, n))), 7, 240)
        custodial_pss = uniform_int(rng, 1, 23, n)
        custodial = np.where(licence, custodial_licence, np.where(pss, custodial_pss, INT_NULL))
        custodial = custodial.astype(np.int32)
        months = np.zeros(n, dtype=np.int64)
        for t, (choices, probs) in ORDER_MONTHS.items():
            mask = etype == types.index(t)
            months[mask] = np.array(choices)[choose(rng, probs, int(mask.sum()))]
        sdo = etype == types.index("SDO")
        months[sdo] = uniform_int(rng, 3, 12, int(sdo.sum()))
        months[licence] = np.clip(np.round(custodial_licence[licence] / 2), 3, 24)
        months[pss] = 12
        expected_end = add_months(start, months)

        # Termination (the true one; files show it only once it has happened).
        reason = np.full(n, 0, dtype=np.int8)
        for t, mix in TERMINATION_MIX.items():
            mask = etype == types.index(t)
            reason[mask] = choose(rng, mix, int(mask.sum()))
        span = (expected_end - start).astype(np.int64)
        early_frac = rng.beta(1.3, 2.0, n) * 0.95
        good_progress = (reason == 0) & ~is_custody & (rng.random(n) < 0.12)
        early_frac = np.where(good_progress, rng.uniform(0.55, 0.9, n), early_frac)
        early_days = np.maximum(30, np.round(early_frac * span)).astype(np.int64)
        term = np.where((reason == 0) & ~good_progress, expected_end, start + _days(early_days))
        term = np.minimum(term, expected_end)
        term = self.cal.roll(term, forward=False)
        term = np.maximum(term, start + np.timedelta64(30, "D"))

        # People: some events belong to someone with a recent event in the same region.
        person = np.full(n, -1, dtype=np.int64)
        reuse = rng.random(n) < PERSON_REUSE_SHARE
        pick = rng.random(n)
        for r in range(self.n_regions):
            mine = region == r
            if recent[r]:
                pool = np.concatenate(recent[r])
                rows = np.flatnonzero(mine & reuse)
                if pool.size:
                    person[rows] = pool[np.floor(pick[rows] * pool.size).astype(np.int64)]
        new = person < 0
        n_new = int(new.sum())
        person[new] = self.next_person + np.arange(n_new)
        self.next_person += n_new
        for r in range(self.n_regions):
            recent[r].append(person[region == r])
            if len(recent[r]) > WARMUP_MONTHS:
                recent[r].pop(0)
        people = self._new_people(mi, start[new])

        block = {
            "cohort": np.full(n, mi, dtype=np.int32),
            "person": person,
            "region": region,
            "pdu": pdu,
            "provider": provider,
            "etype": etype,
            "start": start,
            "release": release,
            "offence": offence,
            "custodial": custodial,
            "expected_end": expected_end,
            "term": term,
            "reason": reason,
        }
        return block, people

    def _new_people(self, mi: int, first_day: np.ndarray) -> dict[str, np.ndarray]:
        rng = self.rng("persons", mi)
        n = first_day.size
        people = {field: choose(rng, PERSON_MIX[field], n) for field in PERSON_MIX}
        improve = max(0.35, 1.0 - 0.08 * (mi // 12 - 2016))
        for field, chance in UNRECORDED_AT_FIRST.items():
            late = rng.random(n) < chance * improve
            never = rng.random(n) < NEVER_RECORDED_SHARE
            delay = 30 * rng.geometric(0.12, n) + rng.integers(0, 30, n)
            recorded = np.where(late, first_day + _days(delay), first_day)
            people[f"{field}_from"] = np.where(late & never, NAT, recorded)
        return people

    # ----------------------------------------------------------------------- stage B
    def _stage_requirements(self, mi: int, lo: int, hi: int):
        rng = self.rng("requirements", mi)
        ev = self.ev
        types = X.EVENT_TYPES
        rtypes = X.REQUIREMENT_TYPES
        etype = ev["etype"][lo:hi]
        community = (etype == types.index("CO")) | (etype == types.index("SSO"))
        sdo = etype == types.index("SDO")
        offence = ev["offence"][lo:hi]
        n = hi - lo

        chance = np.tile(np.array(REQUIREMENT_CHANCE), (n, 1))
        sexual = offence == X.OFFENCE_CATEGORIES.index("SEXUAL")
        chance[sexual] = REQUIREMENT_CHANCE_SEXUAL
        drugs = offence == X.OFFENCE_CATEGORIES.index("DRUGS")
        chance[drugs, rtypes.index("DRUG_REHAB")] = DRUG_REHAB_CHANCE_DRUGS
        chosen = rng.random((n, len(rtypes))) < chance
        chosen &= np.cumsum(chosen, axis=1) <= 3
        chosen[~chosen.any(axis=1), rtypes.index("RAR")] = True
        sdo_upw = rng.random(n) < 0.6
        chosen[sdo] = False
        chosen[sdo & sdo_upw, rtypes.index("UPW")] = True
        chosen[sdo & ~sdo_upw, rtypes.index("CURFEW")] = True
        chosen[~(community | sdo)] = False
        local, rtype = np.nonzero(chosen)
        m = local.size
        event = lo + local
        rtype = rtype.astype(np.int8)
        num = self.next_req + np.arange(m, dtype=np.int64)
        self.next_req += m

        region = ev["region"][event]
        sentence = ev["start"][event]
        ev_term = ev["term"][event]
        ev_reason = ev["reason"][event]
        upw = rtype == rtypes.index("UPW")
        hours = np.full(m, INT_NULL, dtype=np.int32)
        hours[upw] = np.array(UPW_HOURS[0])[choose(rng, UPW_HOURS[1], int(upw.sum()))]
        sdo_rows = upw & (ev["etype"][event] == types.index("SDO"))
        hours[sdo_rows] = np.array([40, 50, 60])[rng.integers(0, 3, int(sdo_rows.sum()))]

        # Non-UPW: start after sentence, natural end (or with the order).
        start_lo = np.zeros(m, dtype=np.int64)
        start_hi = np.zeros(m, dtype=np.int64)
        len_lo = np.full(m, -1, dtype=np.int64)
        len_hi = np.full(m, -1, dtype=np.int64)
        for name, (a, b) in REQUIREMENT_START_DAYS.items():
            mask = rtype == rtypes.index(name)
            start_lo[mask], start_hi[mask] = a, b
            bounds = REQUIREMENT_LENGTH_DAYS[name]
            if bounds:
                len_lo[mask], len_hi[mask] = bounds
        start = sentence + _days(uniform_int(rng, start_lo, start_hi, m))
        own_end = np.where(
            len_lo >= 0,
            start + _days(uniform_int(rng, np.maximum(len_lo, 0), np.maximum(len_hi, 0), m)),
            NAT,
        )

        # UPW: first session 5-25 business days after sentence (longer when COVID suspended
        # unpaid work), then sessions every 3-9 days until the hours are worked.
        p_first = self.level("upw_first_timely", region, sentence)
        covid = (sentence >= COVID[0]) & (sentence <= COVID[1])
        offset = np.where(
            rng.random(m) < p_first,
            uniform_int(rng, 5, 15, m),
            uniform_int(rng, 16, np.where(covid, 60, 25), m),
        )
        first_session = self.cal.add(sentence, offset)
        start = np.where(upw, first_session, start)
        stood_down = self.level("upw_stood_down", region, first_session)
        p_attend = 1.0 - stood_down - sum(UPW_OTHER_STATUS)
        needed = np.ceil(np.maximum(hours, 0) / UPW_SESSION_HOURS).astype(np.int64)
        needed = np.where(upw, np.maximum(needed, 1), 0)
        extra = np.where(upw, rng.negative_binomial(np.maximum(needed, 1), p_attend), 0)
        total = needed + extra
        rows = np.flatnonzero(upw)
        s_req = np.repeat(rows, total[rows])
        group_start = np.repeat(np.cumsum(total[rows]) - total[rows], total[rows])
        s_pos = np.arange(s_req.size) - group_start
        gaps = uniform_int(rng, 3, 9, s_req.size)
        gaps[s_pos == 0] = 0
        cum = np.cumsum(gaps)
        s_date = first_session[s_req] + _days(cum - cum[group_start])
        # Place the extra (non-attended) sessions at random among all but the last position.
        key = rng.random(s_req.size)
        key[s_pos == total[s_req] - 1] = 2.0
        order = np.lexsort((key, s_req))
        rank = np.empty(s_req.size, dtype=np.int64)
        rank[order] = np.arange(s_req.size) - group_start[order]
        missed = rank < extra[s_req]
        other = np.array(UPW_OTHER_STATUS)
        sd = stood_down[s_req]
        u = rng.random(s_req.size) * (sd + other.sum())
        status = np.where(
            u < sd, 3, np.where(u < sd + other[0], 1, 2)
        )  # STOOD_DOWN, FAILED_TO_ATTEND, ACCEPTABLE_ABSENCE
        status = np.where(missed, status, 0).astype(np.int8)
        last_session = np.full(m, NAT)
        last_idx = np.flatnonzero(s_pos == total[s_req] - 1)
        last_session[s_req[last_idx]] = s_date[last_idx]
        own_end = np.where(upw, last_session, own_end)

        # Termination: completed if the requirement's own work ends before the event does.
        reasons = X.REQUIREMENT_TERMINATION_REASONS
        done_early = ~np.isnat(own_end) & (own_end <= ev_term)
        event_completed = ev_reason == X.EVENT_TERMINATION_REASONS.index("COMPLETED")
        breach = ev_reason == X.EVENT_TERMINATION_REASONS.index("REVOKED_BREACH")
        started = start <= ev_term
        fallout = rng.random(m)
        term_reason = np.where(
            breach,
            np.where(rng.random(m) < 0.65, reasons.index("BREACH"), reasons.index("REVOKED")),
            reasons.index("OTHER"),
        )
        plain_completion = event_completed & ~upw & (fallout < 0.92)
        term_reason = np.where(
            plain_completion | done_early, reasons.index("COMPLETED"), term_reason
        )
        term_date = np.where(done_early, own_end, ev_term)
        # A few non-UPW requirements of completed orders are revoked or lapse part way.
        lapse = event_completed & ~upw & (fallout >= 0.92) & ~done_early
        lapse_day = start + _days(
            np.floor(rng.random(m) * np.maximum((ev_term - start).astype(np.int64), 1))
        )
        term_date = np.where(lapse & started, np.minimum(lapse_day, ev_term), term_date)
        term_reason = np.where(
            lapse,
            np.where(fallout >= 0.97, reasons.index("REVOKED"), reasons.index("OTHER")),
            term_reason,
        )
        term_reason = np.where(~started, reasons.index("OTHER"), term_reason).astype(np.int8)
        start = np.where(started, start, NAT)
        term_date = np.maximum(term_date, sentence)

        req = {
            "num": num,
            "event": event,
            "rtype": rtype,
            "sentence": sentence,
            "start": start,
            "term": term_date,
            "reason": term_reason,
            "hours": hours,
        }
        # Sessions worked up to the requirement's termination, kept within the output range.
        s_date_ok = s_date <= term_date[s_req]
        keep = s_date_ok & (s_date >= self.out_start) & (s_date <= self.out_end)
        sessions = {
            "id": num[s_req[keep]] * 1000 + s_pos[keep] + 1,
            "date": s_date[keep],
            "req": num[s_req[keep]],
            "event": event[s_req[keep]],
            "status": status[keep],
        }
        return req, sessions

    # ----------------------------------------------------------------------- stage C
    def _stage_facts(self, mi: int, lo: int, hi: int) -> dict[str, dict]:
        rng = self.rng("facts", mi)
        ev = self.ev
        types = X.EVENT_TYPES
        n = hi - lo
        etype = ev["etype"][lo:hi]
        region = ev["region"][lo:hi]
        start = ev["start"][lo:hi]
        term = ev["term"][lo:hi]
        licence = etype == types.index("LICENCE")
        custody = licence | (etype == types.index("PSS"))
        community = (etype == types.index("CO")) | (etype == types.index("SSO"))

        # Initial appointment: within 5 business days of sentence (community) or 1 of release
        # (3 when released from court after remand); a meaningful share are just late.
        window = np.where(custody, np.where(ev["release"][lo:hi] == 1, 3, 1), 5)
        p_timely = np.where(
            custody,
            self.level("licence_initial_timely", region, start),
            self.level("community_initial_timely", region, start),
        )
        timely = rng.random(n) < p_timely
        offset = np.where(
            timely,
            np.floor(rng.random(n) * (window + 1)).astype(np.int64),
            window + rng.geometric(0.45, n),
        )
        init_date = self.cal.add(start, offset)
        init_mode = self._modes(rng, self.level("initial_in_person", region, init_date))
        init_outcome = choose(rng, INITIAL_OUTCOME_MIX, n)
        attended = init_outcome == 0
        follow_date = np.where(attended, NAT, self.cal.add(init_date, uniform_int(rng, 2, 7, n)))
        follow_mode = np.where(
            attended, -1, self._modes(rng, self.level("initial_in_person", region, init_date))
        ).astype(np.int8)
        first_att = np.where(attended, init_date, follow_date)
        ev["init_date"][lo:hi] = init_date
        ev["init_mode"][lo:hi] = init_mode
        ev["init_outcome"][lo:hi] = init_outcome
        ev["follow_date"][lo:hi] = follow_date
        ev["follow_mode"][lo:hi] = follow_mode
        ev["first_att"][lo:hi] = first_att

        facts: dict[str, dict] = {}
        idx = np.arange(lo, hi)
        # Sentence plans: 5-25 business days after first attendance, most within 15.
        p_plan = self.level("plan_timely", region, first_att)
        days = np.where(
            rng.random(n) < p_plan, uniform_int(rng, 5, 15, n), uniform_int(rng, 16, 25, n)
        )
        completed = self.cal.add(first_att, days)
        has_plan = (community | licence) & (rng.random(n) < PLAN_SHARE) & (completed <= term)
        facts["sentence_plans"] = self._rows(idx, has_plan, ev["num"][lo:hi], completed)

        # Accommodation checks.
        housed = rng.random(n) < self.level("housed_on_release", region, start)
        release_status = np.where(
            housed, choose(rng, (0.7, 0.3), n), 2 + choose(rng, (0.75, 0.25), n)
        )
        rn = licence & (rng.random(n) < RELEASE_NIGHT_CHECK_SHARE)
        next_day = self.rng("release_night", mi).random(n) < RELEASE_NIGHT_NEXT_DAY_SHARE
        rn_day = start + _days(next_day.astype(np.int64))  # some dated the morning after
        parts = [self._check(idx, rn, 0, rn_day, release_status)]
        for checkpoint, mask, level in (
            (1, licence, "settled_licence"),
            (2, community, "settled_community"),
        ):
            day = self.cal.roll(add_months(start, 3) + _days(rng.integers(0, 8, n)))
            settled = rng.random(n) < self.level(level, region, day)
            status = np.where(settled, 0, 1 + choose(rng, (0.55, 0.25, 0.2), n))
            has = mask & (day <= term) & (rng.random(n) < CHECK_SHARE)
            parts.append(self._check(idx, has, checkpoint, day, status))
        facts["accommodation_checks"] = _cat(parts, parts[0])
        parts = []
        for checkpoint, mask, level, months in (
            (0, licence, "employed_6w", 0),
            (1, licence, "employed_6m_licence", 6),
            (2, community, "employed_6m_community", 6),
        ):
            base = start + np.timedelta64(42, "D") if months == 0 else add_months(start, months)
            day = self.cal.roll(base + _days(rng.integers(0, 8, n)))
            employed = rng.random(n) < self.level(level, region, day)
            status = np.where(employed, 0, 1 + choose(rng, (0.65, 0.25, 0.10), n))
            has = mask & (day <= term) & (rng.random(n) < CHECK_SHARE)
            parts.append(self._check(idx, has, checkpoint, day, status))
        facts["employment_checks"] = _cat(parts, parts[0])

        # Recalls: Part B risk management plan due 10 business days after return to custody.
        recalled = licence & (ev["reason"][lo:hi] == X.EVENT_TERMINATION_REASONS.index("RECALLED"))
        recalled &= rng.random(n) < RECALL_RECORD_SHARE
        rtc = term + _days(rng.geometric(0.4, n) - 1)
        due = self.cal.add(rtc, 10)
        on_time = rng.random(n) < self.level("recall_on_time", region, rtc)
        late = rng.random(n) < 0.8
        supplied = np.where(
            on_time,
            self.cal.add(rtc, uniform_int(rng, 2, 10, n)),
            np.where(late, self.cal.add(due, uniform_int(rng, 1, 15, n)), NAT),
        )
        rows = self._rows(idx, recalled, ev["num"][lo:hi], rtc)
        keep = self._keep(recalled, rtc)
        rows["due"], rows["supplied"] = due[keep], supplied[keep]
        facts["recalls"] = rows
        return facts

    def _modes(self, rng: np.random.Generator, p_in_person: np.ndarray) -> np.ndarray:
        """Contact mode: OFFICE/HOME_VISIT with the given chance, else TELEPHONE/VIDEO."""
        n = p_in_person.size
        in_person = rng.random(n) < p_in_person
        home = rng.random(n) < 0.15
        video = rng.random(n) < 0.28
        return np.where(in_person, np.where(home, 1, 0), np.where(video, 2, 3)).astype(np.int8)

    def _keep(self, mask: np.ndarray, day: np.ndarray) -> np.ndarray:
        return mask & (day >= self.out_start) & (day <= self.out_end)

    def _rows(self, idx, mask, ids, day) -> dict[str, np.ndarray]:
        keep = self._keep(mask, day)
        return {"id": ids[keep], "date": day[keep], "event": idx[keep]}

    def _check(self, idx, mask, checkpoint: int, day, status) -> dict[str, np.ndarray]:
        rows = self._rows(idx, mask, self.ev["num"][idx] * 10 + checkpoint, day)
        keep = self._keep(mask, day)
        rows["checkpoint"] = np.full(int(keep.sum()), checkpoint, dtype=np.int8)
        rows["status"] = np.asarray(status)[keep].astype(np.int8)
        return rows

    # ----------------------------------------------------------------------- stage D
    def _stage_custody(self, mi: int, lo: int, hi: int) -> dict[str, dict]:
        rng = self.rng("custody", mi)
        ev = self.ev
        n = hi - lo
        idx = np.arange(lo, hi)
        licence = ev["etype"][lo:hi] == X.EVENT_TYPES.index("LICENCE")
        custodial = ev["custodial"][lo:hi].astype(np.int64)
        region = ev["region"][lo:hi]
        release = ev["start"][lo:hi]
        nums = ev["num"][lo:hi]

        # Handover to the community offender manager months before release.
        has = licence & (custodial >= 8) & (rng.random(n) < HANDOVER_SHARE)
        to_serve = np.clip(np.round(custodial / 2 * rng.uniform(0.25, 1.0, n)), 3, 40)
        to_serve = to_serve.astype(np.int64)
        allocated = release - _days(np.round(to_serve * 30.44) + rng.integers(0, 20, n))
        allocated = self.cal.roll(allocated, forward=False)
        on_time = rng.random(n) < self.level("handover_on_time", region, allocated)
        later = rng.random(n) < 0.6
        meeting = np.where(
            on_time,
            allocated + _days(rng.integers(1, 29, n)),
            np.where(later, allocated + _days(rng.integers(29, 80, n)), NAT),
        )
        handovers = self._rows(idx, has, nums, allocated)
        keep = self._keep(has, allocated)
        handovers["months"] = to_serve[keep]
        handovers["meeting"] = meeting[keep]

        # Parole assessment reports for long sentences, due months before release.
        has = licence & (custodial >= 48) & (rng.random(n) < PAROLE_SHARE)
        kind = (rng.random(n) < INDETERMINATE_SHARE).astype(np.int8)
        due = self.cal.roll(release - _days(rng.integers(30, 200, n)), forward=False)
        on_time = rng.random(n) < self.level("parole_on_time", region, due)
        late = rng.random(n) < 0.75
        sent = np.where(
            on_time,
            self.cal.back(due, rng.integers(0, 15, n)),
            np.where(late, due + _days(rng.integers(1, 41, n)), NAT),
        )
        parole = self._rows(idx, has, nums, due)
        keep = self._keep(has, due)
        parole["kind"], parole["sent"] = kind[keep], sent[keep]
        return {"handovers": handovers, "parole_reports": parole}

    # ----------------------------------------------------------------------- monthly cuts
    def file_events(self, mi: int) -> np.ndarray:
        """Indexes of the events in month mi's file (in event-number order): active at any time
        in mi as known at its end (started by then, and not terminated before mi or not known
        to be), plus those whose termination was recorded during mi. Since a termination is
        never recorded before it happens, that is: started by the end of mi, termination
        recorded on or after its first day."""
        ms, me = month_start(mi), month_end(mi)
        return np.flatnonzero((self.ev["start"] <= me) & (self.ev["term_rec"] >= ms))

    def frame(self, extract: str, mi: int) -> dict[str, np.ndarray]:
        """The rows of one monthly file: layout columns plus `_region` (region index).

        Snapshot extracts are cut as known at the end of the month. Fact extracts with a field
        completed later (`X.LATE_FIELDS`) carry that field's true value and `_recorded`, the
        day it was recorded: `as_delivered` hides what a delivery cannot know yet.
        """
        return getattr(self, f"_frame_{extract}")(mi)

    def _event_cols(self, event: np.ndarray) -> dict[str, np.ndarray]:
        ev = self.ev
        region = ev["region"][event]
        return {
            "event_id": format_ids("E", ev["num"][event], 9),
            "crn": format_crns(ev["person"][event] + 1),
            "region_code": codes(self.ref.regions, region),
            "_region": region,
        }

    def _frame_events(self, mi: int) -> dict[str, np.ndarray]:
        ev = self.ev
        idx = self.file_events(mi)
        known = ev["term_rec"][idx] <= month_end(mi)
        cols = self._event_cols(idx)
        return {
            "event_id": cols["event_id"],
            "crn": cols["crn"],
            "region_code": cols["region_code"],
            "pdu_code": codes(self.pdu_codes, ev["pdu"][idx]),
            "provider_code": codes(self.ref.providers, ev["provider"][idx]),
            "event_type": codes(X.EVENT_TYPES, ev["etype"][idx]),
            "start_date": ev["start"][idx],
            "release_type": codes(X.RELEASE_TYPES, ev["release"][idx]),
            "main_offence_category": codes(X.OFFENCE_CATEGORIES, ev["offence"][idx]),
            "custodial_sentence_months": ev["custodial"][idx].astype(np.int64),
            "expected_end_date": ev["expected_end"][idx],
            "termination_date": np.where(known, ev["term"][idx], NAT),
            "termination_reason": codes(
                X.EVENT_TERMINATION_REASONS, np.where(known, ev["reason"][idx], -1)
            ),
            "_region": cols["_region"],
            "_term_recorded": ev["term_rec"][idx],
        }

    def _frame_requirements(self, mi: int) -> dict[str, np.ndarray]:
        """Requirements of the events in the month's file, and (as for events) every requirement
        active in the month as known at its end or whose termination was recorded in it: so a
        requirement open in one file is in the next, even when its event has left."""
        active = np.zeros(len(self.ev["num"]), dtype=bool)
        active[self.file_events(mi)] = True
        req = self.req
        ms, me = month_start(mi), month_end(mi)
        own = (req["sentence"] <= me) & (req["term_rec"] >= ms)
        idx = np.flatnonzero(active[req["event"]] | own)
        started = req["start"][idx] <= me
        ended = req["term_rec"][idx] <= me
        cols = self._event_cols(req["event"][idx])
        return {
            "requirement_id": format_ids("R", req["num"][idx], 9),
            "event_id": cols["event_id"],
            "crn": cols["crn"],
            "region_code": cols["region_code"],
            "requirement_type": codes(X.REQUIREMENT_TYPES, req["rtype"][idx]),
            "sentence_date": req["sentence"][idx],
            "start_date": np.where(started, req["start"][idx], NAT),
            "termination_date": np.where(ended, req["term"][idx], NAT),
            "termination_reason": codes(
                X.REQUIREMENT_TERMINATION_REASONS, np.where(ended, req["reason"][idx], -1)
            ),
            "hours_ordered": req["hours"][idx].astype(np.int64),
            "_region": cols["_region"],
            "_term_recorded": req["term_rec"][idx],
        }

    def _frame_persons(self, mi: int) -> dict[str, np.ndarray]:
        ev = self.ev
        idx = self.file_events(mi)
        order = np.lexsort((ev["start"][idx], ev["person"][idx]))
        idx = idx[order]
        person = ev["person"][idx]
        last = np.ones(idx.size, dtype=bool)
        last[:-1] = person[1:] != person[:-1]
        idx, person = idx[last], person[last]  # latest-starting active event per person
        me = month_end(mi)
        people = self.people
        out = {"crn": format_crns(person + 1)}
        tables = {
            "sex": (X.SEXES, 2),
            "age_band": (X.AGE_BANDS, None),
            "ethnicity": (X.ETHNICITIES, 5),
            "religion": (X.RELIGIONS, -1),
            "disability": (X.DISABILITY, 2),
            "sexual_orientation": (X.SEXUAL_ORIENTATIONS, -1),
        }
        for field, (table, unknown) in tables.items():
            value = people[field][person].astype(np.int64)
            if unknown is not None:
                recorded = people[f"{field}_from"][person] <= me
                value = np.where(recorded, value, unknown)
            out[field] = codes(table, value)
        out["_region"] = ev["region"][idx]
        return out

    def _frame_contacts(self, mi: int) -> dict[str, np.ndarray]:
        rng = self.rng("contacts", mi)
        ev = self.ev
        ms, me = month_start(mi), month_end(mi)
        # Initial appointments and their follow-ups, fixed when the event was simulated.
        parts = []
        for date_key, mode_key, outcome in (
            ("init_date", "init_mode", None),
            ("follow_date", "follow_mode", 0),
        ):
            day = ev[date_key]
            idx = np.flatnonzero((day >= ms) & (day <= me))
            parts.append(
                {
                    "event": idx,
                    "date": day[idx],
                    "mode": ev[mode_key][idx],
                    "outcome": ev["init_outcome"][idx]
                    if outcome is None
                    else np.zeros(idx.size, dtype=np.int8),
                }
            )
        # Regular appointments between first attendance and termination.
        lo = np.maximum(ev["first_att"] + np.timedelta64(1, "D"), ms)
        hi = np.minimum(ev["term"], me)
        live = np.flatnonzero(lo <= hi)
        span = (hi[live] - lo[live]).astype(np.int64) + 1
        rate = np.array([CONTACTS_PER_MONTH[t] for t in X.EVENT_TYPES])[ev["etype"][live]]
        days_in_month = (me - ms).astype(np.int64) + 1
        count = rng.poisson(rate * span / days_in_month)
        event = np.repeat(live, count)
        first = np.repeat(lo[live], count)
        width = np.repeat(span, count)
        day = first + _days(np.floor(rng.random(event.size) * width))
        last = np.repeat(hi[live], count)
        moved = self.cal.roll(day, forward=True)
        moved = np.where(moved > last, self.cal.roll(day, forward=False), moved)
        day = np.where((moved >= first) & (moved <= last), moved, day)
        region = ev["region"][event]
        parts.append(
            {
                "event": event,
                "date": day,
                "mode": self._modes(rng, self.level("contact_in_person", region, day)),
                "outcome": choose(rng, CONTACT_OUTCOME_MIX, event.size),
            }
        )
        rows = _cat(parts, parts[0])
        order = np.lexsort((rows["event"], rows["date"]))
        rows = _take(rows, order)
        seq = np.arange(1, order.size + 1, dtype=np.int64)
        cols = self._event_cols(rows["event"])
        # When the outcome was recorded: mostly on the day, some up to two months later.
        rec_rng = self.rng("contact_recording", mi)
        late = rec_rng.random(order.size) < CONTACT_RECORDED_LATE_SHARE
        lag = uniform_int(rec_rng, *CONTACT_RECORDING_LAG_DAYS, order.size)
        return {
            "contact_id": format_ids(f"C{mi // 12:04d}{mi % 12 + 1:02d}", seq, 8),
            "crn": cols["crn"],
            "event_id": cols["event_id"],
            "region_code": cols["region_code"],
            "contact_date": rows["date"],
            "mode": codes(X.CONTACT_MODES, rows["mode"]),
            "outcome": codes(X.CONTACT_OUTCOMES, rows["outcome"]),
            "_region": cols["_region"],
            "_recorded": rows["date"] + _days(np.where(late, lag, 0)),
        }

    def _month_facts(self, name: str, mi: int) -> dict[str, np.ndarray]:
        table = self.facts[name]
        lo = np.searchsorted(table["date"], month_start(mi), side="left")
        hi = np.searchsorted(table["date"], month_end(mi), side="right")
        return {k: v[lo:hi] for k, v in table.items()}

    def _frame_sentence_plans(self, mi: int) -> dict[str, np.ndarray]:
        rows = self._month_facts("sentence_plans", mi)
        cols = self._event_cols(rows["event"])
        return {
            "plan_id": format_ids("P", rows["id"], 9),
            "event_id": cols["event_id"],
            "crn": cols["crn"],
            "region_code": cols["region_code"],
            "completed_date": rows["date"],
            "_region": cols["_region"],
        }

    def _frame_upw_sessions(self, mi: int) -> dict[str, np.ndarray]:
        rows = self._month_facts("upw_sessions", mi)
        cols = self._event_cols(rows["event"])
        return {
            "session_id": format_ids("U", rows["id"], 12),
            "requirement_id": format_ids("R", rows["req"], 9),
            "crn": cols["crn"],
            "region_code": cols["region_code"],
            "session_date": rows["date"],
            "status": codes(X.UPW_STATUSES, rows["status"]),
            "_region": cols["_region"],
        }

    def _checks(self, name: str, prefix: str, points, statuses, mi: int):
        rows = self._month_facts(name, mi)
        cols = self._event_cols(rows["event"])
        return {
            "check_id": format_ids(prefix, rows["id"], 10),
            "event_id": cols["event_id"],
            "crn": cols["crn"],
            "region_code": cols["region_code"],
            "checkpoint": codes(points, rows["checkpoint"]),
            "check_date": rows["date"],
            "status": codes(statuses, rows["status"]),
            "_region": cols["_region"],
        }

    def _frame_accommodation_checks(self, mi: int) -> dict[str, np.ndarray]:
        return self._checks(
            "accommodation_checks",
            "A",
            X.ACCOMMODATION_CHECKPOINTS,
            X.ACCOMMODATION_STATUSES,
            mi,
        )

    def _frame_employment_checks(self, mi: int) -> dict[str, np.ndarray]:
        return self._checks(
            "employment_checks", "W", X.EMPLOYMENT_CHECKPOINTS, X.EMPLOYMENT_STATUSES, mi
        )

    def _frame_recalls(self, mi: int) -> dict[str, np.ndarray]:
        rows = self._month_facts("recalls", mi)
        cols = self._event_cols(rows["event"])
        return {
            "recall_id": format_ids("RC", rows["id"], 9),
            "crn": cols["crn"],
            "region_code": cols["region_code"],
            "return_to_custody_date": rows["date"],
            "part_b_due_date": rows["due"],
            "part_b_supplied_date": rows["supplied"],
            "_region": cols["_region"],
            "_recorded": rows["supplied"],
        }

    def _frame_parole_reports(self, mi: int) -> dict[str, np.ndarray]:
        rows = self._month_facts("parole_reports", mi)
        cols = self._event_cols(rows["event"])
        return {
            "report_id": format_ids("PR", rows["id"], 9),
            "crn": cols["crn"],
            "region_code": cols["region_code"],
            "sentence_kind": codes(X.SENTENCE_KINDS, rows["kind"]),
            "due_date": rows["date"],
            "sent_date": rows["sent"],
            "_region": cols["_region"],
            "_recorded": rows["sent"],
        }

    def _frame_handovers(self, mi: int) -> dict[str, np.ndarray]:
        rows = self._month_facts("handovers", mi)
        cols = self._event_cols(rows["event"])
        return {
            "handover_id": format_ids("HO", rows["id"], 9),
            "crn": cols["crn"],
            "region_code": cols["region_code"],
            "com_allocated_date": rows["date"],
            "months_to_serve": rows["months"].astype(np.int64),
            "meeting_date": rows["meeting"],
            "_region": cols["_region"],
            "_recorded": rows["meeting"],
        }

    def _frame_measure_returns(self, mi: int) -> dict[str, np.ndarray]:
        rng = self.rng("returns", mi)
        z_rng = self.rng("returns", 0)
        z = z_rng.standard_normal((len(RETURN_MEASURES), self.n_regions))
        live = [k for k, m in enumerate(RETURN_MEASURES) if month_index(m[1]) <= mi]
        if self.scale == 0:
            live = []  # no population, no returns
        measure = np.repeat(np.array(live, dtype=np.int64), self.n_regions)
        region = np.tile(np.arange(self.n_regions), len(live))
        base_den = np.array([m[2] for m in RETURN_MEASURES], dtype=np.float64)[measure]
        typical = np.array([m[3] for m in RETURN_MEASURES])[measure]
        years = (mi - month_index("2019-04")) / 12
        noise = rng.normal(1.0, 0.05, measure.size)
        den = stochastic_round(rng, base_den * self.shares[region] * self.scale * noise)
        if self.scale > 0:
            den = np.maximum(den, RETURN_MIN_DENOMINATOR)
        p = typical + 0.035 * z[measure, region] + 0.004 * years + rng.normal(0, 0.012, den.size)
        num = np.floor(den * np.clip(p, 0.60, 0.98)).astype(np.int64)
        return {
            "measure_code": codes(tuple(m[0] for m in RETURN_MEASURES), measure),
            "region_code": codes(self.ref.regions, region),
            "period_month": np.full(measure.size, month_label(mi)),
            "numerator": num,
            "denominator": den,
            "_region": region.astype(np.int8),
        }


def as_delivered(
    extract: str, frame: dict[str, np.ndarray], extracted_on: Any
) -> dict[str, np.ndarray]:
    """A month's rows as a delivery extracted on the given (Europe/London) date shows them.

    The field completed later (`X.LATE_FIELDS`) is shown only where it was recorded before
    that date (`_recorded` < extracted_on); until then a contact's outcome is NOT_RECORDED and
    a date is empty. Rows, keys and order never change. Other extracts are returned as they are.
    """
    field = X.LATE_FIELDS.get(extract)
    if field is None:
        return frame
    hidden = ~(frame["_recorded"] < np.datetime64(extracted_on, "D"))
    out = dict(frame)
    if field == "outcome":
        out[field] = np.where(hidden, "NOT_RECORDED", frame[field])
    else:
        out[field] = np.where(hidden, NAT, frame[field])
    return out


FACT_TABLES: dict[str, dict[str, np.ndarray]] = {
    "sentence_plans": {
        "id": np.zeros(0, np.int64),
        "date": np.zeros(0, "datetime64[D]"),
        "event": np.zeros(0, np.int64),
    },
    "upw_sessions": {
        "id": np.zeros(0, np.int64),
        "date": np.zeros(0, "datetime64[D]"),
        "req": np.zeros(0, np.int64),
        "event": np.zeros(0, np.int64),
        "status": np.zeros(0, np.int8),
    },
    "accommodation_checks": {
        "id": np.zeros(0, np.int64),
        "date": np.zeros(0, "datetime64[D]"),
        "event": np.zeros(0, np.int64),
        "checkpoint": np.zeros(0, np.int8),
        "status": np.zeros(0, np.int8),
    },
    "employment_checks": {
        "id": np.zeros(0, np.int64),
        "date": np.zeros(0, "datetime64[D]"),
        "event": np.zeros(0, np.int64),
        "checkpoint": np.zeros(0, np.int8),
        "status": np.zeros(0, np.int8),
    },
    "recalls": {
        "id": np.zeros(0, np.int64),
        "date": np.zeros(0, "datetime64[D]"),
        "event": np.zeros(0, np.int64),
        "due": np.zeros(0, "datetime64[D]"),
        "supplied": np.zeros(0, "datetime64[D]"),
    },
    "parole_reports": {
        "id": np.zeros(0, np.int64),
        "date": np.zeros(0, "datetime64[D]"),
        "event": np.zeros(0, np.int64),
        "kind": np.zeros(0, np.int8),
        "sent": np.zeros(0, "datetime64[D]"),
    },
    "handovers": {
        "id": np.zeros(0, np.int64),
        "date": np.zeros(0, "datetime64[D]"),
        "event": np.zeros(0, np.int64),
        "months": np.zeros(0, np.int64),
        "meeting": np.zeros(0, "datetime64[D]"),
    },
}
