"""``predbench score-compare``: two score files of one measure, side by side.

Where ``proxy-report`` checks scores against a benchmark's accuracies, this checks a scoring
against another scoring of the same architectures: the same proxy on another device (CPU and
GPU), on another machine or build, or with another seed. It matches the rows by architecture and
reports how many each file has that the other lacks or leaves undefined, the Spearman and Kendall
tau between the two, their relative differences (``|a - b| / max(|a|, |b|)``) and the seconds
per architecture of each. ``--max-rel-diff`` makes it a check: exit status 1 when the largest
relative difference, or a score defined in one file only, exceeds it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import typer

from benchmarks import checks
from benchmarks.score import ScoreError, read_scores
from predictors.ranking import kendall_tau

#: Record fields shown side by side where the two files differ.
SETTINGS = ("predictor", "params", "benchmark", "batch_source", "seed", "device")


def _read(path: Path) -> tuple[Any, dict[str, Any]]:
    frame, meta = read_scores(path)
    if frame["arch"].duplicated().any():
        raise ScoreError(f"{path} is not an arch,score file with one row per architecture")
    return frame, meta


def _per_arch(meta: Mapping[str, Any], field: str) -> float:
    n = meta.get("n") or 0
    value = meta.get(field)
    return float(value) / n if n and value is not None else float("nan")


def compare_scores(a: Path, b: Path) -> dict[str, Any]:
    """The agreement of two score files (see the module docstring)."""
    from scipy import stats

    (fa, ma), (fb, mb) = _read(a), _read(b)
    both = fa.merge(fb, on="arch", suffixes=("_a", "_b"))
    if both.empty:
        raise ScoreError(f"{a} and {b} share no architecture; compare scorings of one list")
    x, y = both["score_a"].to_numpy(float), both["score_b"].to_numpy(float)
    fx, fy = np.isfinite(x), np.isfinite(y)
    ok = fx & fy
    scale = np.maximum(np.abs(x[ok]), np.abs(y[ok]))
    rel = np.divide(np.abs(x[ok] - y[ok]), scale, out=np.zeros(int(ok.sum())), where=scale > 0)
    result: dict[str, Any] = {
        "files": [str(a), str(b)],
        "differing_settings": {k: [ma.get(k), mb.get(k)] for k in SETTINGS
                               if ma.get(k) != mb.get(k)},
        "shared": len(both), "only_in_a": len(fa) - len(both), "only_in_b": len(fb) - len(both),
        "both_defined": int(ok.sum()), "undefined_in_a_only": int((~fx & fy).sum()),
        "undefined_in_b_only": int((fx & ~fy).sum()), "undefined_in_both": int((~fx & ~fy).sum()),
        "max_rel_diff": float(rel.max()) if rel.size else float("nan"),
        "median_rel_diff": float(np.median(rel)) if rel.size else float("nan"),
        "identical": int((x[ok] == y[ok]).sum()),
        "cpu_s_per_arch": [_per_arch(ma, "cpu_seconds"), _per_arch(mb, "cpu_seconds")],
        "query_s_per_arch": [_per_arch(ma, "query_seconds"), _per_arch(mb, "query_seconds")],
    }
    if ok.sum() >= 2 and np.ptp(x[ok]) > 0 and np.ptp(y[ok]) > 0:
        result["spearman"] = float(stats.spearmanr(x[ok], y[ok]).statistic)
        result["kendall_tau"] = kendall_tau(x[ok], y[ok])
    return result


def summary(result: Mapping[str, Any]) -> str:
    """A few lines that say how far the two scorings agree."""
    a, b = result["files"]
    lines = [f"{a} against {b}: {result['shared']} architectures in both "
             f"({result['only_in_a']} only in the first, {result['only_in_b']} only in the "
             f"second); {result['both_defined']} defined in both, "
             f"{result['undefined_in_a_only']} / {result['undefined_in_b_only']} undefined in "
             f"one only, {result['undefined_in_both']} in both"]
    for field, (va, vb) in result["differing_settings"].items():
        lines.append(f"  {field}: {va!r} / {vb!r}")
    if "spearman" in result:
        lines.append(f"  Spearman {result['spearman']:.6f}, Kendall tau "
                     f"{result['kendall_tau']:.6f}")
    lines.append(f"  relative difference: max {result['max_rel_diff']:.3g}, median "
                 f"{result['median_rel_diff']:.3g}; {result['identical']} scores identical")
    qa, qb = result["query_s_per_arch"]
    ca, cb = result["cpu_s_per_arch"]
    lines.append(f"  per architecture: query {qa:.4g} s / {qb:.4g} s"
                 + (f" (ratio {qa / qb:.3g})" if qb > 0 else "")
                 + f", CPU {ca:.4g} s / {cb:.4g} s")
    return "\n".join(lines)


def score_compare_command(
    first: Path = typer.Argument(..., help="a `predbench score` CSV"),
    second: Path = typer.Argument(..., help="another scoring of the same architectures"),
    out: Path | None = typer.Option(None, "--out", "-o", help="write the comparison as JSON"),
    max_rel_diff: float | None = typer.Option(
        None, "--max-rel-diff", min=0.0,
        help="exit 1 when a relative difference, or a score defined in one file only, "
             "exceeds this"),
) -> None:
    """Compare two score files of one measure (e.g. CPU against GPU) architecture by
    architecture."""
    if out is not None:
        checks.output_file(out, "--out")
    result = compare_scores(first, second)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
    typer.echo(summary(result))
    if max_rel_diff is not None:
        one_sided = result["undefined_in_a_only"] + result["undefined_in_b_only"]
        if one_sided or not result["max_rel_diff"] <= max_rel_diff:
            typer.echo(f"exceeds --max-rel-diff {max_rel_diff:g}"
                       + (f" ({one_sided} scores defined in one file only)" if one_sided
                          else ""))
            raise typer.Exit(code=1)
