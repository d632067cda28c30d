"""Mutation testing, sampled: does the test suite fail when the code that trains and predicts is broken on purpose?

    python bench/mutation.py [--seed 17] [--margin 0.05] [--max-children 2] [--out BENCHMARKS.md]
    python bench/mutation.py --reuse          # report the last sampled run in mutants/ again
    python bench/mutation.py --retest-survivors   # test its survivors again, once tests are written for them

mutmut 3 (configured in pyproject.toml, [tool.mutmut]) copies mffcnn into mutants/ and makes every small change
it knows (an operator flipped, a constant moved, an argument dropped) in the modules that must not break
silently: model/, train/, data/preprocess.py, data/face.py and the predict pipeline. Testing all of them is
hours on 2 cores, so this script tests a random sample: a fixed seed, stratified by module (each module's share
of the sample is its share of the mutants, rounded up), and as large as a ±margin interval at 95 % confidence
on the overall kill rate needs at worst (p = 0.5), with the finite-population correction. mutmut runs, for each
sampled mutant, only the tests that executed the mutated function in its stats run (it records which tests reach
which function); a test that fails kills it. A mutant whose tests all pass is a survivor.

Writes, to its section of BENCHMARKS.md: the population and the sample per module, the kill rate per module with
its Wilson 95 % interval, the overall (stratified) rate with its interval, the run's wall time, and every
survivor by name (`mutmut show NAME` prints its diff), with the triage kept in SURVIVOR_TRIAGE below.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from markdown import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
SAMPLE_FILE = MUTANTS / "sample.json"  # the sampled names, the seed and the run's time: what --reuse reads
MODULES = {  # the strata and the report's rows: a name → how the mutants' names start
    "model/": "mffcnn.model.",
    "train/": "mffcnn.train.",
    "data/preprocess.py": "mffcnn.data.preprocess.",
    "data/face.py": "mffcnn.data.face.",
    "predict/pipeline.py": "mffcnn.predict.pipeline.",
}
Z95 = 1.959963984540054  # the two-sided 95 % normal quantile
# mutmut's exit codes (mutmut/stats.py): 0 the tests passed (survived); 1 or 3 a test failed or pytest broke
# (killed); the timeouts (SIGXCPU) and crashes of the mutated code count as killed too: the suite noticed.
# A mutant of a function no selected test reaches (33, or 5: no tests collected) survives too: the suite
# cannot see it.
SURVIVED = {0, 5, 33}
NOT_RUN = {None, 34}  # not checked (the run was stopped), skipped

# Surviving mutants the tests cannot see because they change nothing observable: name → why. A survivor not in
# this list is a gap in the suite (the report says "untriaged"); give it a test or explain it here.
EQUIVALENT = "equivalent: "
SURVIVOR_TRIAGE: dict[str, str] = {
    "mffcnn.data.face.x__cascade__mutmut_6": EQUIVALENT + "the per-thread cache of cascades under another key name "
    "works the same",
    "mffcnn.data.face.x_crop_box__mutmut_49": EQUIVALENT + "a border of at least 1 pixel is always added, and the "
    "crop's offset moves by the same amount: the same pixels",
    "mffcnn.predict.pipeline.xǁ_Runǁstream__mutmut_32": EQUIVALENT + "a video of exactly 1,000 frames per second "
    "then takes its times from the frame rate instead of the decoder's position, which are the same for a file "
    "whose frame rate is true (the bound is for headers that lie: 0 or absurd rates)",
    "mffcnn.predict.pipeline.xǁ_Runǁstream__mutmut_84": EQUIVALENT + "OpenCV's read returns (False, None) "
    "together or (True, a frame): `not ok and frame is None` decides the same",
    "mffcnn.train.loop.x_load_state__mutmut_3": EQUIVALENT + "torch is the CPU build and training states are saved "
    "from CPU tensors: map_location None loads them on the CPU as 'cpu' does",
    "mffcnn.train.loop.x_save_state__mutmut_5": EQUIVALENT + "the temporary file's name (.tmp or .TMP) is renamed "
    "away at once; nothing else reads it",
    "mffcnn.train.warm_start.x_warm_start__mutmut_10": EQUIVALENT + "None and False are both false for `if head_seen`",
    "mffcnn.train.loop.x_train_one_epoch__mutmut_42": EQUIVALENT + "the batch is not moved to the model's device; "
    "with the CPU build of torch that device is the CPU, where the batch is already",
    "mffcnn.train.loop.x_train_one_epoch__mutmut_55": EQUIVALENT + "the labels are not moved to the model's device: "
    "the CPU, where they are already (CPU build of torch)",
    "mffcnn.model.image_branch.xǁImageBranchǁ__init____mutmut_69": EQUIVALENT + "ReLU(inplace=None) is "
    "ReLU(inplace=False): the same values, one more buffer",
    "mffcnn.model.image_branch.xǁImageBranchǁ__init____mutmut_70": EQUIVALENT + "ReLU not in place: the same "
    "values, one more buffer",
    "mffcnn.model.mffcnn.xǁMFFCNNǁforward__mutmut_27": EQUIVALENT + "softmax with dim=None on (B, C) logits takes "
    "dim 1, as written",
    "mffcnn.train.loop.x_fit__mutmut_108": EQUIVALENT + "the GradScaler exists only for float16 on CUDA; on the "
    "CPU build the scaler is None either way",
    "mffcnn.train.loop.x_fit__mutmut_87": EQUIVALENT + "the DDP device_ids test for 'cuda' on the CPU build: "
    "None either way",
    "mffcnn.train.loop.x_fit__mutmut_80": "not tested in the sample: DDP wrapping runs only under torchrun, which "
    "tests/test_distributed.py covers outside the mutation selection (two processes, minutes per mutant)",
    "mffcnn.train.loop.x_fit__mutmut_82": "not tested in the sample: DDP wrapping runs only under torchrun, which "
    "tests/test_distributed.py covers outside the mutation selection (two processes, minutes per mutant)",
    "mffcnn.train.loop.x_train_one_epoch__mutmut_80": "equivalent up to rounding: each batch's loss sum is kept "
    "in float32 instead of float64 before it is added to the epoch's float64 total; the reported mean loss moves in "
    "its 7th digit, which no test (and no user) can tell from the arithmetic's own rounding",
}


def sample_size(population: int, margin: float, p: float = 0.5) -> int:
    """The simple-random-sample size for a ±margin 95 % interval on a proportion near p, with the
    finite-population correction (Cochran): n0 = z² p (1-p) / margin², n = n0 / (1 + (n0 - 1) / N)."""
    n0 = Z95**2 * p * (1 - p) / margin**2
    return min(population, math.ceil(n0 / (1 + (n0 - 1) / population)))


def allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """Proportional allocation, each stratum rounded up: a stratified sample allocated in proportion has a variance
    no larger than a simple random sample of the same size, so the overall margin holds."""
    total = sum(sizes.values())
    return {k: min(v, math.ceil(n * v / total)) for k, v in sizes.items()}


def wilson(killed: int, n: int) -> tuple[float, float]:
    """Wilson score 95 % interval of killed / n (sound at the small per-module sizes and at rates near 1)."""
    if n == 0:
        return 0.0, 1.0
    p = killed / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def stratified(rows: dict[str, tuple[int, int, int]]) -> tuple[float, float]:
    """Overall kill rate over the population, each module weighted by its share of the mutants, and its 95 %
    half-width: Var = Σ W_h² (1 - n_h/N_h) p_h (1 - p_h) / (n_h - 1). rows: module → (N_h, n_h, killed_h)."""
    population = sum(big for big, _, _ in rows.values())
    rate = var = 0.0
    for big, n, killed in rows.values():
        if n == 0:
            continue
        w, p = big / population, killed / n
        rate += w * p
        if n > 1:
            var += w * w * (1 - n / big) * p * (1 - p) / (n - 1)
    return rate, Z95 * math.sqrt(var)


def module_of(name: str) -> str | None:
    return next((m for m, prefix in MODULES.items() if name.startswith(prefix)), None)


def outcomes() -> dict[str, int | None]:
    """Every mutant's test exit code (None: not run), from mutmut's .meta files."""
    codes: dict[str, int | None] = {}
    for meta in MUTANTS.rglob("*.meta"):
        codes.update(json.loads(meta.read_text())["exit_code_by_key"])
    return codes


def generate() -> list[str]:
    """mutmut's first step alone (copy the sources to mutants/, write every mutant into them), in this process:
    the names to sample from. mutmut run does this again, and keeps the same names (they are derived from the
    functions and an index, not random)."""
    from mutmut import __main__ as mm

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        mm.set_mutant_under_test("mutant_generation")
        MUTANTS.mkdir(exist_ok=True)
        mm.copy_src_dir()
        mm.copy_also_copy_files()
        mm.setup_source_paths()
        mm.store_lines_covered_by_tests()
        mm.create_mutants(2)
    finally:
        os.chdir(cwd)
    return sorted(outcomes())


def draw(names: list[str], seed: int, margin: float) -> dict[str, list[str]]:
    """The stratified sample: module → its sampled mutant names (sorted, then drawn with the seed)."""
    strata: dict[str, list[str]] = defaultdict(list)
    for name in sorted(names):
        module = module_of(name)
        if module:
            strata[module].append(name)
    n = sample_size(sum(map(len, strata.values())), margin)
    rng = random.Random(seed)
    return {m: sorted(rng.sample(strata[m], k)) for m, k in allocate({m: len(v) for m, v in strata.items()}, n).items()}


def killed_rows(sample: dict, codes: dict[str, int | None]) -> dict[str, tuple[int, int, int]]:
    """module → (its mutants, sampled mutants tested, killed)."""
    rows = {}
    for module, names in sample["names"].items():
        tested = [n for n in names if codes.get(n) not in NOT_RUN]
        rows[module] = (sample["population"][module], len(tested), sum(codes[n] not in SURVIVED for n in tested))
    return rows


def final_codes(sample: dict) -> dict[str, int | None]:
    """Each sampled mutant's result against the suite as it is now: mutmut's last, or a check's; and, where
    mutmut dropped a result because new tests reach the function (its results are per function), the first
    pass's kill: the tests then were a subset of the tests now, so what failed then fails now."""
    codes = {**outcomes(), **sample.get("checked", {})}
    for name, first in sample.get("first_codes", {}).items():
        if codes.get(name) is None and first not in NOT_RUN and first not in SURVIVED:
            codes[name] = first
    return codes


