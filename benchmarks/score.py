"""Score architectures with a label-free predictor: ``predbench score``.

The way a user checks a zero-cost proxy (or params, flops) against published numbers: it scores
the given architectures, or a whole benchmark, and writes an ``arch,score`` CSV plus a JSON record
beside it (``<out>.json``) saying which predictor, parameters, data source and device were used.
A run stopped part-way goes on from its last whole chunk when it is run again
(``benchmarks.score_checkpoint``).

Predictors that run networks on data need batches. A benchmark that names a live data source
(``metadata["live"]``) provides its own; one without (e.g. ``nb201-cifar10``, which ships no
CIFAR-10 images) refuses them unless a substitute ``--batch-source`` is chosen: ``gaussian``
(standard-normal noise), ``fashion-mnist-resized`` (Fashion-MNIST resized to the network's input
size and repeated over its channels) or ``digits-resized`` (scikit-learn's 8x8 digits, likewise);
all come from the one registry of sources, ``benchmarks.live``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import typer

from benchmarks import checks
from benchmarks.contexts import ContextBuilder, check_compatible
from benchmarks.keyvalue import parse_key_values
from benchmarks.live import SUBSTITUTES, dataset_source, live_source_for
from benchmarks.progress import Progress
from benchmarks.score_checkpoint import (
    SECONDS,
    Checkpoint,
    archs_digest,
    progress_path,
    read_checkpoint,
    write_checkpoint,
)
from benchmarks.tabular import TabularBenchmark, load_benchmark
from predictors.base import LiveSource
from predictors.params import check_params
from predictors.ranking import kendall_tau
from predictors.registry import get, make
from predictors.spaces.base import Arch, ArchError

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)


class ScoreError(ValueError):
    """A scoring request that cannot be served (the message names the fix)."""


#: Errors of this command that the project CLI reports as one line (exit status 2).
USER_ERRORS = (ScoreError,)
#: Architectures queried (and written) at a time, so a late failure keeps the scores before it.
CHUNK = 64


# --- batch sources -----------------------------------------------------------------------------
def _check_batch_source(name: str) -> None:
    if name not in SUBSTITUTES:
        raise ScoreError(f"unknown batch source {name!r}; choose one of {list(SUBSTITUTES)}")


def batch_source_for(bench: TabularBenchmark, batch_source: str | None) -> LiveSource:
    """The chosen substitute source, else the benchmark's own; a clear error when it has none."""
    if batch_source is not None:
        _check_batch_source(batch_source)
        return dataset_source(batch_source, bench.metadata)
    if bench.metadata.get("live"):
        return live_source_for(bench.metadata)
    raise ScoreError(
        f"benchmark {bench.name!r} ships no images of its dataset "
        f"({bench.metadata.get('dataset')}), so data-dependent predictors cannot run on it; pass "
        f"--batch-source with one of {list(SUBSTITUTES)} to use substitute batches (the "
        "source is recorded with the scores)"
    )


