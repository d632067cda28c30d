"""The ablation study of Table 6 (paper §4.8): what each component of MFF-CNN is worth.

Four models, each a configuration of the same MFFCNN class (mffcnn.model.config.ABLATIONS):

* `full`: MFF-CNN as in §3;
* `no_mid_level`: "we only used high-level features to represent global features";
* `no_joint_tuning`: "we integrated the two branches with traditional feature vector concatenation";
* `no_feature_selection`: "we used complete local feature vector set to represent local features".

All four are trained and tested on the *same* folds with the *same* seeds (fold k trains with seed
seed·1000 + k in every model), under both protocols (random folds as in the paper, and
subject-independent folds). Because the folds are identical, each model's fold accuracies pair
with the full model's, and the comparison is paired: for each component we report the mean and
std of the fold-wise difference to `full`, a paired t-test and a sign test over the folds, and
whether the difference is larger than the fold-to-fold spread of the full model (its std over
folds). The paper ran this on Oulu-CASIA only, without a spread; its rows are printed beside ours.

Run folder (resumable, like `mffcnn cv`): runs/ablate/expN/
    options.json                         what was run, with the command and the machine
    <ablation>/<protocol>/folds/*.json   one file per finished fold (mffcnn.train.cv.run_cv)
    <ablation>/<protocol>/results.json   as `mffcnn cv` writes it, with confusion.png and report.md
    results.json, report.md, ablation.png   the table beside Table 6, the paired comparisons, the figure
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from mffcnn.data import load_dataset
from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import MffcnnError
from mffcnn.model import ABLATIONS, MFFCNNConfig, ablation_config
from mffcnn.report import paper
from mffcnn.report.metrics import summarise_folds
from mffcnn.report.report import PROTOCOL_TITLES, cv_results, pct, write_protocol_report
from mffcnn.runs import latest_run, machine_info, new_run_dir, read_json, write_json
from mffcnn.train.cv import PROTOCOLS, dataset_fingerprint, n_params, run_cv
from mffcnn.train.loop import resolve_device
from mffcnn.train.recipes import DEFAULT_RECIPE, Recipe, epochs_for, get_recipe

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
SHORT = {"full": "full", "no_mid_level": "no mid-level", "no_joint_tuning": "no joint\ntuning",
         "no_feature_selection": "no feature\nselection"}
TABLE6_CLASSES = paper.BASIC6  # Ang Dis Fea Hap Sad Sur
ALPHA = 0.05  # significance level of the paired tests


def ablation_params(num_classes: int = 6, base: MFFCNNConfig | None = None) -> dict[str, int]:
    """Parameter count of each Table 6 model for a number of classes."""
    base = (base or MFFCNNConfig()).replace(num_classes=num_classes)
    return {name: n_params(ablation_config(name, base)) for name in ABLATIONS}


def ablate(
    dataset: str,
    root: str | Path | None = None,
    *,
    ablations: list[str] | None = None,
    protocol: str = "both",
    folds: int = 10,
    recipe: str | Recipe = DEFAULT_RECIPE,
    epochs: int | None = None,
    lr: float | None = None,
    seed: int = 0,
    dataset_options: dict | None = None,
    device: str = "auto",
    amp: bool = False,
    init: str | Path | None = None,
    project: str | Path = "runs",
    name: str = "exp",
    verbose: bool = True,
    command: str | None = None,
) -> tuple[Path, dict]:
    """Cross-validate the Table 6 models on a dataset under the same folds and seeds.

    init: a checkpoint every model of every fold starts from, as far as its weights fit
    (mffcnn.train.warm_start); it must not have been trained on the dataset's people.
    Returns the run folder and the run's results (also in its results.json)."""
    from mffcnn import __version__

    ablations = list(ablations or ABLATIONS)
    unknown = [a for a in ablations if a not in ABLATIONS]
    if unknown:
        raise MffcnnError(f"unknown ablation(s) {', '.join(unknown)}; choose from {', '.join(ABLATIONS)}")
    ablations = [a for a in ABLATIONS if a in ablations]  # Table 6 order, no duplicates
    protocols = list(PROTOCOLS) if protocol == "both" else [protocol]
    if any(p not in PROTOCOLS for p in protocols):
        raise MffcnnError(f"unknown protocol {protocol!r}; choose from random, subject, both")
    if folds < 2:
        raise MffcnnError("--folds must be at least 2")
    recipe = (get_recipe(recipe) if isinstance(recipe, str) else recipe).with_(lr=lr)
    faceset = load_dataset(dataset, root, **(dataset_options or {}))
    if verbose:
        print(faceset.summary.table(), file=sys.stderr)
    epochs = epochs or epochs_for(recipe, faceset.name)
    base = MFFCNNConfig(num_classes=len(faceset.class_names))
    # The recipe's dropout applies to every model alike, so they stay comparable.
    models = {a: recipe.model_config(ablation_config(a, base)).to_dict() for a in ablations}
    init_reports = {}
    if init:
        from mffcnn.train.warm_start import initialiser

        for a in ablations:
            report = initialiser(init, MFFCNNConfig.from_dict(models[a]), faceset.class_names,
                                 tested_on=faceset.name)[1]
            init_reports[a] = report.to_dict()
            if verbose:
                print(f"{a}: {report.line()}", file=sys.stderr)
    run_dir = new_run_dir(project, "ablate", name)
    options = {
        "kind": "ablate",
        "command": command or f"mffcnn.ablate({dataset!r}, {str(root) if root else None!r}, ...)",
        "dataset": dataset,
        "root": str(root) if root is not None else None,
        "dataset_options": dataset_options or {},
        "ablations": ablations,
        "protocols": protocols,
        "folds": folds,
        "recipe": recipe.to_dict(),
        "epochs": epochs,
        "seed": seed,
        "device": device,
        "amp": amp,
        "models": models,
        "init": str(init) if init else None,
        "init_reports": init_reports,
        "preprocessing": faceset.preprocessing.to_dict(),
        "fingerprint": dataset_fingerprint(faceset),
        "class_names": faceset.class_names,
        "prepare_summary": faceset.summary.to_dict(),
        "mffcnn": __version__,
        "machine": machine_info(),
    }
    write_json(run_dir / "options.json", options)
    return run_dir, _run(run_dir, faceset, options, verbose=verbose)


