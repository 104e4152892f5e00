"""Prioritised screening: our ranking model (ranking/) against ASReview, on the Cohen 2006 topics.

    sh bench/setup_asreview.sh                  # once: bench/.venv-asreview (ASReview 3.0.8)
    .venv/bin/python bench/ranking.py           # 14 topics x seeds 1,2,3, ours and ASReview
    .venv/bin/python bench/ranking.py --variant keywords --out /tmp/kw.json
    .venv/bin/python bench/ranking.py --no-asreview --topics ADHD,NSAIDS --seeds 1

ASReview, per topic and seed, as shared/benchdata/README.md section 5:
`asreview simulate <csv> --n-prior-included 1 --n-prior-excluded 1 --prior-seed s --seed s`
(default model ELAS u4, retrained after every label); its project files are cached in
bench/tmp/asreview/ (--rerun-asreview to run it again). Ours: ranking.simulate.simulate (the
app's model and retraining schedule, or the flags of --variant) with the prior include and
exclude of ASReview's run for the same seed, so each seed is a paired comparison
(--no-asreview: ours alone, priors drawn with the seed). asreview-insights cannot be installed
beside ASReview 3, so its labelling order is read from the project file (results table, in
order; priors are the rows without a querier) and scored with the same functions as ours
(ranking.simulate.wss / recall_at, a re-implementation of asreview-insights 1.x). The stopping
rule is replayed on ASReview's order too. ASReview runs (when not cached) in a second process
while ours runs, so the two share the machine's CPUs; timings are indicative.
Also measured: featurise and one fit_scores on 10,000 records (topics concatenated).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH, RESULTS, benchdata_dir  # noqa: E402  (puts the project on the path)

from ranking import model, simulate  # noqa: E402

ASREVIEW = BENCH / ".venv-asreview" / "bin" / "asreview"
ASREVIEW_CACHE = BENCH / "tmp" / "asreview"  # one .asreview file per topic and seed (ignored)
FOLD = 7  # fold 1: the first 7 topics alphabetically; fold 2: the other 7

# The model variants compared (bench/README.md, "Prioritised screening"): flags of ranking.model.
VARIANTS = {
    "elas_u4": {"USE_KEYWORDS": False, "USE_JOURNAL": False, "USE_LOGISTIC": False,
                "USE_NB": False},
    "keywords": {"USE_KEYWORDS": True, "USE_JOURNAL": True, "USE_LOGISTIC": False,
                 "USE_NB": False},
    "keywords_lr": {"USE_KEYWORDS": True, "USE_JOURNAL": True, "USE_LOGISTIC": True,
                    "USE_NB": False},
    "keywords_lr_no_journal": {"USE_KEYWORDS": True, "USE_JOURNAL": False,
                               "USE_LOGISTIC": True, "USE_NB": False},
    "elas_u4_lr": {"USE_KEYWORDS": False, "USE_JOURNAL": False, "USE_LOGISTIC": True,
                   "USE_NB": False},
}


def topic_files() -> dict[str, Path]:
    d = benchdata_dir() / "screening" / "cohen_2006"
    return {p.stem: p for p in sorted(d.glob("*.csv"), key=lambda p: p.stem.lower())}


def asreview_project(path: Path, seed: int, rerun: bool = False) -> tuple[Path, float | None]:
    """ASReview's run of one topic and seed: the cached .asreview file, or a fresh run.

    Returns the file and the run's seconds (None when it came from the cache).
    """
    out = ASREVIEW_CACHE / f"{path.stem}-seed{seed}.asreview"
    if out.exists() and not rerun:
        return out, None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        proc = subprocess.run(
            ["nice", "-n", "19", str(ASREVIEW), "simulate", str(path), "--n-prior-included",
             "1", "--n-prior-excluded", "1", "--prior-seed", str(seed), "--seed", str(seed),
             "-o", str(Path(tmp) / "run.asreview")],
            capture_output=True, text=True, cwd=tmp,
        )
        seconds = time.perf_counter() - t
        if proc.returncode:
            raise RuntimeError(f"asreview on {path.stem} seed {seed}: {proc.stderr[-2000:]}")
        (Path(tmp) / "run.asreview").replace(out)
    (out.with_suffix(".seconds")).write_text(f"{seconds:.2f}\n")
    return out, seconds


def read_asreview(project: Path, labels: np.ndarray) -> tuple[list[int], int]:
    """ASReview's labelling order (dataset rows) and how many of its first rows are priors.

    The results table in row order; the priors are the rows without a querier.
    """
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(project) as zf:
            zf.extract("results.db", tmp)
        con = sqlite3.connect(Path(tmp) / "results.db")
        rows = con.execute(
            "SELECT r.record_id, r.label, r.querier, rec.dataset_row FROM results r "
            "JOIN record rec ON rec.record_id = r.record_id ORDER BY r.rowid"
        ).fetchall()
        con.close()
    order = [int(row[3]) for row in rows]
    n_priors = sum(1 for row in rows if row[2] is None)
    if any(row[2] is None for row in rows[n_priors:]):
        raise RuntimeError(f"{project}: a prior after the first queried record")
    if [int(row[1]) for row in rows] != labels[order].tolist():
        raise RuntimeError(f"{project}: ASReview's labels differ from the file's label_included")
    return order, n_priors


def asreview_priors(project: Path, labels: np.ndarray) -> tuple[list[int], list[int]]:
    """(prior includes, prior excludes) of ASReview's run, as dataset rows."""
    order, n_priors = read_asreview(project, labels)
    head = order[:n_priors]
    return [i for i in head if labels[i]], [i for i in head if not labels[i]]