def report(out: str, sample: dict, codes: dict[str, int | None], reused: bool) -> None:
    rows, table, listing = {}, [], []
    first = killed_rows(sample, sample.get("first_codes", codes))  # before the survivors' tests were written
    for module, names in sample["names"].items():
        tested = [n for n in names if codes.get(n) not in NOT_RUN]
        survivors = [n for n in tested if codes[n] in SURVIVED]
        killed = len(tested) - len(survivors)
        rows[module] = (sample["population"][module], len(tested), killed)
        lo, hi = wilson(killed, len(tested))
        _, tested_first, killed_first = first[module]
        table.append(
            f"| {module} | {sample['population'][module]} | {len(names)} | {len(names) - len(tested)} | "
            f"{100 * killed_first / max(tested_first, 1):.1f} % | {killed} | {len(survivors)} | "
            f"**{100 * killed / max(len(tested), 1):.1f} %** | {100 * lo:.1f}–{100 * hi:.1f} % |"
        )
        for name in survivors:
            why = SURVIVOR_TRIAGE.get(name, "untriaged: a gap in the suite")
            if name not in SURVIVOR_TRIAGE and sample.get("checks") and name not in sample.get("checked", {}):
                why = "not yet checked: tests/test_mutants.py has a test for it, not run against it before the stop"
            if codes[name] != 0:
                why = f"no selected test reaches it; {why}"
            listing.append(f"- {module} `{name}`: {why}")
    rate, half = stratified(rows)
    n_all, k_all = sum(r[1] for r in rows.values()), sum(r[2] for r in rows.values())
    table.append(
        f"| **all (stratified)** | {sum(sample['population'].values())} | "
        f"{sum(map(len, sample['names'].values()))} | {sum(map(len, sample['names'].values())) - n_all} | "
        f"{100 * stratified(first)[0]:.1f} % | {k_all} | {n_all - k_all} | **{100 * rate:.1f} %** | "
        f"{100 * (rate - half):.1f}–{100 * min(1.0, rate + half):.1f} % |"
    )
    retests = sample.get("retests", [])
    retested = (
        " Then the survivors, and the sampled mutants not yet tested (the first pass was stopped; mutmut also "
        "drops the results of functions that new tests reach), were tested with the tests written for the "
        "survivors (tests/test_mutants.py, in the selection since): "
        + "; ".join(
            f"{r['mutants']} mutants in {r['wall_min']:.1f} min"
            + (f" ({r['cpu_min']:.1f} CPU min)" if "cpu_min" in r else "")
            for r in retests
        )
        + "."
        if retests
        else ""
    )
    checks = sample.get("checks", [])
    checked = (
        " The survivors left were then run against the tests written for them since ("
        + "; ".join(
            f"{c['mutants']} mutants against {', '.join(c['tests'])} in {c['wall_min']:.1f} min"
            + (f" ({c['cpu_min']:.1f} CPU min)" if "cpu_min" in c else "")
            + c.get("note", "")
            for c in checks
        )
        + "), each as mutmut runs it (MUTANT_UNDER_TEST, in mutants/, -x)."
        if checks
        else ""
    )
    write_section(
        out,
        "mutation",
        "Mutation testing, a stratified sample",
        [
            f"mutmut {sample['mutmut']} (pyproject.toml [tool.mutmut]) over the code as of this branch; "
            f"{sum(sample['population'].values())} mutants in model/, train/, data/preprocess.py, data/face.py and "
            f"predict/pipeline.py. A random sample (seed {sample['seed']}), stratified by module in proportion, "
            f"sized for ±{100 * sample['margin']:.0f} % at 95 % confidence overall with the finite-population "
            f"correction: {sum(map(len, sample['names'].values()))} mutants. For each, mutmut runs the tests that "
            "executed the mutated function in its stats run; killed: one failed (or the mutant crashed or timed out). "
            "Per-module intervals are Wilson 95 %; the overall rate weights each module by its share of the mutants. "
            f"The sample's run took {sample['wall_min']:.1f} min wall time ({sample['cpu_min']:.1f} CPU min) with "
            f"{sample['max_children']} mutants at once (niced, the machine shared with other jobs)."
            + sample.get("note", "")
            + retested
            + checked
            + (" Reported again from the stored run." if reused else ""),
            "",
            "| module | mutants | sampled | not run | killed % at first | killed | survived | killed % | 95 % interval |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            *table,
            "",
            "Survivors (`mutmut show NAME` prints the change) and their triage:",
            "",
            *(listing or ["- none"]),
        ],
    )


