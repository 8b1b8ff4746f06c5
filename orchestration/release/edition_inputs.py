"""The statistician's inputs an edition is built from, kept in the edition (`inputs/`) so that
`probation-pipeline rebuild` can build it again from exactly them.

What a statistician supplies beside the code and the landing zone: the quality reviews, the
publication settings (cover, release calendar, pre-release access), and where they replace the
project's defaults, the targets, the rating moderations, the quality thresholds, the disclosure
threshold and the provisional share. A file supplied is copied; a default is recorded as such
(it is the file at the recorded commit). `inputs/inputs.json` says which is which, with no path
of the machine that built it, so the same inputs give the same bytes wherever they are written.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from orchestration.settings import MODERATIONS_SEED, Settings
from schemas.quality import THRESHOLDS_ENV

INPUTS_DIR = "inputs"
MANIFEST = "inputs.json"


@dataclass(frozen=True)
class Input:
    name: str  # the file name in inputs/
    variable: str  # the environment variable a rebuild points at the copy
    meaning: str


INPUTS = (
    Input("quality_reviews.csv", "PROBATION_REVIEWS_FILE", "the reviewed quality decisions"),
    Input("publication.toml", "PROBATION_PUBLICATION_FILE", "cover, calendar, pre-release access"),
    Input("targets.csv", "PROBATION_TARGETS_FILE", "published targets"),
    Input("rating_moderations.csv", "PROBATION_MODERATIONS_FILE", "rating moderations"),
    Input("quality_thresholds.toml", THRESHOLDS_ENV, "quality-rule thresholds"),
)
VALUES = {
    "disclosure_threshold": "PROBATION_DISCLOSURE_THRESHOLD",
    "provisional_min_final_share": "PROBATION_MIN_FINAL_SHARE",
}


def _supplied(settings: Settings) -> dict[str, Path | None]:
    """Each input's file when the statistician supplied one (None: the project's default, or
    for reviews, no review yet)."""
    thresholds = os.environ.get(THRESHOLDS_ENV)
    moderations = settings.moderations_file
    return {
        "quality_reviews.csv": settings.reviews_path if settings.reviews_path.is_file() else None,
        "publication.toml": settings.publication_file,
        "targets.csv": settings.targets_file,
        "rating_moderations.csv": moderations if moderations != MODERATIONS_SEED else None,
        "quality_thresholds.toml": Path(thresholds) if thresholds else None,
    }


def collect(settings: Settings) -> dict[str, bytes]:
    """The files of `inputs/` (name: content), inputs.json included."""
    files = {name: path.read_bytes() for name, path in _supplied(settings).items() if path}
    manifest = {
        "inputs": {
            i.name: {
                "meaning": i.meaning,
                "supplied": i.name in files,
                "sha256": hashlib.sha256(files[i.name]).hexdigest() if i.name in files else None,
            }
            for i in INPUTS
        },
        "settings": {
            "disclosure_threshold": settings.disclosure_threshold_setting,
            "provisional_min_final_share": settings.min_final_share_setting,
        },
        "note": "supplied: false means the project's default at the recorded commit (for "
        "quality_reviews.csv: no review had been recorded)",
    }
    files[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    return files


def digest(settings: Settings) -> str:
    """SHA-256 over the inputs: a staged edition whose inputs changed is built again."""
    whole = hashlib.sha256()
    for name, content in sorted(collect(settings).items()):
        whole.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    return whole.hexdigest()


def write(folder: Path, settings: Settings) -> None:
    """Write `folder/inputs/`."""
    target = folder / INPUTS_DIR
    target.mkdir(parents=True, exist_ok=True)
    for name, content in collect(settings).items():
        (target / name).write_bytes(content)


def rebuild_environment(edition: Path) -> dict[str, str]:
    """The environment variables that make a run use a published edition's inputs: every one
    of INPUTS and VALUES, set to the copy or value it was released with, or to '' (unset) where
    the release used the project's default. Raises FileNotFoundError when the edition kept no
    inputs (released before they were kept)."""
    folder = edition / INPUTS_DIR
    manifest = json.loads((folder / MANIFEST).read_text())
    env = {}
    for item in INPUTS:
        supplied = manifest["inputs"].get(item.name, {}).get("supplied")
        if item.name == "quality_reviews.csv" and not supplied:
            env[item.variable] = str(folder / item.name)  # absent: no reviews
        else:
            env[item.variable] = str(folder / item.name) if supplied else ""
    for key, variable in VALUES.items():
        env[variable] = manifest["settings"].get(key) or ""
    return env
