"""``make eval``: ``relgraph validate`` on every evaluation dataset, written to EVAL.md.

Datasets, default settings throughout (no per-dataset tuning):

- ``synth``: relgraph's own synthetic bank (``--customers``, default 100,000; seed 42);
- ``independent-1``, ``independent-2``: the independent evaluation bank
  (``benchmarks/independent``), same size, seeds 1 and 2;
- ``febrl1``, ``febrl2``, ``febrl4``: the public FEBRL sets (identity only; see
  ``benchmarks/eval/febrl.py``);
- held out, never looked into while the models were built: ``independent-3`` (seed 3)
  and ``febrl3``. The targets hold on them too, or the scoreboard says they do not.

Each runs ``relgraph synth|generate → load → analyze → validate`` in its own data
folder under ``--work`` (default ``benchmarks/data/eval``) through the CLI, as a user
would. ``benchmarks/EVAL.md`` is regenerated whole: one table with every figure per
dataset, the commit, the independent generator's content hash and the SHA-256 of each
``metrics.json`` it came from. Never edit it by hand.

    .venv/bin/python benchmarks/eval/run.py [--customers 100000] [--only febrl1,synth]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RELGRAPH = str(BIN / "relgraph")
INDEPENDENT = ROOT / "benchmarks" / "independent" / "generate.py"
FEBRL = ROOT / "benchmarks" / "eval" / "febrl.py"

# (section, key, label, format): the rows of the scoreboard, in order.
ROWS: list[tuple[str, str, str, str]] = [
    ("identity", "precision", "identity: pairwise precision", "{:.4f}"),
    ("identity", "recall", "identity: pairwise recall", "{:.4f}"),
    ("identity", "f1", "identity: pairwise F1", "{:.4f}"),
    ("identity", "split_clusters", "identity: split persons", "{:,}"),
    ("identity", "merged_clusters", "identity: merged persons", "{:,}"),
    ("households", "precision", "households: pairwise precision", "{:.4f}"),
    ("households", "recall", "households: pairwise recall", "{:.4f}"),
    ("households", "split_clusters", "households: split", "{:,}"),
    ("households", "merged_clusters", "households: merged", "{:,}"),
    ("groups", "controller_found", "groups: controller found", "{:.4f}"),
    ("circles", "found_whole", "guarantee circles found whole", "{:.4f}"),
    ("influencers", "top_precision", "influencers: top-k precision", "{:.4f}"),
    ("aml", "recall", "AML: pattern recall at the default threshold", "{:.4f}"),
    ("aml", "alert_precision", "AML: alert precision at the default threshold", "{:.4f}"),
    ("aml", "precision_at_k", "AML: precision at k (accounts)", "{:.4f}"),
    ("aml", "average_precision", "AML: average precision (accounts)", "{:.4f}"),
    ("aml", "background_fpr", "AML: false-positive rate on background transfers", "{:.2e}"),
]


def _run(args: list[str], log: Path) -> None:
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(args)}\n")
        out.flush()
        done = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])} … failed (exit {done.returncode}): see {log}")


def _pipeline(name: str, work: Path, make_bank: Callable[[Path, Path], None]) -> Path:
    """Bank → load → analyze → validate for one dataset; the metrics.json path."""
    folder = work / name
    bank, data, report = folder / "bank", folder / "data", folder / "report"
    log = folder / "eval.log"
    folder.mkdir(parents=True, exist_ok=True)
    log.write_text("", encoding="utf-8")
    started = time.perf_counter()
    make_bank(bank, log)
    # A fresh store every time: a load of unchanged files is skipped as "unchanged", and the
    # scoreboard would then show what an older build of identity resolution found.
    shutil.rmtree(data, ignore_errors=True)
    _run([RELGRAPH, "load", str(bank), "--data-dir", str(data)], log)
    _run([RELGRAPH, "analyze", "--data-dir", str(data)], log)
    _run(
        [RELGRAPH, "validate", "--truth", str(bank / "truth"), "--data-dir", str(data),
         "--out", str(report)],
        log,
    )  # fmt: skip
    print(f"{name}: {time.perf_counter() - started:.0f} s", flush=True)
    return report / "metrics.json"


def _datasets(customers: int) -> dict[str, Callable[[Path, Path], None]]:
    def synth(bank: Path, log: Path) -> None:
        _run([RELGRAPH, "synth", "--out", str(bank), "--customers", str(customers)], log)

    def independent(seed: int) -> Callable[[Path, Path], None]:
        def make(bank: Path, log: Path) -> None:
            _run(
                [sys.executable, str(INDEPENDENT), "--customers", str(customers),
                 "--seed", str(seed), "--out", str(bank), "--quiet"],
                log,
            )  # fmt: skip

        return make

    def febrl(which: str) -> Callable[[Path, Path], None]:
        def make(bank: Path, log: Path) -> None:
            _run([sys.executable, str(FEBRL), "--set", which, "--out", str(bank)], log)

        return make

    return {
        "synth": synth,
        "independent-1": independent(1),
        "independent-2": independent(2),
        "febrl1": febrl("febrl1"),
        "febrl2": febrl("febrl2"),
        "febrl4": febrl("febrl4"),
        "independent-3": independent(3),
        "febrl3": febrl("febrl3"),
    }


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def _cell(metrics: dict[str, Any], section: str, key: str, fmt: str) -> str:
    value = metrics.get(section, {}).get(key)
    return "—" if value is None else fmt.format(value)


def _recall_cell(found: dict[str, Any]) -> str:
    return f"{found['recall']:.3f} ({found['found']}/{found['patterns']})"


def _within_cell(found: dict[str, Any]) -> str:
    recall = "—" if found["recall"] is None else f"{found['recall']:.3f}"
    within = f"{recall} ({found['found']}/{found['patterns']})"
    return within + (
        f"; longer {found['found_longer']}/{found['longer']}" if found["longer"] else ""
    )


def _typology_table(
    metrics: dict[str, Any], names: list[str], key: str, cell: Callable[[dict[str, Any]], str]
) -> list[str]:
    """One row per typology, one column per dataset with planted patterns."""
    aml_names = [n for n in names if key in metrics[n].get("aml", {})]
    typologies = sorted({t for n in aml_names for t in metrics[n]["aml"][key]})
    lines = ["| typology | " + " | ".join(aml_names) + " |", "|---|" + "---|" * len(aml_names)]
    for typology in typologies:
        found = [metrics[n]["aml"][key].get(typology) for n in aml_names]
        lines.append(
            f"| {typology} | " + " | ".join("—" if f is None else cell(f) for f in found) + " |"
        )
    return lines


def write_eval(results: dict[str, Path], customers: int, out: Path) -> None:
    metrics = {name: json.loads(path.read_text("utf-8")) for name, path in results.items()}
    names = list(results)
    generator = subprocess.run(
        [sys.executable, str(INDEPENDENT), "--print-hash"], capture_output=True, text=True,
        check=True,
    ).stdout.strip()  # fmt: skip
    lines = [
        "# Evaluation scoreboard",
        "",
        "Regenerated by `make eval` (`benchmarks/eval/run.py`); never edited by hand. Default",
        "settings on every dataset. Definitions: `relgraph validate` (README, *Validating the",
        "models*). A dash: the dataset has no truth for that figure (FEBRL is identity only).",
        "",
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"- commit: `{_git('rev-parse', 'HEAD')}`"
        + (" (with uncommitted changes)" if _git("status", "--porcelain") != "unknown" else ""),
        f"- synthetic and independent banks: {customers:,} customers each",
        f"- independent generator content hash: `{generator}`",
        "",
        "| figure | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for section, key, label, fmt in ROWS:
        cells = [_cell(metrics[n], section, key, fmt) for n in names]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "## Per-typology recall at the default threshold", ""]
    lines += _typology_table(metrics, names, "recall_by_typology", _recall_cell)
    lines += [
        "",
        "## Per-typology recall of patterns within the detection horizon",
        "",
        "A pattern's span runs from its first to its last transfer; the horizon is the stored",
        "`cycle_horizon_days` (30 by default), the longest detection window. Patterns longer than",
        "that are counted apart (found / planted): the definitions see them only in parts.",
        "",
    ]
    lines += _typology_table(metrics, names, "recall_within_horizon", _within_cell)
    lines += ["", "## Sources", "", "| dataset | metrics.json SHA-256 |", "|---|---|"]
    for name, path in results.items():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"| {name} | `{digest}` |")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "data" / "eval")
    parser.add_argument("--only", default="", help="comma-separated dataset names")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "EVAL.md")
    args = parser.parse_args()
    datasets = _datasets(args.customers)
    wanted = [n for n in args.only.split(",") if n] or list(datasets)
    unknown = sorted(set(wanted) - set(datasets))
    if unknown:
        raise SystemExit(f"unknown datasets {unknown}: choose from {sorted(datasets)}")
    results = {name: _pipeline(name, args.work, datasets[name]) for name in wanted}
    write_eval(results, args.customers, args.out)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