def mutmut_run(max_children: int, names: list[str]) -> None:
    """`mutmut run NAMES`, each mutant's tests in the order of their durations in the stats run, fastest first:
    mutmut stops at the first failing test (-x), so a mutant that a quick test kills costs that test only, not
    the slow ones that reach the same function. (mutmut passes the tests in the order of a set.)"""
    from mutmut import __main__ as mm
    from mutmut.runners import harness
    from mutmut.state import state

    regular = harness.PytestRunner._pytest_args_regular_run

    def fastest_first(self, tests):
        durations = state().duration_by_test
        return regular(self, sorted(tests, key=lambda t: (durations.get(t, 0.0), t)))

    harness.PytestRunner._pytest_args_regular_run = fastest_first
    mm.cli(["run", "--max-children", str(max_children), *names])


def check(names: list[str], tests: list[str], max_children: int) -> dict[str, int]:
    """Each mutant against `tests` alone, as mutmut tests one (its trampolines switch to the mutant named in
    MUTANT_UNDER_TEST; pytest runs in mutants/, on the mutated copy, -x): name → pytest's exit code. The test
    files are copied into mutants/ first. For survivors that new tests were written for, without another mutmut
    run (which would drop and redo every result of a function the new tests reach)."""
    import shutil

    for test in tests:
        shutil.copy2(ROOT / test, MUTANTS / test)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PY_IGNORE_IMPORTMISMATCH": "1"}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-n", "0", *tests]
    clean = subprocess.run(command, cwd=MUTANTS, env={**env, "MUTANT_UNDER_TEST": ""}, capture_output=True)
    if clean.returncode:
        raise SystemExit(f"{' '.join(tests)} fail without a mutant:\n{clean.stdout.decode()[-2000:]}")

    def one(name: str) -> int:
        run = subprocess.run(command, cwd=MUTANTS, env={**env, "MUTANT_UNDER_TEST": name}, capture_output=True)
        print(f"{'killed' if run.returncode else 'survived'}: {name}", flush=True)
        return run.returncode

    with ThreadPoolExecutor(max_children) as pool:
        return dict(zip(names, pool.map(one, names)))


