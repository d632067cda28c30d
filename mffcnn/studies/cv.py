"""`mffcnn cv`: the paper's 10-fold experiment (§4) on a dataset, under both protocols, resumable.

A numbered run folder (runs/cv/expN) holds the resolved options, each protocol's folds, results and
report; `resume` skips finished folds and continues the one in progress. Under torchrun it trains with DDP;
only rank 0 writes files.
"""

from __future__ import annotations

from pathlib import Path

from mffcnn.data.faceset import FaceSet
from mffcnn.errors import MffcnnError
from mffcnn.model import MFFCNNConfig
from mffcnn.report.cv import write_run_report
from mffcnn.runs import write_json
from mffcnn.studies import _run
from mffcnn.studies._run import StudyOptions
from mffcnn.train import distributed
from mffcnn.train.folds import PROTOCOLS, check_folds
from mffcnn.train.loop import resolve_device

SPREADS = ("batches", "folds")


def cross_validate(
    dataset: str,
    root: str | Path | None = None,
    *,
    protocol: str = "both",
    folds: int = 10,
    spread: str = "batches",
    dataset_options: dict | None = None,
    model_config: MFFCNNConfig | None = None,
    options: StudyOptions | None = None,
    **option_values,
) -> tuple[Path, list[dict]]:
    """Run 10-fold CV of MFF-CNN on a dataset; returns the run folder and one result per protocol.

    protocol: random (the paper's), subject (no person in train and test) or both. spread: under torchrun,
    split each batch over the processes (DDP) or give each process whole folds. options (or the same names as
    keywords: recipe, epochs, lr, seed, device, amp, init, project, name, verbose, command): StudyOptions. With
    init every fold starts from that checkpoint, which must not have been trained on the dataset's people."""
    options = StudyOptions.of(options, **option_values)
    protocols = list(PROTOCOLS) if protocol == "both" else [protocol]
    if any(p not in PROTOCOLS for p in protocols):
        raise MffcnnError(f"unknown protocol {protocol!r}; choose from random, subject, both")
    if folds < 2:
        raise MffcnnError("--folds must be at least 2")
    if spread not in SPREADS:
        raise MffcnnError(f"unknown spread {spread!r}; choose from {', '.join(SPREADS)}")
    s = _run.setup(dataset, root, dataset_options, options)
    check_folds(s.faceset, protocols, folds)
    config = s.model_config(model_config)
    report = _run.init_report(options.init, config, s.faceset, tested=True, verbose=options.verbose and s.dist.is_main)
    run_dir = _run.new_run(options.project, "cv", options.name, s.dist)
    recorded = _run.recorded_setup(s, dataset, root, dataset_options, options, "cross_validate")
    recorded |= {
        "protocols": protocols,
        "folds": folds,
        "spread": spread,
        "init_report": report,
        "world_size": s.dist.world,
        "model": config.to_dict(),
    }
    if s.dist.is_main:
        write_json(run_dir / "options.json", recorded)
    return run_dir, _run_cv(run_dir, s.faceset, recorded, s.device, s.dist, verbose=options.verbose)


def resume(run_dir: str | Path | None = None, *, project: str | Path = "runs", verbose: bool = True):
    """Finish an interrupted cross-validation (the latest under project/cv when run_dir is None)."""
    run_dir, recorded = _run.find_run(run_dir, project, "cv", "run")
    device = resolve_device(recorded.get("device", "auto"))
    dist = distributed.from_env(device)
    faceset = _run.reload_faceset(recorded, run_dir)
    if verbose and dist.is_main:
        import sys

        print(f"resuming {run_dir}", file=sys.stderr)
    return run_dir, _run_cv(run_dir, faceset, recorded, device, dist, verbose=verbose)


def _run_cv(run_dir: Path, faceset: FaceSet, recorded: dict, device, dist, *, verbose: bool) -> list[dict]:
    training = _run.recorded_training(recorded, MFFCNNConfig.from_dict(recorded["model"]), device, dist)
    facts = {"init": recorded.get("init"), "world_size": dist.world, "device": str(device)}
    all_results = []
    for protocol in recorded["protocols"]:
        out = run_dir / protocol
        all_results.append(
            _run.run_protocol(faceset, out, training, recorded, protocol, verbose=verbose, extra_of=lambda _: facts)
        )
    if dist.is_main:
        write_run_report(run_dir, all_results, recorded)
    return all_results
