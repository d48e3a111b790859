"""Bad input on every command: one line on stderr naming the value, exit status 2, no traceback.

Every case must fail before any work starts (several would train or search for minutes if a
check were missing). Paths use placeholders filled from ``tmp_path``; a path under a regular file
cannot be written even by root.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

import benchmarks.tabular as tabular
from benchmarks.cli import app
from benchmarks.store import ResultStore

runner = CliRunner()
BENCH = ("-b", "synthetic-nb201")
RIDGE = ("--predictor", "example-ridge")
CUDA = "cuda"


@pytest.fixture()
def paths(synthetic_bench_dir, monkeypatch, tmp_path) -> dict[str, str]:
    """Placeholder -> path: the synthetic benchmark visible by name, and bad files of each kind."""
    root = synthetic_bench_dir.parent
    monkeypatch.setattr(tabular, "data_dirs", lambda: [root])
    monkeypatch.setenv(tabular.DATA_PATH_ENV, str(root))
    (tmp_path / "file.txt").write_text("not a directory\n")
    (tmp_path / "dir").mkdir()
    (tmp_path / "latin1.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    (tmp_path / "badarch.txt").write_text("# header\n|bogus~0|\n")
    (tmp_path / "notsqlite.db").write_text("plain text, not SQLite\n")
    (tmp_path / "broken.json").write_text('{"name": "x", "epochs": ')
    (tmp_path / "list.json").write_text("[1, 2]\n")
    (tmp_path / "wrongtype.json").write_text('{"name": "x", "epochs": "ten"}\n')
    (tmp_path / "garbage.jsonl.gz").write_bytes(b"not gzip at all")
    (tmp_path / "empty.jsonl.gz").write_bytes(gzip.compress(b"{not json}\n"))
    with ResultStore(tmp_path / "store.db"):
        pass
    return {"tmp": str(tmp_path)}


def _fill(args: tuple[str, ...], tmp: str) -> list[str]:
    return [a.replace("{tmp}", tmp) for a in args]


SEARCH_ON = ("search", "--benchmark", "synthetic-nb201")
SEARCH = (*SEARCH_ON, "--store", "{tmp}/s.db", "--out", "{tmp}/sout")
GUIDED = (*SEARCH, "--method", "evolution", *RIDGE)
SCORE = ("score", *BENCH, "-p", "params", "-o", "{tmp}/scores.csv")
BUILD_SHARDS = ("--shards", "{tmp}/shards")
PRUNE = ("analyze", "supernet", "prune", "--benchmark", "synthetic-nb201", "--out", "{tmp}/p")

#: (id, arguments, a fragment the error line must contain).
CASES: list[tuple[str, tuple[str, ...], str]] = [
    # run: predictor parameters are checked against the constructor before anything runs
    ("run-int-as-text", ("run", *BENCH, "-p", "rf", "--param", "n_estimators=abc"),
     'n_estimators="abc"'),
    ("run-float-for-int", ("run", *BENCH, "-p", "xgb", "--param", "num_boost_round=2.5"),
     "num_boost_round=2.5"),
    ("run-bool-as-text", ("run", *BENCH, "-p", "xgb", "--param", "hpo=yes"), 'hpo="yes"'),
    ("run-int-for-bool", ("run", *BENCH, "-p", "rf", "--param", "bootstrap=1"), "bootstrap=1"),
    ("run-negative-rate", ("run", *BENCH, "-p", "xgb", "--param", "learning_rate=-1"),
     "learning_rate=-1"),
    ("run-zero-count", ("run", *BENCH, "-p", "rf", "--param", "n_estimators=0"),
     "n_estimators=0"),
    ("run-zero-hpo-evals", ("run", *BENCH, "-p", "xgb", "--param", "hpo_evals=0"),
     "hpo_evals=0"),
    ("run-fraction-above-one", ("run", *BENCH, "-p", "ngb", "--param", "minibatch_frac=1.5"),
     "minibatch_frac=1.5"),
    ("run-text-for-list", ("run", *BENCH, "-p", "omni", "--param", "measures=jacov"),
     'measures="jacov"'),
    ("run-list-for-dict", ("run", *BENCH, "-p", "omni", "--param", "model_params=[1]"),
     "model_params=[1]"),
    ("run-int-for-str-or-none", ("run", *BENCH, "-p", "oneshot", "--param", "checkpoint_dir=3"),
     "checkpoint_dir=3"),
    ("run-probability", ("run", *BENCH, "-p", "sotlema", "--param", "decay=2"), "decay=2"),
    ("run-unknown-param", ("run", *BENCH, *RIDGE, "--param", "beta=1"), "['beta']"),
    ("run-param-without-value", ("run", *BENCH, *RIDGE, "--param", "alpha"), "'alpha'"),
    ("run-unknown-predictor", ("run", *BENCH, "-p", "nope"), "'nope'"),
    ("run-unknown-benchmark", ("run", "-b", "nope", *RIDGE), "'nope'"),
    ("run-unknown-metric", ("run", *BENCH, *RIDGE, "--metric", "nope", "--store",
                            "{tmp}/r.db"), "'nope'"),
    ("run-zero-trials", ("run", *BENCH, *RIDGE, "--trials", "0"), "--trials"),
    ("run-train-size", ("run", *BENCH, *RIDGE, "--train-size", "5000"), "5000"),
    ("run-store-is-dir", ("run", *BENCH, *RIDGE, "--train-size", "10", "--store", "{tmp}/dir"),
     "{tmp}/dir"),
    ("run-store-not-sqlite", ("run", *BENCH, *RIDGE, "--train-size", "10", "--store",
                              "{tmp}/notsqlite.db"), "notsqlite.db"),
    # reproduce and plot
    ("reproduce-out-is-file", ("reproduce", *BENCH, "--out", "{tmp}/file.txt"), "file.txt"),
    ("reproduce-out-under-file", ("reproduce", *BENCH, "--out", "{tmp}/file.txt/results"),
     "file.txt"),
    ("reproduce-zero-trials", ("reproduce", *BENCH, "--trials", "0", "--out", "{tmp}/o"),
     "--trials"),
    ("reproduce-unknown-predictor", ("reproduce", *BENCH, "--predictors", "nope",
                                     "--out", "{tmp}/o"), "'nope'"),
    ("reproduce-unknown-metric", ("reproduce", *BENCH, "--predictors", "example-ridge",
                                  "--metric", "nope", "--out", "{tmp}/o"), "'nope'"),
    ("reproduce-store-is-dir", ("reproduce", *BENCH, "--predictors", "example-ridge",
                                "--out", "{tmp}/o", "--store", "{tmp}/dir"), "{tmp}/dir"),
    ("plot-missing-store", ("plot", "--store", "{tmp}/none.db"), "none.db"),
    ("plot-store-not-sqlite", ("plot", "--store", "{tmp}/notsqlite.db", "--out", "{tmp}/p"),
     "notsqlite.db"),
    ("plot-out-is-file", ("plot", "--store", "{tmp}/store.db", "--out", "{tmp}/file.txt"),
     "file.txt"),
    # store snapshot / restore
    ("snapshot-missing-store", ("store", "snapshot", "{tmp}/none.db"), "none.db"),
    ("snapshot-not-sqlite", ("store", "snapshot", "{tmp}/notsqlite.db"), "notsqlite.db"),
    ("snapshot-out-is-dir", ("store", "snapshot", "{tmp}/store.db", "--out", "{tmp}/dir"),
     "{tmp}/dir"),
    ("snapshot-out-under-file", ("store", "snapshot", "{tmp}/store.db", "--out",
                                 "{tmp}/file.txt/s.jsonl.gz"), "file.txt"),
    ("restore-missing", ("store", "restore", "{tmp}/none.jsonl.gz"), "none.jsonl.gz"),
    ("restore-not-gzip", ("store", "restore", "{tmp}/garbage.jsonl.gz", "--db", "{tmp}/n.db"),
     "garbage.jsonl.gz"),
    ("restore-bad-line", ("store", "restore", "{tmp}/empty.jsonl.gz", "--db", "{tmp}/n.db"),
     "empty.jsonl.gz"),
    # search: every option, and every configuration, before the first run
    ("search-unknown-method", (*SEARCH, "--method", "nope"), "'nope'"),
    ("search-guided-without-predictor", (*SEARCH, "--method", "bo"), "'bo'"),
    ("search-unknown-predictor", (*SEARCH, "--method", "evolution", "--predictor", "nope"),
     "'nope'"),
    ("search-label-free-surrogate", (*SEARCH, "--method", "evolution", "--predictor", "params"),
     "'params'"),
    ("search-curve-surrogate", (*SEARCH, "--method", "evolution", "--predictor", "valacc"),
     "'valacc'"),
    ("search-unknown-acquisition", (*SEARCH, "--method", "bo", *RIDGE, "--acquisition", "nope"),
     "'nope'"),
    ("search-acquisition-param", (*SEARCH, "--method", "bo", *RIDGE, "--param",
                                  "acquisition=nope"), "'nope'"),
    ("search-botorch-needs-gp", (*SEARCH, "--method", "bo", *RIDGE, "--acquisition",
                                 "botorch:qlognei"), "'example-ridge'"),
    ("search-zero-runs", (*SEARCH, "--runs", "0"), "--runs"),
    ("search-zero-queries", (*SEARCH, "--queries", "0"), "--queries"),
    ("search-too-many-queries", (*SEARCH, "--queries", "100000"), "100000"),
    ("search-negative-time-budget", (*SEARCH, "--time-budget", "-5"), "--time-budget"),
    ("search-zero-jobs", (*SEARCH, "--jobs", "0"), "--jobs"),
    ("search-zero-threads", (*SEARCH, "--threads", "0"), "--threads"),
    ("search-prefilter-keep", (*GUIDED, "--prefilter", "params", "--prefilter-keep", "1.5"),
     "1.5"),
    ("search-negative-warmup", (*SEARCH, "--warmup-pool", "-1"), "--warmup-pool"),
    ("search-warmup-without-prefilter", (*SEARCH, "--method", "rea", "--warmup-pool", "50"),
     "--prefilter"),
    ("search-unknown-prefilter", (*GUIDED, "--prefilter", "nope"), "'nope'"),
    ("search-prefilter-needs-labels", (*GUIDED, "--prefilter", "example-ridge"),
     "'example-ridge'"),
    ("search-predictor-params-not-json", (*GUIDED, "--predictor-params", "{bad"), "{bad"),
    ("search-predictor-params-not-object", (*GUIDED, "--predictor-params", "[1]"), "[1]"),
    ("search-predictor-param-type", (*GUIDED, "--predictor-params", '{"alpha": "x"}'),
     'alpha="x"'),
    ("search-predictor-param-unknown", (*GUIDED, "--predictor-params", '{"beta": 1}'),
     "['beta']"),
    ("search-prefilter-param-range", (*GUIDED, "--prefilter", "synflow", "--prefilter-params",
                                      '{"batch_size": 0}'), "batch_size=0"),
    ("search-method-param-type", (*GUIDED, "--param", "k=abc"), 'k="abc"'),
    ("search-method-param-zero", (*SEARCH, "--method", "rea", "--param", "population=0"),
     "population=0"),
    ("search-method-param-unknown", (*SEARCH, "--method", "rea", "--param", "nope=3"),
     "['nope']"),
    ("search-method-param-malformed", (*SEARCH, "--param", "novalue"), "'novalue'"),
    ("search-out-is-file", (*SEARCH_ON, "--store", "{tmp}/s.db", "--out", "{tmp}/file.txt"),
     "file.txt"),
    ("search-store-is-dir", (*SEARCH_ON, "--store", "{tmp}/dir", "--out", "{tmp}/o"),
     "{tmp}/dir"),
    ("search-bad-device", (*SEARCH, "--device", "gpu0"), "'gpu0'"),
    ("search-unknown-benchmark", ("search", "--benchmark", "nope", "--out", "{tmp}/o"), "'nope'"),
    # score: archs file, output path, predictor and parameters before computing anything
    ("score-out-is-dir", ("score", *BENCH, "-p", "params", "-o", "{tmp}/dir"), "{tmp}/dir"),
    ("score-out-under-file", ("score", *BENCH, "-p", "params", "-o", "{tmp}/file.txt/s.csv"),
     "file.txt"),
    ("score-missing-archs", (*SCORE, "--archs", "{tmp}/none.txt"), "none.txt"),
    ("score-archs-not-utf8", (*SCORE, "--archs", "{tmp}/latin1.txt"), "latin1.txt"),
    ("score-malformed-arch", (*SCORE, "--archs", "{tmp}/badarch.txt"), "line 2"),
    ("score-needs-labels", ("score", *BENCH, "-p", "xgb", "-o", "{tmp}/s.csv"), "'xgb'"),
    ("score-unknown-predictor", ("score", *BENCH, "-p", "nope", "-o", "{tmp}/s.csv"), "'nope'"),
    ("score-param-type", ("score", *BENCH, "-p", "synflow", "-o", "{tmp}/s.csv", "--param",
                          "batch_size=abc"), 'batch_size="abc"'),
    ("score-param-range", ("score", *BENCH, "-p", "synflow", "-o", "{tmp}/s.csv", "--param",
                           "batch_size=0"), "batch_size=0"),
    ("score-unknown-param", (*SCORE, "--param", "bogus=1"), "['bogus']"),
    ("score-param-malformed", (*SCORE, "--param", "novalue"), "'novalue'"),
    ("score-negative-seed", (*SCORE, "--seed", "-1"), "--seed"),
    ("score-bad-device", (*SCORE, "--device", "gpu0"), "'gpu0'"),
    ("score-unknown-batch-source", ("score", *BENCH, "-p", "synflow", "-o", "{tmp}/s.csv",
                                    "--batch-source", "nope"), "'nope'"),
    ("score-unknown-benchmark", ("score", "-b", "nope", "-p", "params", "-o", "{tmp}/s.csv"),
     "'nope'"),
    # build: recipes, counts, devices and shard directories
    ("pilot-unknown-recipe", ("build", "pilot", "--recipe", "nope", *BUILD_SHARDS), "'nope'"),
    ("pilot-broken-recipe-file", ("build", "pilot", "--recipe", "{tmp}/broken.json",
                                  *BUILD_SHARDS), "broken.json"),
    ("pilot-recipe-file-not-object", ("build", "pilot", "--recipe", "{tmp}/list.json",
                                      *BUILD_SHARDS), "list.json"),
    ("pilot-recipe-field-type", ("build", "pilot", "--recipe", "{tmp}/wrongtype.json",
                                 *BUILD_SHARDS), 'epochs="ten"'),
    ("pilot-zero-cells", ("build", "pilot", "--recipe", "tiny", "--cells", "0", *BUILD_SHARDS),
     "--cells"),
    ("pilot-bad-device", ("build", "pilot", "--recipe", "tiny", "--device", "gpu0",
                          *BUILD_SHARDS), "'gpu0'"),
    ("pilot-shards-is-file", ("build", "pilot", "--recipe", "tiny", "--shards",
                              "{tmp}/file.txt"), "file.txt"),
    ("generate-zero-archs", ("build", "generate", "--recipe", "tiny", "--archs", "0",
                             *BUILD_SHARDS), "--archs"),
    ("generate-zero-second-seed", ("build", "generate", "--recipe", "tiny",
                                   "--second-seed-every", "0", *BUILD_SHARDS),
     "--second-seed-every"),
    ("generate-zero-workers", ("build", "generate", "--recipe", "tiny", "--workers", "0",
                               *BUILD_SHARDS), "--workers"),
    ("generate-zero-threads", ("build", "generate", "--recipe", "tiny", "--threads", "0",
                               *BUILD_SHARDS), "--threads"),
    ("generate-shards-under-file", ("build", "generate", "--recipe", "tiny", "--shards",
                                    "{tmp}/file.txt/shards"), "file.txt"),
    ("generate-unknown-recipe", ("build", "generate", "--recipe", "nope", *BUILD_SHARDS),
     "'nope'"),
    ("zero-cost-zero-archs", ("build", "zero-cost", "--recipe", "tiny", "--archs", "0",
                              *BUILD_SHARDS), "--archs"),
    ("zero-cost-shards-is-file", ("build", "zero-cost", "--recipe", "tiny", "--shards",
                                  "{tmp}/file.txt"), "file.txt"),
    ("zero-cost-unknown-measure", ("build", "zero-cost", "--recipe", "tiny", "--measures",
                                   "zico,nope", *BUILD_SHARDS), "'nope'"),
    ("status-shards-is-file", ("build", "status", "--recipe", "tiny", "--shards",
                               "{tmp}/file.txt"), "file.txt"),
    ("status-zero-archs", ("build", "status", "--recipe", "tiny", "--archs", "0",
                           *BUILD_SHARDS), "--archs"),
    ("merge-missing-shards", ("build", "merge", "--recipe", "tiny", "--shards", "{tmp}/none",
                              "--out", "{tmp}/m"), "{tmp}/none"),
    ("merge-out-is-file", ("build", "merge", "--recipe", "tiny", "--shards", "{tmp}/dir",
                           "--out", "{tmp}/file.txt"), "file.txt"),
    ("merge-plot-is-dir", ("build", "merge", "--recipe", "tiny", "--shards", "{tmp}/dir",
                           "--out", "{tmp}/m", "--plot", "{tmp}/dir"), "{tmp}/dir"),
    ("calibrate-unknown-recipe", ("build", "calibrate", "tiny", "nope"), "'nope'"),
    ("calibrate-zero-cells", ("build", "calibrate", "tiny", "--cells", "0"), "--cells"),
    ("select-zero-cells", ("build", "select", "tiny", "--cells", "0"), "--cells"),
    ("pilot-table-missing-shards", ("build", "pilot-table", "--recipe", "tiny", "--shards",
                                    "{tmp}/none"), "{tmp}/none"),
    # supernet pruning: list options are parsed before any supernet trains
    ("prune-text-factor", (*PRUNE, "--factors", "0,half"), "--factors '0,half'"),
    ("prune-text-seed", (*PRUNE, "--prune-seeds", "0,x"), "--prune-seeds '0,x'"),
    ("prune-float-seed", (*PRUNE, "--supernet-seeds", "1.5"), "--supernet-seeds '1.5'"),
]
if not torch.cuda.is_available():
    CASES += [
        ("generate-cuda-without-gpu", ("build", "generate", "--recipe", "tiny", "--device",
                                       CUDA, *BUILD_SHARDS), CUDA),
        ("score-cuda-without-gpu", (*SCORE, "--device", CUDA), CUDA),
        ("search-cuda-without-gpu", (*SEARCH, "--device", CUDA), CUDA),
    ]


def test_enough_cases():
    assert len(CASES) >= 60
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize(("args", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(paths, args, fragment):
    tmp = paths["tmp"]
    result = runner.invoke(app, _fill(args, tmp))
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment.replace("{tmp}", tmp) in lines[0]
    assert not Path(tmp, "shards").exists(), "a build command started before failing"


def test_score_keeps_the_scores_computed_before_a_failure(paths, monkeypatch):
    """A failure late in a long scoring run loses none of the scores written before it."""
    import benchmarks.score as score
    from predictors.zero_cost.counting import ParamsPredictor

    calls = []

    def failing_query(self, archs, ctx):
        calls.append(len(archs))
        if len(calls) == 3:
            raise RuntimeError("out of memory")
        return original(self, archs, ctx)

    original = ParamsPredictor._query
    monkeypatch.setattr(ParamsPredictor, "_query", failing_query)
    monkeypatch.setattr(score, "CHUNK", 16)
    out = Path(paths["tmp"], "scores.csv")
    result = runner.invoke(app, _fill(SCORE, paths["tmp"]))
    assert result.exit_code != 0 and isinstance(result.exception, RuntimeError)
    rows = out.read_text().splitlines()
    assert rows[0] == "arch,score" and len(rows) == 1 + 2 * 16


#: Mistakes the option parser itself catches (``main`` turns them into one line).
PARSER_CASES = [
    ("not-an-int", ["run", *BENCH, *RIDGE, "--trials", "abc"], "'--trials'"),
    ("unknown-option", ["run", "--bogus"], "--bogus"),
    ("unknown-command", ["nosuchcmd"], "nosuchcmd"),
    ("missing-option", ["run", *RIDGE], "--benchmark"),
    ("missing-argument", ["store", "restore"], "snapshot"),
    ("unknown-subcommand", ["build", "nosuch"], "nosuch"),
]


@pytest.mark.parametrize(("argv", "fragment"), [c[1:] for c in PARSER_CASES],
                         ids=[c[0] for c in PARSER_CASES])
def test_parser_errors_are_one_line_and_exit_2(argv, fragment, capsys):
    from benchmarks.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert lines[0].startswith("error: ") and fragment in lines[0]
    assert "--help" in lines[0]