def children_cpu_s() -> float:
    """CPU seconds of this process's finished children and theirs (mutmut's workers among them)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_mutmut(max_children: int, names: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # the workers are forked: one thread each, no pool to inherit
    return subprocess.run([sys.executable, __file__, "--mutmut-run", str(max_children), *names], cwd=ROOT, env=env)


def main() -> None:
    if sys.argv[1:2] == ["--mutmut-run"]:  # the child process this script starts (see mutmut_run)
        mutmut_run(int(sys.argv[2]), sys.argv[3:])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=17, help="the sample's seed")
    ap.add_argument("--margin", type=float, default=0.05, help="the overall 95 %% half-width the sample is sized for")
    ap.add_argument("--max-children", type=int, default=2, help="mutants tested at once")
    ap.add_argument("--reuse", action="store_true", help="report the last sampled run in mutants/ without running")
    ap.add_argument(
        "--check-survivors",
        nargs="+",
        metavar="TEST_FILE",
        help="run the last sample's survivors against these test files only (see check), then report",
    )
    ap.add_argument(
        "--retest-survivors",
        action="store_true",
        help="test the last sample's survivors again (after tests were written for them), then report",
    )
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()
    if not 0 < args.margin < 0.5:
        raise SystemExit("--margin must be between 0 and 0.5")

    if args.reuse or args.retest_survivors or args.check_survivors:
        if not SAMPLE_FILE.exists():
            raise SystemExit(f"no sampled run in {MUTANTS}: run without --reuse first")
        sample = json.loads(SAMPLE_FILE.read_text())
        if args.retest_survivors:
            codes = outcomes()
            flat = [n for group in sample["names"].values() for n in group]
            sample.setdefault("first_codes", {n: codes.get(n) for n in flat})
            # The survivors, and the sampled mutants not tested (a stopped run; or mutmut dropped their results
            # because new tests reach their functions).
            survivors = [n for n in flat if codes.get(n) in SURVIVED or codes.get(n) is None]
            start, cpu = time.monotonic(), children_cpu_s()
            run = run_mutmut(sample["max_children"], survivors)
            sample.setdefault("retests", []).append(
                {
                    "mutants": len(survivors),
                    "wall_min": (time.monotonic() - start) / 60,
                    "cpu_min": (children_cpu_s() - cpu) / 60,
                }
            )
            SAMPLE_FILE.write_text(json.dumps(sample, indent=1))
            if run.returncode:
                raise SystemExit(f"mutmut run failed (exit {run.returncode})")
        if args.check_survivors:
            codes = {**outcomes(), **sample.get("checked", {})}
            flat = [n for group in sample["names"].values() for n in group]
            start, cpu = time.monotonic(), children_cpu_s()
            todo = [n for n in flat if codes.get(n) in SURVIVED and n not in SURVIVOR_TRIAGE]
            checked = check(todo, args.check_survivors, args.max_children)
            sample.setdefault("checked", {}).update(checked)
            sample.setdefault("checks", []).append(
                {
                    "mutants": len(checked),
                    "tests": args.check_survivors,
                    "wall_min": (time.monotonic() - start) / 60,
                    "cpu_min": (children_cpu_s() - cpu) / 60,
                }
            )
            SAMPLE_FILE.write_text(json.dumps(sample, indent=1))
    else:
        from importlib.metadata import version

        names = draw(generate(), args.seed, args.margin)
        population = defaultdict(int)
        for name in outcomes():
            if module_of(name):
                population[module_of(name)] += 1
        sample = {
            "seed": args.seed,
            "margin": args.margin,
            "max_children": args.max_children,
            "mutmut": version("mutmut"),
            "population": dict(population),
            "names": names,
        }
        start, cpu = time.monotonic(), children_cpu_s()
        run = run_mutmut(args.max_children, [n for group in names.values() for n in group])
        sample["wall_min"] = (time.monotonic() - start) / 60
        sample["cpu_min"] = (children_cpu_s() - cpu) / 60
        SAMPLE_FILE.write_text(json.dumps(sample, indent=1))
        if run.returncode:
            raise SystemExit(f"mutmut run failed (exit {run.returncode})")
    report(args.out, sample, final_codes(sample), args.reuse)


if __name__ == "__main__":
    main()