def resume_ablation(run_dir: str | Path | None = None, *, project: str | Path = "runs",
                    verbose: bool = True) -> tuple[Path, dict]:
    """Finish an interrupted ablation run (the latest under project/ablate when run_dir is None)."""
    run_dir = Path(run_dir) if run_dir else latest_run(project, "ablate")
    if run_dir is None or not (run_dir / "options.json").exists():
        where = f" at {run_dir}" if run_dir else f" under {project}/ablate"
        raise MffcnnError(f"no ablation run to resume{where}")
    options = read_json(run_dir / "options.json")
    if options.get("kind") != "ablate":
        raise MffcnnError(f"{run_dir} is not an ablation run (resume cv runs with mffcnn cv --resume)")
    faceset = load_dataset(options["dataset"], options["root"],
                           preprocessing=Preprocessing.from_dict(options["preprocessing"]),
                           **options["dataset_options"])
    if dataset_fingerprint(faceset) != options["fingerprint"]:
        raise MffcnnError(f"the dataset at {options['root']} changed since {run_dir} started; start a new run")
    if verbose:
        print(f"resuming {run_dir}", file=sys.stderr)
    return run_dir, _run(run_dir, faceset, options, verbose=verbose)


def _run(run_dir: Path, faceset, options: dict, *, verbose: bool) -> dict:
    from tqdm import tqdm

    recipe = Recipe(**options["recipe"])
    device = resolve_device(options.get("device", "auto"))
    ablations, protocols = options["ablations"], options["protocols"]
    per_run: dict[str, dict[str, dict]] = {p: {} for p in protocols}
    # Protocol-major: the paper's protocol finishes for all four models before the honest one starts,
    # so an interrupted run already has a complete random-fold table.
    for protocol in protocols:
        for i, ablation in enumerate(ablations, start=1):
            if verbose:
                tqdm.write(f"[{i}/{len(ablations)}] {TITLES[ablation]} — {protocol} folds", file=sys.stderr)
            cfg = MFFCNNConfig.from_dict(options["models"][ablation])
            out = run_dir / ablation / protocol
            init = None
            if options.get("init"):
                from mffcnn.train.warm_start import initialiser

                init = initialiser(options["init"], cfg, faceset.class_names)[0]
            start = time.perf_counter()
            folds = run_cv(faceset, out, protocol=protocol, n_folds=options["folds"], model_config=cfg,
                           recipe=recipe, epochs=options["epochs"], seed=options["seed"], verbose=verbose,
                           device=device, amp=options.get("amp", False), init=init)
            r = cv_results(faceset, folds, protocol=protocol, params=n_params(cfg), extra={
                "ablation": ablation, "recipe": recipe.name, "epochs": options["epochs"], "seed": options["seed"],
                "wall_seconds_this_session": round(time.perf_counter() - start, 2), "machine": options["machine"],
                "per_class_fold_std": per_class_fold_std(faceset.labels, folds, len(faceset.class_names)),
            })
            write_protocol_report(out, r)
            per_run[protocol][ablation] = r
    results = summarise(per_run, options)
    write_json(run_dir / "results.json", results)
    plot_ablation(results, run_dir / "ablation.png")
    (run_dir / "report.md").write_text(ablation_markdown(results, figure="ablation.png"))
    return results