def score_asreview(project: Path, seed: int, labels: np.ndarray) -> dict:
    order, n_priors = read_asreview(project, labels)
    n = len(labels)
    post = labels[order[n_priors:]].tolist() + [0] * (n - len(order))
    at_each = (np.flatnonzero(labels[order] == 1) + 1).tolist()
    seconds_file = project.with_suffix(".seconds")
    return {
        "priors": asreview_priors(project, labels),
        "wss_95": simulate.wss(post, 0.95),
        "wss_100": simulate.wss(post, 1.0),
        "recall_at_10pct": simulate.recall_at(post, 0.1),
        "n_screened_to_all": len(order),
        "screened_at_each_include": at_each,
        "stopping": simulate.stopping_outcome(labels, order, n_priors, seed=seed),
        "seconds_total": (float(seconds_file.read_text()) if seconds_file.exists() else None),
    }


def summarise(runs: list[dict]) -> dict:
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"runs": runs}
    w = [r["wss_95"] for r in ok]
    secs = [r["seconds_total"] for r in ok if r["seconds_total"] is not None]
    stops = [r["stopping"] for r in ok]
    return {
        "wss_95": {"mean": round(float(np.mean(w)), 4), "min": min(w), "max": max(w),
                   "per_seed": w},
        "wss_100_mean": round(float(np.mean([r["wss_100"] for r in ok])), 4),
        "recall_at_10pct_mean": round(float(np.mean([r["recall_at_10pct"] for r in ok])), 4),
        "seconds_mean": (round(float(np.mean(secs)), 2) if secs else None),
        "stopping": [
            None if s is None else {k: s[k] for k in
                                    ("screened_at_stop", "recall_at_stop", "below_target")}
            for s in stops
        ],
        "errors": [r["error"] for r in runs if "error" in r],
    }


def speed_10k() -> dict:
    files = topic_files()
    docs: list[str] = []
    labels: list[int] = []
    for path in files.values():
        d, y = simulate.read_labelled(path)
        docs += d
        labels += y.tolist()
    docs, y = docs[:10_000], np.array(labels[:10_000])
    t = time.perf_counter()
    X = model.featurise(docs)
    featurise_s = time.perf_counter() - t
    rng = np.random.default_rng(0)
    out = {"n_records": len(docs), "n_features": int(X.shape[1]),
           "featurise_seconds": round(featurise_s, 3), "fit_scores_seconds": {}}
    for n_lab in (500, 2_000, 5_000):
        lab = rng.choice(len(docs), n_lab, replace=False)
        t = time.perf_counter()
        model.fit_scores(X, lab, y[lab], seed=1)
        out["fit_scores_seconds"][str(n_lab)] = round(time.perf_counter() - t, 3)
    return out


