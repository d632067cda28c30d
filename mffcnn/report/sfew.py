"""The SFEW 2.0 protocol's report (§4.6): Val accuracy per class beside the paper's Fig. 7."""

from __future__ import annotations

from mffcnn.report.text import pct


def report_markdown(r: dict) -> str:
    pre = r["pretraining"]
    if pre:
        names = ", ".join(d["dataset"] for d in pre["datasets"])
        counts = ", ".join(f"{c} {n}" for c, n in pre["class_counts"].items())
        missing = (
            ""
            if any(d["dataset"] == "oulu" for d in pre["datasets"])
            else " Oulu-CASIA, which the paper also used, was not part of it."
        )
        pre_text = f"Pretrained {pre['epochs']} epochs on {names}: {pre['n_images']} images ({counts}).{missing}" + (
            "" if pre["neutral"] else " No neutral images in pretraining."
        )
    elif r["init"]:
        pre_text = f"Started from the checkpoint `{r['init']}` instead of pretraining."
    else:
        pre_text = "**No pretraining**: trained on SFEW Train from scratch."
    lines = [
        "# mffcnn sfew: SFEW 2.0, the paper's protocol (§4.6)",
        "",
        f"**Validation accuracy {pct(r['accuracy'])} %** on {r['n_val']} images; the paper reports "
        f"{pct(r['paper']['accuracy'])} % (Table 5). Mean of per-class accuracies {pct(r['mean_per_class_accuracy'])} %.",
        "",
        pre_text + f" Then {r['epochs']} epochs on SFEW Train ({r['n_train']} images), recipe "
        f"`{r['recipe']['name']}`, seed {r['seed']}.",
        "",
        f"SFEW Val: {r['val_dropped']} images dropped before testing (blank failed alignments and unreadable files, "
        "see options.json); the paper's faces came from RetinaFace on the original frames, ours are the released "
        "aligned faces.",
        "",
        "| class | ours (%) | paper, Fig. 7 (%) |" + (" from scratch (%) |" if "baseline" in r else ""),
        "|---|---:|---:|" + ("---:|" if "baseline" in r else ""),
    ]
    for c in r["class_names"]:
        row = f"| {c} | {pct(r['per_class_accuracy'].get(c))} | {pct(r['paper']['per_class_accuracy'].get(c))} |"
        if "baseline" in r:
            row += f" {pct(r['baseline']['per_class_accuracy'].get(c))} |"
        lines.append(row)
    lines.append(
        f"| **all** | **{pct(r['accuracy'])}** | **{pct(r['paper']['accuracy'])}** |"
        + (f" {pct(r['baseline']['accuracy'])} |" if "baseline" in r else "")
    )
    timing = ", ".join(f"{k.replace('_seconds', '')} {v / 60:.1f} min" for k, v in r.items() if k.endswith("_seconds"))
    lines += [
        "",
        "![confusion matrix](confusion.png)",
        "",
        f"Time: {timing}. Machine: {r['machine']['cpu']}, torch {r['machine']['torch']}.  ",
        f"Command: `{r['command']}`" if r.get("command") else "",
        "",
    ]
    return "\n".join(lines)