def per_class_fold_std(labels: np.ndarray, folds, num_classes: int) -> list[float | None]:
    """Std over folds of each class's accuracy (None for a class seen in fewer than 2 test folds)."""
    acc = [[] for _ in range(num_classes)]
    for f in folds:
        y = labels[f.test_index]
        pred = np.asarray(f.y_pred)
        for c in range(num_classes):
            if (y == c).any():
                acc[c].append(float((pred[y == c] == c).mean()))
    return [float(np.std(a, ddof=1)) if len(a) > 1 else None for a in acc]


def paired_comparison(full: list[float], other: list[float]) -> dict:
    """Fold-by-fold comparison of an ablation with the full model (accuracies in 0..1, same folds).

    delta = other − full per fold. Returns the mean and std (ddof=1) of delta, a paired t-test and a
    two-sided sign test over the folds, the fold spread (the larger of the two models' std over
    folds), and whether |mean delta| exceeds that spread."""
    from scipy import stats

    a, b = np.asarray(full, float), np.asarray(other, float)
    if a.shape != b.shape or a.size < 2:
        raise ValueError("paired comparison needs the same ≥2 folds for both models")
    d = b - a
    mean, std = float(d.mean()), float(d.std(ddof=1))
    if std > 0:
        p_t = float(stats.ttest_rel(b, a).pvalue)
    else:  # every fold moved by the same amount: no spread to test against
        p_t = 1.0 if mean == 0 else 0.0
    better, worse = int((d < 0).sum()), int((d > 0).sum())  # folds where the full model is better / worse
    ties = int(d.size - better - worse)
    p_sign = float(stats.binomtest(better, better + worse, 0.5).pvalue) if better + worse else 1.0
    # "The fold-to-fold spread": the ± of each model's row in the table (std of its fold accuracies).
    # The larger of the two, so that one model landing on the same accuracy in every fold (σ = 0, common
    # with few folds) does not make any difference look large.
    full_std, other_std = summarise_folds(list(a))[1], summarise_folds(list(b))[1]
    spread = max(full_std, other_std)
    return {
        "n_folds": int(d.size),
        "fold_delta": d.tolist(),
        "mean_delta": mean,
        "std_delta": std,
        "t_test_p": p_t,
        "full_better_folds": better,
        "full_worse_folds": worse,
        "tied_folds": ties,
        "sign_test_p": p_sign,
        "full_fold_std": full_std,
        "ablated_fold_std": other_std,
        "fold_spread": spread,
        "exceeds_fold_spread": abs(mean) > spread,
        "significant": p_t < ALPHA,
        # helps / hurts only when the paired test says so; otherwise the folds cannot tell.
        "verdict": ("helps" if mean < 0 else "hurts") if p_t < ALPHA and mean != 0 else "no clear effect",
    }


def summarise(per_run: dict[str, dict[str, dict]], options: dict) -> dict:
    """The run's results.json: every model × protocol, the paired comparisons, Table 6 beside."""
    first = next(iter(next(iter(per_run.values())).values()))
    rows, comparisons = {}, {}
    for protocol, by_ablation in per_run.items():
        rows[protocol] = {
            a: {
                "params": r["params"],
                "mean_accuracy": r["mean_accuracy"],
                "std_accuracy": r["std_accuracy"],
                "mean_per_class_accuracy": r["mean_per_class_accuracy"],
                "per_class_accuracy": r["per_class_accuracy"],
                "per_class_fold_std": r["per_class_fold_std"],
                "fold_accuracies": [f["accuracy"] for f in r["folds"]],
                "seconds": r["seconds"],
                "confusion_matrix": r["confusion_matrix"],
            }
            for a, r in by_ablation.items()
        }
        if "full" in by_ablation:
            full = rows[protocol]["full"]["fold_accuracies"]
            comparisons[protocol] = {
                a: {"component": COMPONENTS[a], **paired_comparison(full, row["fold_accuracies"])}
                for a, row in rows[protocol].items() if a != "full"
            }
    return {
        "kind": "ablate",
        "dataset": first["dataset"],
        "synthetic": first["synthetic"],
        "class_names": first["class_names"],
        "n_images": first["n_images"],
        "n_subjects": first["n_subjects"],
        "folds": options["folds"],
        "epochs": options["epochs"],
        "seed": options["seed"],
        "recipe": options["recipe"]["name"],
        "ablations": options["ablations"],
        "protocols": options["protocols"],
        "results": rows,
        "comparisons": comparisons,
        "alpha": ALPHA,
        "paper_table6": {"dataset": "oulu", "unit": "%", "rows": paper.TABLE6},
        "command": options["command"],
        "machine": options["machine"],
        "mffcnn": options.get("mffcnn"),
    }


# --------------------------------------------------------------------------- report


def _params_m(n: int) -> str:
    return f"{n / 1e6:.3f}M"