def set_variant(name: str) -> None:
    for flag, value in VARIANTS[name].items():
        setattr(model, flag, value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--topics", help="comma-separated topic names (default: all 14)")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--variant", choices=list(VARIANTS),
                        help="run ours with these model flags instead of ranking/model.py's")
    parser.add_argument("--no-asreview", action="store_true",
                        help="ours only, priors drawn with the seed (not paired)")
    parser.add_argument("--rerun-asreview", action="store_true",
                        help="run ASReview again even where its project file is cached")
    parser.add_argument("--no-speed", action="store_true", help="skip the 10,000-record timing")
    parser.add_argument("--out", default=str(RESULTS / "ranking.json"))
    args = parser.parse_args()
    if args.variant:
        set_variant(args.variant)
    files = topic_files()
    names = list(files)
    topics = args.topics.split(",") if args.topics else names
    seeds = [int(s) for s in args.seeds.split(",")]
    paired = not args.no_asreview
    if paired and not ASREVIEW.exists() and args.rerun_asreview:
        raise SystemExit(f"{ASREVIEW} missing: run sh bench/setup_asreview.sh or --no-asreview")

    loaded = {t: simulate.read_labelled(files[t]) for t in topics}
    pool = ThreadPoolExecutor(max_workers=1)
    projects = {}
    if paired:
        for topic in topics:
            for s in seeds:
                projects[topic, s] = pool.submit(asreview_project, files[topic], s,
                                                 args.rerun_asreview)

    per_topic = {}
    for topic in topics:
        docs, y = loaded[topic]
        t = time.perf_counter()
        X = model.featurise(docs)
        feat_s = time.perf_counter() - t
        ours, theirs = [], []
        for s in seeds:
            if paired:
                project = projects[topic, s].result()[0]
                ours.append(simulate.simulate(X, y, seed=s, priors=asreview_priors(project, y)))
                theirs.append(score_asreview(project, s, y))
            else:
                ours.append(simulate.simulate(X, y, seed=s))
        entry = {
            "n": len(y),
            "n_included": int(y.sum()),
            "fold": 1 if names.index(topic) < FOLD else 2,
            "featurise_seconds": round(feat_s, 3),
            "ours": summarise(ours),
        }
        entry["ours"]["priors"] = [r["priors"] for r in ours]
        entry["ours"]["seconds_per_retrain_mean"] = round(
            float(np.mean([r["seconds_per_retrain"] for r in ours])), 4)
        line = f"{topic:26s} ours WSS@95 {entry['ours']['wss_95']['mean']:.3f}"
        if paired:
            entry["asreview"] = summarise(theirs)
            diffs = [o["wss_95"] - a["wss_95"] for o, a in zip(ours, theirs, strict=True)]
            entry["paired_wss_95_diff"] = {"mean": round(float(np.mean(diffs)), 4),
                                           "per_seed": [round(d, 6) for d in diffs]}
            line += f"  ASReview {entry['asreview']['wss_95']['mean']:.3f}"
        per_topic[topic] = entry
        print(line, flush=True)
    pool.shutdown()

    summary = {"seeds": seeds, "topics": len(topics), "paired_priors": paired}
    summary["ours_mean_wss_95"] = _mean([e["ours"]["wss_95"]["mean"] for e in per_topic.values()])
    summary["ours_mean_recall_at_10pct"] = _mean(
        [e["ours"]["recall_at_10pct_mean"] for e in per_topic.values()])
    all_stops = [s for e in per_topic.values() for s in e["ours"]["stopping"]]
    summary["stopping_runs"] = len(all_stops)
    summary["stopping_never_advised"] = sum(1 for s in all_stops if s is None)
    summary["stopping_below_target_share"] = round(
        sum(1 for s in all_stops if s and s["below_target"]) / len(all_stops), 4)
    summary["stopping_mean_share_screened"] = _mean([
        s["screened_at_stop"] / e["n"] if s else 1.0
        for e in per_topic.values() for s in e["ours"]["stopping"]])
    for fold in (1, 2):
        vals = [e["ours"]["wss_95"]["mean"] for e in per_topic.values() if e["fold"] == fold]
        if vals:
            summary[f"ours_mean_wss_95_fold{fold}"] = _mean(vals)
    if paired:
        summary["asreview_mean_wss_95"] = _mean(
            [e["asreview"]["wss_95"]["mean"] for e in per_topic.values()])
        summary["asreview_mean_recall_at_10pct"] = _mean(
            [e["asreview"]["recall_at_10pct_mean"] for e in per_topic.values()])
        summary["topics_ours_ge_asreview"] = [
            t for t, e in per_topic.items() if e["paired_wss_95_diff"]["mean"] >= 0]
        summary["topics_ours_below_asreview"] = [
            t for t, e in per_topic.items() if e["paired_wss_95_diff"]["mean"] < 0]
        a_stops = [s for e in per_topic.values() for s in e["asreview"]["stopping"]]
        summary["asreview_stopping_below_target_share"] = round(
            sum(1 for s in a_stops if s and s["below_target"]) / len(a_stops), 4)
        for fold in (1, 2):
            vals = [e["asreview"]["wss_95"]["mean"] for e in per_topic.values()
                    if e["fold"] == fold]
            if vals:
                summary[f"asreview_mean_wss_95_fold{fold}"] = _mean(vals)
    if not args.no_speed:
        summary["speed_10k"] = speed_10k()
    result = {
        "model": {"variant": args.variant, "use_keywords": model.USE_KEYWORDS,
                  "use_journal": model.USE_JOURNAL, "use_logistic": model.USE_LOGISTIC,
                  "use_nb": model.USE_NB, "svm_c": model.SVM_C,
                  "balance_ratio": model.BALANCE_RATIO,
                  "retrain_every": "after every decision (model.RETRAIN_EVERY)",
                  "stopping_trigger": "max(50, ceil(5% of N)) ranked excludes in a row"},
        "asreview_version": asreview_version() if paired else None,
        "summary": summary,
        "topics": per_topic,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=1)
    print(json.dumps(summary, indent=1))
    return 0


def _mean(values) -> float:
    return round(float(np.mean(values)), 4)


def asreview_version() -> str:
    py = ASREVIEW.parent / "python"
    # In a directory of its own: importing asreview leaves a synergy_cache.sqlite behind.
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([str(py), "-c", "import asreview; print(asreview.__version__)"],
                             capture_output=True, text=True, cwd=tmp)
    return out.stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
