"""The ablation study's presentation (Table 6): tables beside the paper's, paired comparisons, the figure.

Reads the results.json that mffcnn.studies.ablate writes; `mffcnn report` uses the same tables.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mffcnn import paper
from mffcnn.report.figures import plt
from mffcnn.report.text import md_table, pct, protocol_title

# Table 6's row names.
TITLES = {
    "full": "MFF-CNN",
    "no_mid_level": "MFF-CNN without mid-level feature",
    "no_joint_tuning": "MFF-CNN without joint tuning (concatenation)",
    "no_feature_selection": "MFF-CNN without feature vector selection",
}
# The component each ablation removes.
COMPONENTS = {
    "no_mid_level": "mid-level feature aggregation",
    "no_joint_tuning": "joint tuning",
    "no_feature_selection": "feature vector selection",
}
SHORT = {
    "full": "full",
    "no_mid_level": "no mid-level",
    "no_joint_tuning": "no joint\ntuning",
    "no_feature_selection": "no feature\nselection",
}


def table_rows(results: dict, protocol: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the Table 6 layout for one protocol: our row, then the paper's, per model."""
    classes = results["class_names"]
    header = ["model", "", "parameters", *classes, "mean of classes", "mean ± std over folds"]
    body = []
    for a, r in results["results"][protocol].items():
        body.append(
            [
                TITLES[a],
                "ours",
                f"{r['params']:,}",
                *[pct(r["per_class_accuracy"][c]) for c in classes],
                pct(r["mean_per_class_accuracy"]),
                f"{pct(r['mean_accuracy'])} ± {pct(r['std_accuracy'])}",
            ]
        )
        ref = paper.TABLE6[a]
        body.append(
            [
                "",
                "paper (Oulu-CASIA)",
                ref["params"],
                *[f"{ref[c]:.2f}" if c in paper.BASIC6 else "–" for c in classes],
                f"{ref['mean']:.2f}",
                "–",
            ]
        )
    return header, body


def comparison_rows(results: dict, protocol: str) -> tuple[list[str], list[list[str]]]:
    header = [
        "component removed",
        "Δ accuracy (pp), mean ± std over folds",
        "fold spread σ (pp)",
        "paired t-test p",
        "full better / worse / tied folds",
        "sign test p",
        "exceeds fold spread?",
        "verdict",
        "paper Δ (pp)",
    ]
    body = []
    for a, c in results["comparisons"].get(protocol, {}).items():
        paper_delta = paper.TABLE6[a]["mean"] - paper.TABLE6["full"]["mean"]
        body.append(
            [
                c["component"],
                f"{100 * c['mean_delta']:+.2f} ± {100 * c['std_delta']:.2f}",
                f"{100 * c['fold_spread']:.2f}",
                f"{c['t_test_p']:.3g}",
                f"{c['full_better_folds']} / {c['full_worse_folds']} / {c['tied_folds']}",
                f"{c['sign_test_p']:.3g}",
                "yes" if c["exceeds_fold_spread"] else "no",
                f"**{c['verdict']}**",
                f"{paper_delta:+.2f}",
            ]
        )
    return header, body


def verdicts(results: dict, protocol: str) -> list[str]:
    """One sentence per component: how much accuracy it is worth here, against the fold spread and the test."""
    out = []
    for a, c in results["comparisons"].get(protocol, {}).items():
        d, s = 100 * c["mean_delta"], 100 * c["fold_spread"]
        paper_delta = paper.TABLE6[a]["mean"] - paper.TABLE6["full"]["mean"]
        if d < 0:
            what = f"without it the accuracy is {-d:.2f} pp lower"
        elif d > 0:
            what = f"without it the accuracy is {d:.2f} pp higher"
        else:
            what = "without it the accuracy is the same"
        spread = (
            "larger than" if c["exceeds_fold_spread"] else "within"
        ) + f" the fold-to-fold spread (σ = {s:.2f} pp)"
        test = (
            f"paired t-test p = {c['t_test_p']:.3g}, sign test p = {c['sign_test_p']:.3g}, full model better in "
            f"{c['full_better_folds']} of {c['n_folds']} folds"
        )
        out.append(
            f"**{c['component'].capitalize()}: {c['verdict']}.** On average {what} "
            f"({d:+.2f} ± {100 * c['std_delta']:.2f} pp over folds), {spread}; {test}. "
            f"Paper (Table 6): {paper_delta:+.2f} pp."
        )
    return out