# --- scoring ------------------------------------------------------------------------------------
def read_arch_file(path: Path, bench: TabularBenchmark) -> list[Arch]:
    """One architecture string per line (blank lines and ``#`` comments skipped)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise ScoreError(f"architecture file {path} is not UTF-8 text (byte {exc.start}); save "
                         "it as UTF-8, one architecture string a line") from None
    except OSError as exc:
        raise ScoreError(f"cannot read architecture file {path}: {exc.strerror}; pass an "
                         "existing text file to --archs") from None
    archs = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            archs.append(bench.space.from_string(text))
        except ArchError as exc:
            raise ScoreError(f"{path}, line {number}: {exc}") from exc
    if not archs:
        raise ScoreError(f"{path} lists no architectures (one {bench.space.name} string a line)")
    return archs


def score_architectures(
    predictor_name: str,
    benchmark: str | os.PathLike | TabularBenchmark,
    archs: Sequence[Arch | str] | None = None,
    batch_source: str | None = None,
    params: Mapping[str, Any] | None = None,
    seed: int = 0,
    device: str | None = None,
    on_scores: Callable[[pd.DataFrame], None] | None = None,
    resume: Checkpoint | None = None,
    on_checkpoint: Callable[[Checkpoint], None] | None = None,
) -> pd.DataFrame:
    """Scores of ``archs`` (default: every architecture of the benchmark) as ``[arch, score]``.

    Only predictors that need no labels and no learning curves qualify. ``df.attrs`` records the
    predictor, its parameters, the batch source (``None`` when no data was used), the device and
    the measured seconds of fit and query. Architectures are queried ``CHUNK`` at a time (all
    at once for a predictor whose scores rank the architectures of one query against each other,
    ``ranks_within_query``, e.g. AZ-NAS), and ``on_scores`` receives each chunk's
    ``[arch, score]`` rows as soon as they are computed, then ``on_checkpoint`` where the
    scoring stands. Given such a checkpoint (``resume``) of the same request, the scoring
    keeps its rows, restores its random generator and scores only the rest, with the scores
    and summed seconds of a run that never stopped.
    """
    import pandas as pd

    bench = benchmark if isinstance(benchmark, TabularBenchmark) else load_benchmark(benchmark)
    space = bench.space
    check_params(get(predictor_name), dict(params or {}))  # unknown names fail in ``get``
    if batch_source is not None:
        _check_batch_source(batch_source)
    predictor = make(predictor_name, **dict(params or {}))
    needs = predictor.data_needs()
    if needs.labels or needs.curve_metrics or needs.unlabeled_factor:
        raise ScoreError(
            f"predictor {predictor_name!r} needs labeled architectures or learning curves, so it "
            "cannot score without training data; `predbench score` takes label-free predictors "
            "(zero-cost proxies, params, flops) — evaluate it with `predbench run` instead"
        )
    if archs is None:
        chosen = list(bench.archs)
    else:
        try:
            chosen = [space.from_string(a) if isinstance(a, str) else space.check(a)
                      for a in archs]
        except ArchError as exc:
            raise ScoreError(str(exc)) from exc
    if not chosen:
        raise ScoreError("no architectures to score")

    rows: list[int] = []
    if needs.properties:
        try:
            rows = [bench.index_of(a) for a in chosen]
        except KeyError as exc:
            raise ScoreError(
                f"predictor {predictor_name!r} reads tabulated {list(needs.properties)}: {exc}"
            ) from exc

    live = batch_source_for(bench, batch_source) if needs.live else None
    if batch_source is not None and live is None:
        log.info("%s runs no networks on data; --batch-source %s is unused",
                 predictor_name, batch_source)
    check_compatible(bench, needs, predictor_name, live=live)
    device = device or checks.default_device()
    names = [space.to_string(a) for a in chosen]
    chunk = len(chosen) if getattr(predictor, "ranks_within_query", False) else CHUNK
    request = {"predictor": predictor_name, "params": predictor.get_params(),
               "benchmark": bench.name, "data_version": bench.data_version,
               "batch_source": live.name if live is not None else None, "seed": seed,
               "device": device, "chunk": chunk, "n": len(chosen),
               "archs": archs_digest(names)}
    request = json.loads(json.dumps(request, default=str))  # as a sidecar reads back
    contexts = ContextBuilder(bench, needs, device=device, live=live)
    rng = np.random.default_rng(seed)
    fit_ctx = contexts.fit([], rng)
    cpu_start = time.process_time()
    start = time.perf_counter()
    predictor.fit(fit_ctx)
    spent = {"fit_seconds": time.perf_counter() - start, "query_seconds": 0.0}
    parts, done, resumed = [], 0, []
    if resume is not None:
        resume.check(request, names)
        rng.bit_generator.state = resume.rng_state
        parts, done = [resume.scores[["arch", "score"]].copy()], resume.rows
        resumed = [*resume.resumed, done]
        log.info("%s: %d of %d architectures were scored before; scoring the other %d",
                 predictor_name, done, len(chosen), len(chosen) - done)
        if on_scores is not None:
            on_scores(parts[-1])

    def seconds() -> dict[str, float]:
        now = {**spent, "cpu_seconds": time.process_time() - cpu_start}
        before = resume.seconds if resume is not None else {}
        return {k: now[k] + before.get(k, 0.0) for k in SECONDS}

    for lo in range(done, len(chosen), chunk):
        part = chosen[lo:lo + chunk]
        query_ctx = contexts.query(rows[lo:lo + chunk], rng)
        start = time.perf_counter()
        prediction = predictor.query(part, query_ctx)
        spent["query_seconds"] += time.perf_counter() - start
        parts.append(pd.DataFrame({"arch": names[lo:lo + chunk], "score": prediction.mean}))
        if on_scores is not None:
            on_scores(parts[-1])
        if on_checkpoint is not None and lo + chunk < len(chosen):
            on_checkpoint(Checkpoint(request, pd.concat(parts, ignore_index=True),
                                     rng.bit_generator.state, seconds(), resumed))

    frame = pd.concat(parts, ignore_index=True)
    frame.attrs.update({"predictor": predictor_name, "params": predictor.get_params(),
                        **{k: request[k] for k in ("benchmark", "batch_source", "device", "n",
                                                   "seed")},
                        **seconds()})
    if resumed:
        frame.attrs["resumed_after"] = resumed
    frame.attrs.update(agreement(frame, bench))
    return frame


def oriented_truth(archs: Sequence[str], bench: TabularBenchmark, metric: str) -> np.ndarray:
    """Final ``metric`` of each architecture string, negated where lower is better.

    Raises ``KeyError`` (or ``ArchError``) when the benchmark lacks an architecture."""
    rows = [bench.index_of(bench.space.from_string(a)) for a in archs]
    truth = bench.final(metric)[rows]
    return -truth if bench.direction(metric) == "min" else truth


def agreement(frame: pd.DataFrame, bench: TabularBenchmark, metric: str | None = None
              ) -> dict[str, Any]:
    """Spearman and Kendall tau of the scores against the benchmark's ``metric`` (final epoch).

    Missing scores (NaN) are left out and counted; the ground truth is oriented so that a
    positive correlation means the score ranks like the objective. Empty when the benchmark
    has no value for some scored architecture.
    """
    from scipy import stats

    metric = metric or bench.objective
    try:
        truth = oriented_truth(frame["arch"], bench, metric)
    except (KeyError, ArchError):
        return {}
    score = frame["score"].to_numpy(dtype=float)
    ok = np.isfinite(score) & np.isfinite(truth)
    result: dict[str, Any] = {"against": metric, "scored": int(ok.sum()),
                              "missing_scores": int((~np.isfinite(score)).sum())}
    if ok.sum() >= 2 and np.ptp(score[ok]) > 0:
        result["spearman"] = float(stats.spearmanr(truth[ok], score[ok]).statistic)
        result["kendall_tau"] = kendall_tau(truth[ok], score[ok])
    return result


def _write_atomic(path: Path, text: str) -> None:
    """``text`` into ``path`` all at once (readable like any other result file)."""
    from benchmarks.builder.shards import atomic_write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)


def record_path(out: Path) -> Path:
    """Where the JSON record of the scores written to ``out`` goes."""
    return out.with_name(out.name + ".json")


def _csv(frame: pd.DataFrame, header: bool = True) -> str:
    return frame[["arch", "score"]].to_csv(index=False, header=header, float_format="%.10g")


def write_scores(frame: pd.DataFrame, out: Path) -> Path:
    """Write ``arch,score`` CSV to ``out`` and the run's record to ``out`` + ``.json``."""
    out = Path(out)
    _write_atomic(out, _csv(frame))
    record = record_path(out)
    _write_atomic(record, json.dumps(frame.attrs, indent=2, default=str) + "\n")
    return record


