"""Where an unfinished ``predbench score`` stands, so that running it again goes on from there.

After every finished chunk of architectures the command writes, beside its CSV, a sidecar
``<out>.progress.json``: what is being scored (the *request*: predictor and parameters,
benchmark and its data version, batch source, seed, device, chunk size and a digest of the
architecture list), how many rows of the CSV are final, the state of the scoring's random
generator after them, and the seconds they took. Run again with the same request, the command
keeps those rows, restores the generator and scores the rest: the file it ends with is the one an
uninterrupted run writes (each chunk draws its seeds from that generator and nothing else carries
over between chunks). The sidecar is removed once the scores and their record are written.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

#: The seconds a checkpoint carries over to the finished record.
SECONDS = ("fit_seconds", "query_seconds", "cpu_seconds")
FORMAT = 1


class CheckpointError(ValueError):
    """A sidecar that cannot be resumed from (the message names the fix)."""


def progress_path(out: Path) -> Path:
    """The sidecar of an unfinished scoring into ``out``."""
    out = Path(out)
    return out.with_name(out.name + ".progress.json")


def archs_digest(archs: Sequence[str]) -> str:
    """Digest of an ordered list of architecture strings."""
    return hashlib.sha256("\n".join(archs).encode()).hexdigest()[:16]


@dataclass
class Checkpoint:
    """A scoring after its last whole chunk: its request, the rows done (``scores``, an
    ``[arch, score]`` frame), its generator's state and the seconds spent on those rows;
    ``resumed`` lists the rows already done at each earlier resume; ``out`` is the CSV it
    was read from."""

    request: dict[str, Any]
    scores: pd.DataFrame
    rng_state: dict[str, Any]
    seconds: dict[str, float]
    resumed: list[int] = field(default_factory=list)
    out: Path | None = None

    @property
    def rows(self) -> int:
        return len(self.scores)

    def check(self, request: Mapping[str, Any], archs: Sequence[str]) -> None:
        """Raise ``CheckpointError`` unless this checkpoint continues ``request`` on ``archs``."""
        where = self.out or Path("the scores")
        other = sorted(k for k in set(request) | set(self.request)
                       if request.get(k) != self.request.get(k))
        if other:
            raise CheckpointError(
                f"{where} is a scoring stopped after {self.rows} architectures with another "
                f"{', '.join(other)} than asked now; score into another --out, or delete "
                f"{progress_path(where).name} to start this one over")
        if self.scores["arch"].tolist() != list(archs[:self.rows]):
            raise CheckpointError(
                f"{where}: its first {self.rows} rows are not the first {self.rows} "
                f"architectures asked for; delete {progress_path(where).name} to score from "
                "the start")


def write_checkpoint(out: Path, checkpoint: Checkpoint) -> None:
    """The sidecar of ``out`` (written whole, after the rows it counts reached ``out``)."""
    from benchmarks.builder.shards import atomic_write_text

    body = {"format": FORMAT, "request": checkpoint.request, "rows": checkpoint.rows,
            "rng_state": checkpoint.rng_state, "seconds": checkpoint.seconds,
            "resumed": checkpoint.resumed}
    atomic_write_text(progress_path(out), json.dumps(body, indent=1) + "\n")


def read_checkpoint(out: Path) -> Checkpoint | None:
    """The checkpoint of an unfinished scoring into ``out``, or None when there is none.

    Rows of ``out`` past the sidecar's count (written just before a stop) are dropped: they
    are scored again, identically."""
    import pandas as pd

    out = Path(out)
    sidecar = progress_path(out)
    if not sidecar.is_file():
        return None
    fix = f"delete {sidecar.name} to score from the start"
    try:
        body = json.loads(sidecar.read_text(encoding="utf-8"))
        rows, request = int(body["rows"]), dict(body["request"])
        state, seconds = dict(body["rng_state"]), body["seconds"]
        seconds = {k: float(seconds[k]) for k in SECONDS}
        resumed = [int(r) for r in body.get("resumed", [])]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        raise CheckpointError(f"{sidecar} is not a readable scoring checkpoint; {fix}") from None
    if body.get("format") != FORMAT or rows < 1 or not all(map(math.isfinite, seconds.values())):
        raise CheckpointError(f"{sidecar} is not a scoring checkpoint of this version; {fix}")
    try:
        np.random.default_rng().bit_generator.state = state
    except (ValueError, TypeError, KeyError):
        raise CheckpointError(f"{sidecar} holds no state of numpy's default generator; "
                              f"{fix}") from None
    try:
        scores = pd.read_csv(out, nrows=rows)
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{out} cannot be read back ({exc}); {fix}") from None
    if list(scores.columns) != ["arch", "score"] or len(scores) < rows:
        raise CheckpointError(f"{out} holds fewer than the {rows} scores {sidecar.name} "
                              f"counts; {fix}")
    return Checkpoint(request, scores, state, seconds, resumed, out)