def table_rows(results: dict, protocol: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the Table 6 layout for one protocol: our row, then the paper's, per model."""
    classes = results["class_names"]
    header = ["model", "", "parameters", *classes, "mean of classes", "mean ± std over folds"]
    body = []
    for a, r in results["results"][protocol].items():
        body.append([TITLES[a], "ours", f"{r['params']:,}", *[pct(r["per_class_accuracy"][c]) for c in classes],
                     pct(r["mean_per_class_accuracy"]), f"{pct(r['mean_accuracy'])} ± {pct(r['std_accuracy'])}"])
        ref = paper.TABLE6[a]
        body.append(["", "paper (Oulu-CASIA)", ref["params"],
                     *[f"{ref[c]:.2f}" if c in TABLE6_CLASSES else "–" for c in classes], f"{ref['mean']:.2f}", "–"])
    return header, body


def comparison_rows(results: dict, protocol: str) -> tuple[list[str], list[list[str]]]:
    header = ["component removed", "Δ accuracy (pp), mean ± std over folds", "fold spread σ (pp)",
              "paired t-test p", "full better / worse / tied folds", "sign test p", "exceeds fold spread?",
              "verdict", "paper Δ (pp)"]
    body = []
    for a, c in results["comparisons"].get(protocol, {}).items():
        paper_delta = paper.TABLE6[a]["mean"] - paper.TABLE6["full"]["mean"]
        body.append([
            c["component"],
            f"{100 * c['mean_delta']:+.2f} ± {100 * c['std_delta']:.2f}",
            f"{100 * c['fold_spread']:.2f}",
            f"{c['t_test_p']:.3g}",
            f"{c['full_better_folds']} / {c['full_worse_folds']} / {c['tied_folds']}",
            f"{c['sign_test_p']:.3g}",
            "yes" if c["exceeds_fold_spread"] else "no",
            f"**{c['verdict']}**",
            f"{paper_delta:+.2f}",
        ])
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
        spread = ("larger than" if c["exceeds_fold_spread"] else "within") + f" the fold-to-fold spread (σ = {s:.2f} pp)"
        test = (f"paired t-test p = {c['t_test_p']:.3g}, sign test p = {c['sign_test_p']:.3g}, full model better in "
                f"{c['full_better_folds']} of {c['n_folds']} folds")
        out.append(f"**{c['component'].capitalize()}: {c['verdict']}.** On average {what} "
                   f"({d:+.2f} ± {100 * c['std_delta']:.2f} pp over folds), {spread}; {test}. "
                   f"Paper (Table 6): {paper_delta:+.2f} pp.")
    return out


def _md_table(header: list[str], body: list[list[str]], align: list[str] | None = None) -> list[str]:
    align = align or ["---"] * len(header)
    return ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|", *["| " + " | ".join(r) + " |" for r in body]]


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
        lines += [f"## {PROTOCOL_TITLES.get(protocol, protocol)}", "",
                  *_md_table(header, body, ["---", "---", "---:"] + ["---:"] * (len(header) - 3)), ""]
        if results["comparisons"].get(protocol):
            header, body = comparison_rows(results, protocol)
            lines += [f"Each component against the full model, paired over the {results['folds']} folds "
                      f"(Δ = ablated − full; fold spread σ = the larger of the two models' std over folds; "
                      f"verdict: helps / hurts when the paired t-test gives p < {results['alpha']}, else no clear effect):", "",
                      *_md_table(header, body), "", *[f"- {v}" for v in verdicts(results, protocol)], ""]
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
    from mffcnn.report.figures import plt

    protocols, ablations = results["protocols"], results["ablations"]
    colors = {"random": "#3b75af", "subject": "#e8853c"}
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.2, 1]})
    width = 0.8 / len(protocols)
    xs = np.arange(len(ablations))
    for j, protocol in enumerate(protocols):
        rows = results["results"][protocol]
        means = [100 * rows[a]["mean_accuracy"] for a in ablations]
        stds = [100 * rows[a]["std_accuracy"] for a in ablations]
        ax.bar(xs + (j - (len(protocols) - 1) / 2) * width, means, width, yerr=stds, capsize=3,
               color=colors.get(protocol, f"C{j}"), label=f"ours, {protocol} folds")
    ax.scatter(xs, [paper.TABLE6[a]["mean"] for a in ablations], marker="D", color="black", zorder=5,
               label="paper, Table 6 (Oulu-CASIA)")
    low = min(min(100 * results["results"][p][a]["mean_accuracy"] - 100 * results["results"][p][a]["std_accuracy"]
                  for p in protocols for a in ablations), min(paper.TABLE6[a]["mean"] for a in ablations))
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
            bx.scatter(x + jitter, d, s=12, color=colors.get(protocol, f"C{j}"), alpha=0.8,
                       label=f"{protocol} folds" if i == 0 else None)
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