def read_scores(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A finished ``predbench score`` output: its ``[arch, score]`` frame and its record."""
    import pandas as pd

    record = record_path(Path(path))
    if not Path(path).is_file() or not record.is_file():
        raise ScoreError(f"{path}: no score file with its record ({record.name}) beside it; "
                         "pass the CSVs `predbench score` wrote and finished")
    try:
        frame = pd.read_csv(path)
        meta = json.loads(record.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ScoreError(f"{path} or its record cannot be read ({exc}); score it again") from None
    if list(frame.columns) != ["arch", "score"]:
        raise ScoreError(f"{path} is not an arch,score file; pass a `predbench score` output")
    return frame, meta


#: Record fields that every joined part must share.
SHARED_FIELDS = ("predictor", "params", "benchmark", "batch_source")
#: Record fields the joined record sums over its parts.
SUMMED_FIELDS = ("n", "fit_seconds", "query_seconds", "cpu_seconds")


def join_scores(parts: Sequence[Path]) -> pd.DataFrame:
    """Score files of one measure (shards of ``predbench score``) as one ``[arch, score]``
    frame whose ``attrs`` are one record: the fields the parts share, their summed counts and
    seconds, what each part was (file, architectures, seed, device), and the agreement with the
    objective recomputed over all of them (``write_scores`` writes both). Refuses parts that
    scored another measure, benchmark, batch source or parameters, the same architecture
    twice, or a part without its record or cut short of it."""
    import pandas as pd

    if not parts:
        raise ScoreError("no score files to join; pass the shards' CSVs")
    frames, records = zip(*(read_scores(part) for part in parts), strict=True)
    first = records[0]
    for part, record, scores in zip(parts, records, frames, strict=True):
        for field in SHARED_FIELDS:
            if record.get(field) != first.get(field):
                raise ScoreError(f"{part} has {field} {record.get(field)!r}, {parts[0]} has "
                                 f"{first.get(field)!r}; join only shards of one scoring")
        if len(scores) != record.get("n"):
            raise ScoreError(f"{part} holds another number of scores than its record says "
                             f"({record.get('n')}): it was cut short; score that shard again")
    frame = pd.concat(frames, ignore_index=True)
    twice = frame["arch"][frame["arch"].duplicated()]
    if len(twice):
        raise ScoreError(f"{len(twice)} architecture(s) are in more than one part, e.g. "
                         f"{twice.iloc[0]}; join shards that split one list")
    frame.attrs.update({field: first.get(field) for field in SHARED_FIELDS})
    frame.attrs["device"] = ",".join(sorted({str(r.get("device")) for r in records}))
    frame.attrs.update({field: sum(r.get(field, 0) for r in records) for field in SUMMED_FIELDS})
    frame.attrs["parts"] = [
        {"file": Path(part).name, "n": r.get("n"), "seed": r.get("seed"), "device": r.get("device")}
        for part, r in zip(parts, records, strict=True)]
    frame.attrs.update(agreement(frame, load_benchmark(first["benchmark"])))
    return frame


class ScoreAppender:
    """Appends ``arch,score`` rows to a CSV as they are computed, flushed at once. The first
    rows replace the file whole (a resumed run's kept rows, too), so a stop while they are
    written leaves the earlier file as it was."""

    def __init__(self, out: Path) -> None:
        self.out, self.rows = Path(out), 0

    def __call__(self, rows: pd.DataFrame) -> None:
        if self.rows == 0:
            _write_atomic(self.out, _csv(rows))
        else:
            with open(self.out, "a", encoding="utf-8") as fh:
                fh.write(_csv(rows, header=False))
        self.rows += len(rows)


def _parse_params(items: Sequence[str]) -> dict[str, Any]:
    return parse_key_values(items, lambda item: ScoreError(
        f"--param {item!r} must read key=value (value as JSON, e.g. n=3)"))


def score_command(
    predictor: str = typer.Option(..., "--predictor", "-p", help="a label-free predictor"),
    benchmark: str = typer.Option(..., "--benchmark", "-b", help="benchmark name or directory"),
    archs: Path | None = typer.Option(
        None, "--archs", help="file with one architecture string per line (default: all)"),
    out: Path = typer.Option(..., "--out", "-o", help="CSV to write (arch,score)"),
    batch_source: str | None = typer.Option(
        None, "--batch-source",
        help=f"substitute images for benchmarks without their own: {list(SUBSTITUTES)}"),
    param: list[str] = typer.Option([], "--param", help="predictor hyperparameter key=value"),
    seed: int = typer.Option(0, "--seed", help="seed of the predictor's random generator"),
    device: str | None = typer.Option(None, "--device", help="cpu or cuda (default: cuda if any)"),
    threads: int = typer.Option(
        1, "--threads", min=1,
        help="torch CPU threads (proxies score one small network at a time)"),
) -> None:
    """Score architectures with a label-free predictor and write an arch,score CSV.

    Scores reach ``out`` as they are computed, and a run stopped part-way (a failure, Ctrl-C,
    a killed job) goes on from its last whole chunk of architectures when run again."""
    import torch

    torch.set_num_threads(threads)
    appender = ScoreAppender(out)
    checkpoint, kept = None, 0
    try:
        checks.output_file(out, "--out")
        checks.output_file(record_path(out), "--out (its record)")
        checks.output_file(progress_path(out), "--out (its progress file)")
        if device is not None:
            checks.device(device)
        checks.at_least("--seed", seed, 0)
        bench = load_benchmark(benchmark)
        chosen = read_arch_file(archs, bench) if archs is not None else None
        checkpoint = read_checkpoint(out)
        if checkpoint is not None:
            kept = checkpoint.rows
        total = len(chosen) if chosen is not None else len(bench)
        with Progress(max(total - kept, 0), f"{predictor} scores") as bar:

            def on_scores(rows: pd.DataFrame) -> None:
                appender(rows)
                if appender.rows > kept:  # not the kept rows of a resumed run
                    bar.done(str(rows["arch"].iloc[-1]), items=len(rows))

            frame = score_architectures(predictor, bench, chosen, batch_source=batch_source,
                                        params=_parse_params(param), seed=seed, device=device,
                                        on_scores=on_scores, resume=checkpoint,
                                        on_checkpoint=lambda c: write_checkpoint(out, c))
    except BaseException as exc:
        if appender.rows > kept:
            log.warning("kept the %d scores computed before the stop in %s; the same command "
                        "goes on from the last whole chunk", appender.rows, out)
        if isinstance(exc, (ScoreError, ValueError, KeyError)):
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from None
        raise
    record = write_scores(frame, out)
    progress_path(out).unlink(missing_ok=True)
    resumed = f"; went on after {kept} scored before" if checkpoint is not None else ""
    typer.echo(f"wrote {len(frame)} scores to {out} (record: {record}){resumed}; "
               f"batch source: {frame.attrs['batch_source']}; "
               f"{frame.attrs['fit_seconds'] + frame.attrs['query_seconds']:.2f} s wall, "
               f"{frame.attrs['cpu_seconds']:.2f} s CPU")
    _echo_agreement(frame.attrs)


def _echo_agreement(attrs: Mapping[str, Any]) -> None:
    """The line that says how the scores of a record rank against the objective, if they do."""
    if "spearman" in attrs:
        typer.echo(f"against {attrs['against']} over {attrs['scored']} architectures: "
                   f"Spearman {attrs['spearman']:.3f}, Kendall tau {attrs['kendall_tau']:.3f}")


def score_join_command(
    parts: list[Path] = typer.Argument(..., help="score CSVs of one measure (shards)"),
    out: Path = typer.Option(..., "--out", "-o", help="CSV to write (arch,score)"),
) -> None:
    """Join score files of one measure (shards) into one, with one record."""
    try:
        checks.output_file(out, "--out")
        checks.output_file(record_path(out), "--out (its record)")
        frame = join_scores(parts)
    except (ScoreError, ValueError, KeyError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    record = write_scores(frame, out)
    typer.echo(f"joined {len(parts)} score files, {len(frame)} scores, into {out} (record: "
               f"{record}); {frame.attrs['cpu_seconds']:.0f} s CPU in all")
    _echo_agreement(frame.attrs)