def ablation_markdown(results: dict, figure: str | None = None) -> str:
    tag = " (synthetic data)" if results["synthetic"] else ""
    lines = [
        f"# mffcnn ablate: {results['dataset']}{tag} — Table 6",
        "",
        f"{results['n_images']} images, {results['n_subjects']} subjects, {results['folds']} folds, "
        f"recipe `{results['recipe']}`, {results['epochs']} epochs, seed {results['seed']}. Every model is trained "
        "and tested on the same folds with the same seeds, so the comparisons with the full model are paired "
        "fold by fold. The paper's rows are its Table 6 (Oulu-CASIA, random folds, no spread given).",
        "",
    ]
    if results["synthetic"]:
        lines += ["These numbers are on the **synthetic** faces generated in code, not on a real dataset.", ""]
    for protocol in results["protocols"]:
        header, body = table_rows(results, protocol)
        lines += [
            f"## {protocol_title(protocol, results.get('folds'))}",
            "",
            *md_table(header, body, ["---", "---", "---:"] + ["---:"] * (len(header) - 3)),
            "",
        ]
        if results["comparisons"].get(protocol):
            header, body = comparison_rows(results, protocol)
            lines += [
                f"Each component against the full model, paired over the {results['folds']} folds "
                f"(Δ = ablated − full; fold spread σ = the larger of the two models' std over folds; "
                f"verdict: helps / hurts when the paired t-test gives p < {results['alpha']}, else no clear effect):",
                "",
                *md_table(header, body),
                "",
                *[f"- {v}" for v in verdicts(results, protocol)],
                "",
            ]
    seconds = sum(r["seconds"] for rows in results["results"].values() for r in rows.values())
    m = results["machine"]
    lines += [
        f"Training and testing took {seconds / 60:.1f} min on {m['cpu']} ({m['cores']} cores, torch {m['torch']}).  ",
        f"Command: `{results['command']}`",
        "",
    ]
    if figure:
        lines += [f"![ablation]({figure})", ""]
    return "\n".join(lines)


def plot_ablation(results: dict, path: str | Path) -> Path:
    """Left: mean accuracy ± std over folds per model and protocol, Table 6's number as a black mark.
    Right: each fold's accuracy difference to the full model (paired), with its mean."""
    protocols, ablations = results["protocols"], results["ablations"]
    colors = {"random": "#3b75af", "subject": "#e8853c"}
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.2, 1]})
    width = 0.8 / len(protocols)
    xs = np.arange(len(ablations))
    for j, protocol in enumerate(protocols):
        rows = results["results"][protocol]
        means = [100 * rows[a]["mean_accuracy"] for a in ablations]
        stds = [100 * rows[a]["std_accuracy"] for a in ablations]
        ax.bar(
            xs + (j - (len(protocols) - 1) / 2) * width,
            means,
            width,
            yerr=stds,
            capsize=3,
            color=colors.get(protocol, f"C{j}"),
            label=f"ours, {protocol} folds",
        )
    ax.scatter(
        xs,
        [paper.TABLE6[a]["mean"] for a in ablations],
        marker="D",
        color="black",
        zorder=5,
        label="paper, Table 6 (Oulu-CASIA)",
    )
    low = min(
        min(
            100 * results["results"][p][a]["mean_accuracy"] - 100 * results["results"][p][a]["std_accuracy"]
            for p in protocols
            for a in ablations
        ),
        min(paper.TABLE6[a]["mean"] for a in ablations),
    )
    ax.set_ylim(max(0, low - 5), 100)
    ax.set_xticks(xs, [SHORT[a] for a in ablations], fontsize=8)
    ax.set_ylabel("mean accuracy over folds (%)")
    ax.set_title(f"{results['dataset']}{' (synthetic)' if results['synthetic'] else ''}: Table 6 models", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")

    others = [a for a in ablations if a != "full"]
    for j, protocol in enumerate(protocols):
        comps = results["comparisons"].get(protocol, {})
        for i, a in enumerate(others):
            if a not in comps:
                continue
            d = 100 * np.asarray(comps[a]["fold_delta"])
            x = i + (j - (len(protocols) - 1) / 2) * width
            jitter = np.linspace(-width * 0.3, width * 0.3, len(d)) if len(d) > 1 else np.zeros(1)
            bx.scatter(
                x + jitter,
                d,
                s=12,
                color=colors.get(protocol, f"C{j}"),
                alpha=0.8,
                label=f"{protocol} folds" if i == 0 else None,
            )
            bx.hlines(d.mean(), x - width * 0.4, x + width * 0.4, color="black", lw=2)
    bx.axhline(0, color="grey", lw=0.8)
    bx.set_xticks(np.arange(len(others)), [COMPONENTS[a].replace(" ", "\n", 1) for a in others], fontsize=8)
    bx.set_ylabel("ablated − full, per fold (pp)")
    bx.set_title("paired differences (bar: mean); below 0: the component helps", fontsize=10)
    if any(results["comparisons"].get(p) for p in protocols):
        bx.legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
