"""Writing a validation: ``report.md``, PNG plots and ``metrics.json`` in one folder."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Final

import matplotlib
import pandas as pd

from relgraph.validate.job import Validation
from relgraph.validate.section import Section

matplotlib.use("Agg")  # files only: no display on a server (pyplot is imported after this)

MAX_ROWS: Final = 30
"""Rows of an example table shown in the report."""


def _json_safe(value: Any) -> Any:
    """NaN becomes null (JSON has no NaN); numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def format_value(value: Any) -> str:
    """A figure as text: ratios to 4 decimals, counts with thousands separators, '–' for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        # Rates such as a false-positive rate are often tiny: keep their digits.
        return f"{value:.2e}" if 0 < abs(value) < 1e-3 else f"{value:.4f}"
    return str(value)


def _cell(value: Any) -> str:
    text = format_value(value) if not isinstance(value, str) else value
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(frame: pd.DataFrame, max_rows: int = MAX_ROWS) -> str:
    """A DataFrame as a GitHub markdown table (the first ``max_rows`` rows)."""
    if frame.empty:
        return "_none_\n"
    shown = frame.head(max_rows)
    lines = [
        "| " + " | ".join(str(c) for c in shown.columns) + " |",
        "|" + "---|" * len(shown.columns),
    ]
    for row in shown.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    if len(frame) > max_rows:
        lines.append(f"\n… {len(frame) - max_rows:,} more rows")
    return "\n".join(lines) + "\n"


def _headline_table(section: Section) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "measure": list(section.headline),
            "value": [format_value(v) for v in section.headline.values()],
        }
    )


def _plots(section: Section, out: Path) -> list[str]:
    """Draw the AML plots; return their file names."""
    import matplotlib.pyplot as plt  # matplotlib loads in ~1 s; only reports draw

    names: list[str] = []
    threshold = float(section.figures.get("threshold", 0.5))
    pr = section.plots.get("account_pr")
    sweep = section.plots.get("alert_sweep")
    if pr is not None or sweep is not None:
        fig, ax = plt.subplots(figsize=(6, 4.5))
        if pr is not None and len(pr):
            ax.step(
                pr["recall"], pr["precision"], where="post", label="accounts (by account score)"
            )
        if sweep is not None and len(sweep):
            ax.plot(sweep["recall"], sweep["precision"], "o-", ms=3, label="alerts vs patterns")
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_title("Precision–recall (every threshold)")
        ax.legend(loc="lower left")
        fig.tight_layout()
        fig.savefig(out / "aml_pr_curve.png", dpi=100)
        plt.close(fig)
        names.append("aml_pr_curve.png")
    scores = section.plots.get("alert_scores")
    if scores is not None and len(scores):
        fig, ax = plt.subplots(figsize=(6, 4.5))
        bins = [i / 20 for i in range(21)]
        ax.hist(
            [scores.loc[scores["true"], "score"], scores.loc[~scores["true"], "score"]],
            bins=bins,
            label=["planted (true alerts)", "background (false alerts)"],
            stacked=False,
        )
        ax.axvline(
            threshold, color="black", linestyle="--", label=f"default threshold {threshold:g}"
        )
        ax.set_xlabel("alert score")
        ax.set_ylabel("alerts")
        ax.set_title("Alert scores: planted vs background")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "aml_score_histogram.png", dpi=100)
        plt.close(fig)
        names.append("aml_score_histogram.png")
        reliability = pd.DataFrame(section.figures.get("reliability", []))
        if len(reliability):
            fig, ax = plt.subplots(figsize=(6, 4.5))
            ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="calibrated")
            ax.plot(reliability["mean_score"], reliability["precision"], "o-", label="observed")
            ax.set_xlabel("mean alert score in band")
            ax.set_ylabel("share of true alerts")
            ax.set_title("Reliability of the alert score")
            ax.legend()
            fig.tight_layout()
            fig.savefig(out / "aml_reliability.png", dpi=100)
            plt.close(fig)
            names.append("aml_reliability.png")
    return names


def _about_markdown(about: dict[str, Any]) -> str:
    rows = [
        ("validated at", about["validated_at"]),
        ("relgraph version", about["relgraph_version"]),
        ("git commit", about["git_commit"] or "unknown"),
        ("truth folder", about["truth_folder"]),
        ("truth files", ", ".join(about["truth_files"]) or "none"),
        ("data fingerprint", about["data_fingerprint"] or "unknown"),
        ("data loaded at", about["data_loaded_at"] or "unknown"),
        ("analysed at", about["analysed_at"] or "unknown"),
        ("engine", about["engine"]),
    ]
    text = markdown_table(pd.DataFrame(rows, columns=["", "value"]))
    read = about.get("truth_rows") or {}
    if read:
        counted = pd.DataFrame(
            [(f"{name}.csv", n["rows"], n["duplicates"]) for name, n in read.items()],
            columns=["truth file", "rows", "repeated rows (counted once)"],
        )
        text += "\n### Truth rows read\n\n" + markdown_table(counted)
    sizes = pd.DataFrame(list(about["table_rows"].items()), columns=["table", "rows"])
    text += "\n### Data size\n\n" + markdown_table(sizes)
    settings = [
        (f"{section}.{key}", json.dumps(value, ensure_ascii=False))
        for section, values in about["settings"].items()
        if isinstance(values, dict)
        for key, value in sorted(values.items())
    ]
    text += "\n### Settings analyze used\n\n" + markdown_table(
        pd.DataFrame(settings, columns=["setting", "value"]), max_rows=len(settings)
    )
    versions = about.get("versions") or {}
    if isinstance(versions, dict) and versions:
        text += (
            "\nLibrary versions at analysis: "
            + ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))
            + "\n"
        )
    return text


DEFINITIONS: Final = """\
Definitions: a planted pattern is **found** when at least half of its transfers are in
alerts at or above the default threshold; an alert is **true** when at least half of its
transfers are planted. Recall and precision are at the default threshold; figures at
other thresholds are labelled. Truth ids the store does not hold count as misses
(pairwise recall is over all truth rows). Average precision ranks every account
(accounts in no alert score 0), ties broken pessimistically.
"""


def write_report(validation: Validation, out: Path) -> list[Path]:
    """Write ``report.md``, the plots and ``metrics.json`` to ``out``; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    parts = ["# relgraph validation report\n", DEFINITIONS]
    if not validation.sections:
        parts.append("\nNo truth files were found: nothing was compared.\n")
    for section in validation.sections:
        parts.append(f"\n## {section.title}\n\n" + markdown_table(_headline_table(section)))
        for note in section.notes:
            parts.append(f"\n{note}\n")
        for name in _plots(section, out):
            parts.append(f"\n![{name}]({name})\n")
            written.append(out / name)
        for caption, table in section.tables:
            parts.append(f"\n### {caption}\n\n" + markdown_table(table))
    parts.append("\n## What this ran on\n\n" + _about_markdown(validation.about))
    report = out / "report.md"
    report.write_text("".join(parts), encoding="utf-8")
    metrics = out / "metrics.json"
    metrics.write_text(
        json.dumps(_json_safe(validation.metrics()), indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return [report, metrics, *written]
