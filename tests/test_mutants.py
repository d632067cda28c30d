"""What the sampled mutation run (bench/mutation.py) found the suite blind to, now pinned: each test names the
behaviour a surviving mutant changed. Fast, in-process, on the sample photo and tiny synthetic data."""

import math
import threading

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mffcnn import predict as lib
from mffcnn.data import face
from mffcnn.data.datasets import synthetic
from mffcnn.data.face import Box, DetectorSettings, crop_box, detect_faces
from mffcnn.data.images import ImageError
from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import MffcnnError
from mffcnn.model import MFFCNNConfig
from mffcnn.model.config import ablation_config
from mffcnn.model.mffcnn import face_weights, soft_targets
from mffcnn.predict import pipeline
from mffcnn.train import distributed, loop
from mffcnn.train.folds import make_folds
from mffcnn.train.recipes import Recipe
from mffcnn.train.warm_start import WarmStart


@pytest.fixture(scope="module")
def grey():
    return cv2.imread(str(lib.SAMPLE_IMAGE), cv2.IMREAD_GRAYSCALE)  # 512×512, one face


# --- data/face.py ---------------------------------------------------------------------------------------------


def reference_crop(img: np.ndarray, box: Box, margin: float) -> np.ndarray:
    """The crop as its docstring says, computed another way: the grown square box centred on the box's centre,
    every pixel outside the image taken from the nearest border pixel (index clipping, not padding)."""
    side = max(box.w, box.h) * (1 + 2 * margin)
    x0 = int(round(box.x + box.w / 2 - side / 2))
    y0 = int(round(box.y + box.h / 2 - side / 2))
    s = int(round(side))
    ys = np.clip(np.arange(y0, y0 + s), 0, img.shape[0] - 1)
    xs = np.clip(np.arange(x0, x0 + s), 0, img.shape[1] - 1)
    return img[np.ix_(ys, xs)]


@pytest.mark.parametrize(
    "box, margin",
    [
        (Box(10, 8, 12, 16), 0.0),  # inside, taller than wide
        (Box(14, 9, 16, 10), 0.25),  # inside, wider than tall
        (Box(0, 0, 10, 14), 0.3),  # over the top-left corner once grown
        (Box(30, 22, 9, 8), 0.5),  # over the bottom-right corner
        (Box(-4, 20, 12, 12), 0.0),  # left of the image
        (Box(36, 28, 10, 10), 0.2),  # over the bottom and the right edges
        (Box(20, 30, 8, 12), 0.0),  # over the bottom edge only
        (Box(40, 5, 8, 8), 0.0),  # over the right edge only
    ],
)
def test_crop_box_is_the_grown_square_with_replicated_borders(box, margin):
    img = np.random.default_rng(0).integers(0, 256, (36, 44), dtype=np.uint8)
    want = reference_crop(img, box, margin)
    got = crop_box(img, box, margin=margin, size=want.shape[0])  # the crop's own size: no resizing
    np.testing.assert_array_equal(got, want)


def test_the_detector_sees_the_image_shrunk_to_max_side(grey):
    (full,) = detect_faces(grey, DetectorSettings())
    assert detect_faces(grey, DetectorSettings(max_side=40)) == []  # the face is 6 px there: below the window
    (half,) = detect_faces(grey, DetectorSettings(max_side=256))  # found at half size, in full-size pixels
    centre = lambda b: np.array([b.x + b.w / 2, b.y + b.h / 2])
    assert np.abs(centre(half) - centre(full)).max() <= 0.1 * full.w and abs(half.w - full.w) <= 0.2 * full.w


def test_each_thread_loads_its_own_cascade_and_a_missing_one_is_a_clear_error(grey):
    found = []
    alt = DetectorSettings(cascade="haarcascade_frontalface_alt.xml")
    worker = threading.Thread(target=lambda: found.append(detect_faces(grey, alt)))
    worker.start()
    worker.join()
    assert len(found[0]) == 1
    with pytest.raises(ImageError, match="cannot load the Haar cascade 'no_such_cascade.xml'"):
        face._load_cascade("no_such_cascade.xml")


# --- data/preprocess.py ---------------------------------------------------------------------------------------


def test_find_face_uses_the_preprocessing_own_detector_settings(grey):
    box, found = Preprocessing(detect_face=True).find_face(grey)
    assert found and box is not None
    demanding = Preprocessing(detect_face=True, no_face="whole", detector=DetectorSettings(min_size=0.9))
    assert demanding.find_face(grey) == (None, False)  # no face fills 90 % of the image


def test_crop_or_whole_says_whether_a_face_was_found(grey):
    p = Preprocessing(detect_face=True, no_face="whole")
    crop, found = p.crop_or_whole(grey)
    assert found and crop.shape == (60, 60)
    np.testing.assert_array_equal(crop, p.crop_at(grey, p.find_face(grey)[0]))
    wall = np.full((200, 200), 90, np.uint8)
    crop, found = p.crop_or_whole(wall)
    assert not found
    np.testing.assert_array_equal(crop, p.resize(wall))


def test_faces_are_stored_as_uint8_and_to_tensor_normalises_as_asked():
    pixels = np.arange(2 * 60 * 60, dtype=np.float64).reshape(2, 60, 60) % 256
    assert Preprocessing().faces(pixels).pixels.dtype == torch.uint8
    unit = Preprocessing(normalisation="unit").to_tensor(pixels.astype(np.uint8))
    assert torch.allclose(unit, torch.from_numpy(pixels).float().unsqueeze(1) / 255)


# --- model/ ---------------------------------------------------------------------------------------------------


def test_soft_targets_and_face_weights_exactly():
    hard = torch.tensor([0, 2])
    assert torch.equal(soft_targets(hard, 3), torch.tensor([[1.0, 0, 0], [0, 0, 1]]))
    smoothed = soft_targets(hard, 4, label_smoothing=0.2)
    assert torch.allclose(smoothed[0], torch.tensor([0.85, 0.05, 0.05, 0.05]))
    votes = torch.tensor([[0.5, 0.5, 0.0]])
    assert torch.equal(soft_targets(votes, 3), votes)  # (B, C) targets are used as they are
    weights = torch.tensor([1.0, 2.0, 4.0])
    assert face_weights(soft_targets(hard, 3), None) is None
    assert torch.equal(face_weights(soft_targets(hard, 3), weights), torch.tensor([1.0, 4.0]))
    assert torch.equal(face_weights(votes, weights), torch.tensor([1.5]))


def test_an_unknown_ablation_names_the_choices():
    with pytest.raises(ValueError, match=r"unknown ablation 'nope'; choose from full, "):
        ablation_config("nope")


# --- train/ ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cores, local, share", [(8, 2, 4), (2, 4, 1)])
def test_each_torchrun_process_gets_its_share_of_the_cores(monkeypatch, cores, local, share):
    threads, backends = [], []
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", str(local))
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: False)
    monkeypatch.setattr(distributed.dist, "init_process_group", lambda backend: backends.append(backend))
    monkeypatch.setattr(distributed.os, "cpu_count", lambda: cores)
    monkeypatch.setattr(distributed.torch, "set_num_threads", threads.append)
    d = distributed.from_env(torch.device("cpu"))
    assert (d.rank, d.world, d.local_rank, threads, backends) == (3, 4, 1, [share], ["gloo"])


def folds_of(per_class: int, subjects: int = 4):
    return synthetic.load(subjects=subjects, per_class=per_class)


def test_make_folds_warns_only_when_a_class_is_smaller_than_the_folds(capsys):
    make_folds(folds_of(per_class=1), "random", 4, seed=0)  # 4 subjects × 1: 4 images per class, 4 folds
    assert capsys.readouterr().err == ""
    make_folds(folds_of(per_class=1, subjects=3), "subject", 3, seed=0)  # 3 per class, 3 folds
    assert capsys.readouterr().err == ""
    fs = folds_of(per_class=1, subjects=5)
    fs.labels[fs.labels == 1] = 0  # class 1 gone: class 0 has 10 faces, the others 5
    fs.labels[:1] = 1  # and class 1 has one face: fewer than 2 folds
    make_folds(fs, "random", 2, seed=0)
    assert "the smallest class has 1 images, fewer than 2 folds: some test folds lack it" in capsys.readouterr().err


def test_random_folds_are_shuffled_stratified_and_ignore_subjects():
    fs = folds_of(per_class=2)
    a, b = make_folds(fs, "random", 2, seed=0), make_folds(fs, "random", 2, seed=1)
    assert any(not np.array_equal(ta, tb) for (_, ta), (_, tb) in zip(a, b))  # the seed shuffles
    assert any(set(fs.subjects[tr]) & set(fs.subjects[te]) for tr, te in a)  # subjects are split across folds


def test_subject_folds_refuse_more_folds_than_subjects():
    with pytest.raises(MffcnnError, match=r"4 subjects, fewer than 5 folds; use --folds 4"):
        make_folds(folds_of(per_class=1), "subject", 5, seed=0)


class _Drawn(Exception):
    """Stops fit once its first epoch's batches are drawn: what they were drawn with is the test."""


def test_class_balanced_sampling_draws_with_the_class_weights(monkeypatch):
    fs = synthetic.load(subjects=1, per_class=2)
    x, y = fs.preprocessing.to_tensor(fs.images), torch.from_numpy(fs.labels)
    y[:4] = 0  # class 0: 4 faces of 14 (two of class 1 and two of class 2 relabelled)
    seen = []

    def drawn(n, batch_size, seed, epoch, weights=None):
        seen.append(weights)
        raise _Drawn

    monkeypatch.setattr(loop, "epoch_batches", drawn)
    recipe = Recipe("t", lr=0.001, batch_size=16, sampling_power=1.0)
    with pytest.raises(_Drawn):
        loop.fit(x, y, loop.Training(model_config=MFFCNNConfig(), recipe=recipe, epochs=1, seed=0))
    (weights,) = seen
    counts = torch.bincount(y, minlength=7).float()
    want = loop.class_weights(y, 7, 1.0)[y]
    assert torch.equal(weights, want) and weights[0] < weights[-1]  # the big class drawn less per face
    assert torch.allclose(weights * counts[y], (weights * counts[y])[0].expand(len(y)))  # each class as often
    seen.clear()
    soft = torch.nn.functional.one_hot(y, 7).float()  # the same labels as soft targets (FER+'s votes)
    with pytest.raises(_Drawn):
        loop.fit(x, soft, loop.Training(model_config=MFFCNNConfig(), recipe=recipe, epochs=1, seed=0))
    assert torch.equal(seen[0], loop.class_weights(soft, 7, 1.0)[y])  # each face weighted by its top class


def disk(radius: float, size: int = 41) -> torch.Tensor:
    yy, xx = np.mgrid[:size, :size] - size // 2
    return torch.from_numpy((xx**2 + yy**2 <= radius**2).astype(np.float32))[None, None]


def draws_of(angle: float = 0.5, zoom: float = 0.5) -> torch.Tensor:
    """One face's jitter draws: no flip, the rotation and zoom draws as given (0.5: none), no shift."""
    return torch.tensor([[0.9, angle, zoom, 0.5, 0.5]])


def test_jitter_zooms_in_by_its_scale_and_rotates_without_distorting():
    face = disk(8)
    area = float(face.sum())
    zoomed = loop.jitter(face, draws_of(zoom=1.0), Recipe("t", scale=0.25))  # the largest zoom: 1 + scale
    assert float(zoomed.sum()) == pytest.approx(area * 1.25**2, rel=0.1)
    turned = loop.jitter(face, draws_of(angle=1.0), Recipe("t", rotate=30))  # a disk turned is the same disk
    assert float(turned.sum()) == pytest.approx(area, rel=0.05)


def test_jitter_shifts_by_whole_pixels_and_is_exact_when_it_draws_nothing():
    face = torch.zeros(1, 1, 20, 20)
    face[..., 5:15, 8] = 1.0  # a vertical bar in column 8
    shifted = loop.jitter(face, torch.tensor([[0.9, 0.5, 0.5, 1.0, 0.5]]), Recipe("t", shift=3))
    columns = shifted[0, 0].sum(0)
    assert float((columns * torch.arange(20)).sum() / columns.sum()) == pytest.approx(5.0, abs=1e-4)  # 3 px over
    same = loop.jitter(face, draws_of(), Recipe("t", rotate=10, scale=0.1, shift=2))  # u = 0: no transform
    assert torch.allclose(same, face, atol=1e-6)


def test_jitter_keeps_the_batch_dtype():
    face = disk(8).double()
    assert loop.jitter(face, draws_of(angle=1.0), Recipe("t", rotate=10)).dtype == torch.float64


def test_the_training_step_smooths_labels_and_weighs_faces_by_class():
    from mffcnn.model import MFFCNN

    torch.manual_seed(0)
    model = MFFCNN(MFFCNNConfig()).eval()
    x, y = torch.randn(3, 1, 60, 60), torch.tensor([0, 2, 2])
    out = model.forward_all(x)
    smoothed = loop._LossOf(model, label_smoothing=0.2)(x, y)
    assert torch.allclose(smoothed, model.loss(out, y, label_smoothing=0.2))
    assert not torch.allclose(smoothed, model.loss(out, y))
    weights = torch.arange(1.0, 7.0)  # one per class (6)
    assert loop._LossOf(model, class_weights=weights).share(y) == pytest.approx(1 + 3 + 3)
    assert loop._LossOf(model).share(y) == 3.0


def test_an_epoch_with_mixed_precision_on_the_cpu(monkeypatch):
    from mffcnn.model import MFFCNN

    torch.manual_seed(0)
    fs = synthetic.load(subjects=1, per_class=1)
    x, y = fs.preprocessing.to_tensor(fs.images), torch.from_numpy(fs.labels)
    step = loop._LossOf(MFFCNN(MFFCNNConfig()))
    training = loop.Training(model_config=MFFCNNConfig(), recipe=Recipe("t", batch_size=64), epochs=1, amp=True)
    used = []
    autocast = torch.autocast
    monkeypatch.setattr(loop.torch, "autocast", lambda kind, dtype: used.append((kind, dtype)) or autocast(kind, dtype))
    loss = loop.train_one_epoch(step, torch.optim.SGD(step.parameters(), lr=0.0), x, y, training, epoch=0)
    assert math.isfinite(loss) and loss > 0 and used == [("cpu", torch.bfloat16)]


def test_the_loss_with_smoothing_weights_or_soft_targets_is_eq5_written_out():
    from mffcnn.model import MFFCNN

    torch.manual_seed(0)
    model = MFFCNN(MFFCNNConfig()).eval()
    out = model.forward_all(torch.randn(3, 1, 60, 60))
    l1, l2, l3 = model.cfg.loss_weights
    logs = [F.log_softmax(out.image_logits, 1), F.log_softmax(out.patch_logits, 1), out.log_probs]

    def eq5(t, w=None):
        per = [-(t * lp).sum(1) for lp in logs]
        mean = [p.mean() if w is None else (p * w).sum() / w.sum() for p in per]
        return l1 * mean[0] + l2 * mean[1] + l3 * mean[2]

    y = torch.tensor([0, 2, 5])
    hard = F.one_hot(y, 6).float()
    assert torch.allclose(model.loss(out, y, label_smoothing=0.3), eq5(hard * 0.7 + 0.3 / 6))
    soft = torch.tensor([[0.5, 0.5, 0, 0, 0, 0], [0, 0, 1.0, 0, 0, 0], [0.2, 0, 0, 0, 0, 0.8]])
    assert torch.allclose(model.loss(out, soft), eq5(soft))
    w = torch.arange(1.0, 7.0)
    assert torch.allclose(model.loss(out, y, class_weights=w), eq5(hard, hard @ w))


def test_config_and_recipe_limits_are_inclusive_and_named():
    from mffcnn.model.image_branch import stack_output_size

    cfg = MFFCNNConfig()
    MFFCNNConfig(num_selected=cfg.num_patches * cfg.feature_maps)  # all of them: allowed
    assert stack_output_size(3, [(8, 3)], ()) == 1  # shrunk to one pixel: still a size
    with pytest.raises(ValueError, match="shrinks the input to nothing"):
        stack_output_size(2, [(8, 3)], ())
    with pytest.raises(ValueError, match=r"^schedule must be one of step, cosine$"):
        Recipe("t", schedule="linear")


def test_fit_sets_each_epochs_learning_rate_and_weighs_classes(monkeypatch):
    fs = synthetic.load(subjects=1, per_class=1)
    x, y = fs.preprocessing.to_tensor(fs.images), torch.from_numpy(fs.labels)
    seen = []

    def one_epoch(step, optimizer, *args, epoch, **kwargs):
        seen.append((epoch, optimizer.param_groups[0]["lr"], step.class_weights))
        return 1.0

    monkeypatch.setattr(loop, "train_one_epoch", one_epoch)
    recipe = Recipe("t", lr=0.01, lr_decay=0.5, decay_every=1, class_weight_power=1.0)
    loop.fit(x, y, loop.Training(model_config=MFFCNNConfig(num_classes=7), recipe=recipe, epochs=3, seed=0))
    assert [(e, lr) for e, lr, _ in seen] == [(e, recipe.lr_at(e, 3)) for e in range(3)]
    assert [recipe.lr_at(e, 3) for e in range(3)] == pytest.approx([0.01, 0.005, 0.0025])
    assert torch.equal(seen[0][2], loop.class_weights(y, 7, 1.0))


def test_seeds_beyond_numpy_range_wrap():
    loop.seed_everything(2**32 + 5)
    a = np.random.rand()
    np.random.seed(5)
    assert a == np.random.rand()


def test_asking_for_cuda_without_one_says_so(monkeypatch):
    monkeypatch.setattr(loop.torch.cuda, "is_available", lambda: False)
    with pytest.raises(MffcnnError) as e:
        loop.resolve_device("cuda")
    assert str(e.value) == "--device cuda: no CUDA GPU is available here (use --device cpu or auto)"


def test_warm_start_line_names_what_was_carried_new_and_dropped():
    w = WarmStart("m.safetensors", loaded=["a", "b"], new=["contempt"])
    assert w.line() == (
        "init from m.safetensors: 2 weight tensors loaded; classifier rows carried over by class name: none; "
        "fresh rows for contempt"
    )
    w = WarmStart("m.safetensors", loaded=["a"], carried=["happy"], dropped=["neutral"])
    assert w.line().endswith("carried over by class name: happy; dropped neutral")


def test_keep_freed_memory_sets_glibc_mmap_and_trim_thresholds(monkeypatch):
    import ctypes

    calls = []

    class Libc:
        def mallopt(self, *args):
            calls.append(args)

    opened = []
    monkeypatch.setattr(ctypes, "CDLL", lambda name: opened.append(name) or Libc())
    monkeypatch.setattr(loop, "_memory_kept", False)
    loop.keep_freed_memory()
    loop.keep_freed_memory()  # once per process
    assert opened == ["libc.so.6"]
    assert calls == [(-3, 32 * 2**20), (-1, 2**31 - 1)]


def test_trained_on_reads_every_place_a_checkpoint_names_its_data():
    from mffcnn.train.warm_start import trained_on

    info = {
        "trained_on": [{"dataset": "ckplus48:contempt=true"}, {"other": 1}],
        "datasets": [{"dataset": "fer2013"}],
        "dataset": "jaffe+sfew",
        "pretrained_on": ["ferplus"],
    }
    assert trained_on(info) == {"ckplus48", "fer2013", "jaffe", "sfew", "ferplus"}


def test_warm_start_reports_its_source():
    from mffcnn.checkpoint import Checkpoint
    from mffcnn.model import MFFCNN
    from mffcnn.train.warm_start import warm_start

    classes = ["a", "b", "c"]
    ckpt = Checkpoint(model=MFFCNN(MFFCNNConfig(num_classes=3)), class_names=classes, preprocessing=Preprocessing())
    report = warm_start(MFFCNN(MFFCNNConfig(num_classes=3)), ckpt, classes, source="pre.safetensors")
    assert report.checkpoint == "pre.safetensors" and report.line().startswith("init from pre.safetensors: ")


def test_a_fold_trains_from_the_init_it_is_given(monkeypatch):
    from mffcnn.model import MFFCNN
    from mffcnn.train import folds

    fs = synthetic.load(subjects=1, per_class=2)
    x = fs.preprocessing.to_tensor(fs.images)
    given = []

    def fake_fit(x, y, training, *, state_path=None, on_epoch=None, init=None):
        given.append((len(y), training.seed, init))
        return MFFCNN(MFFCNNConfig()).eval()

    monkeypatch.setattr(folds, "fit", fake_fit)
    init = lambda: MFFCNN(MFFCNNConfig())  # noqa: E731
    training = loop.Training(model_config=MFFCNNConfig(), recipe=Recipe("t"), epochs=1, seed=2)
    n = len(fs.labels)
    result = folds.run_fold(fs, x, 3, np.arange(8), np.arange(8, n), training, init=init)
    assert given == [(8, 2003, init)]  # the fold's seed: seed·1000 + fold
    assert (result.fold, result.n_train, result.n_test, result.test_index) == (3, 8, n - 8, list(range(8, n)))


class Bar:
    """A progress bar that records what it was told."""

    def __init__(self, total=None, *, desc="", unit="it", disable=False, leave=True):
        self.opened = {"total": total, "desc": desc, "unit": unit, "disable": disable}
        self.done, self.descriptions, self.postfixes = 0, [], []

    def update(self, n=1):
        self.done += n

    def set_description(self, desc):
        self.descriptions.append(desc)

    def set_postfix(self, **kwargs):
        self.postfixes.append(kwargs)

    def close(self):
        pass


def fake_fold(fs, calls):
    """run_fold without training: two epochs reported, every test face predicted as class 0."""

    def run_fold(faceset, x, fold, tr, te, training, *, state_path=None, on_epoch=None, init=None):
        assert faceset is fs and len(x) == len(fs.labels)
        calls.append((fold, training.dist.world))
        for epoch in range(training.epochs):
            on_epoch(epoch, 0.5)
        acc = float((fs.labels[te] == 0).mean())
        from mffcnn.train.folds import FoldResult

        return FoldResult(fold, acc, len(tr), len(te), 0.0, te.tolist(), [0] * len(te))

    return run_fold


def test_cv_progress_names_each_fold_and_a_rerun_resumes(tmp_path, monkeypatch, capsys):
    from mffcnn.train import folds

    fs, bars, calls = folds_of(per_class=1), [], []
    monkeypatch.setattr(folds, "progress", lambda *a, **k: bars.append(Bar(*a, **k)) or bars[-1])
    monkeypatch.setattr(folds, "run_fold", fake_fold(fs, calls))
    training = loop.Training(model_config=MFFCNNConfig(), recipe=Recipe("t"), epochs=2, seed=0)
    results = folds.run_cv(fs, tmp_path, training, protocol="random", n_folds=2)
    assert [r.fold for r in results] == [1, 2] and calls == [(1, 1), (2, 1)]
    (bar,) = bars
    assert bar.opened == {"total": 4, "desc": f"{fs.name} random", "unit": "epoch", "disable": False}
    assert bar.done == 4 and bar.descriptions == [f"{fs.name} random fold 1/2", f"{fs.name} random fold 2/2"]
    assert bar.postfixes[:3] == [{"loss": "0.500"}] * 2 + [{"last_acc": f"{results[0].accuracy:.3f}"}]
    capsys.readouterr()
    again = folds.run_cv(fs, tmp_path, training, protocol="random", n_folds=2)  # the folds folder exists now
    assert [r.to_dict() for r in again] == [r.to_dict() for r in results] and len(calls) == 2
    assert "random: resuming, 2 of 2 folds already done" in capsys.readouterr().err
    folds.run_cv(fs, tmp_path / "quiet", training, protocol="random", n_folds=2, verbose=False)
    assert bars[-1].opened["disable"]


def test_cv_spread_over_ranks_gives_each_rank_whole_folds(tmp_path, monkeypatch):
    from mffcnn.train import folds
    from mffcnn.train.distributed import Dist

    fs, calls, gathered = folds_of(per_class=1), [], []
    run_fold = fake_fold(fs, calls)
    monkeypatch.setattr(folds, "run_fold", run_fold)
    monkeypatch.setattr(folds, "progress", lambda *a, **k: Bar(*a, **k))
    monkeypatch.setattr(folds, "barrier", lambda dist: None)
    split = folds.make_folds(fs, "random", 4, 0)

    def gather_objects(result, dist):  # rank 0 of 2: the other rank's fold is the next one
        assert dist.world == 2
        other = run_fold(
            fs, fs.images, result.fold + 1, *split[result.fold], loop.Training(**alone), on_epoch=lambda *_: None
        )
        gathered.append((result.fold, other.fold))
        return [result, other]

    monkeypatch.setattr(folds, "gather_objects", gather_objects)
    training = loop.Training(model_config=MFFCNNConfig(), recipe=Recipe("t"), epochs=1, seed=0, dist=Dist(0, 2, 0))
    alone = {"model_config": MFFCNNConfig(), "recipe": Recipe("t"), "epochs": 1, "seed": 0}
    results = folds.run_cv(fs, tmp_path, training, protocol="random", n_folds=4, spread="folds")
    assert gathered == [(1, 2), (3, 4)] and [r.fold for r in results] == [1, 2, 3, 4]
    assert calls[0] == (1, 1)  # each process trains its fold alone (no DDP)
    assert sorted(p.name for p in (tmp_path / "folds").iterdir()) == [f"fold_0{k}.json" for k in (1, 2, 3, 4)]


# --- predict/pipeline.py --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model():
    return lib.load_model(threads=1)


def write_clip(path, frames: int, fps: float) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (64, 48))
    for _ in range(frames):
        writer.write(np.full((48, 64, 3), 90, np.uint8))
    writer.release()


def test_progress_counts_every_file_and_every_frame(tmp_path, model, grey, monkeypatch):
    bars = []
    monkeypatch.setattr(pipeline, "progress_bar", lambda *a, **k: bars.append(Bar(*a, **k)) or bars[-1])
    cv2.imwrite(str(tmp_path / "a.png"), grey[:200, :200])
    (tmp_path / "notes.txt").write_text("not an image")
    write_clip(tmp_path / "clip.avi", frames=3, fps=5.0)
    lib.predict(tmp_path, model=model, progress=True)
    files, frames = bars
    assert (files.opened["total"], files.opened["unit"], files.opened["disable"], files.done) == (3, "file", False, 3)
    assert (frames.opened["total"], frames.opened["unit"], frames.done) == (3, "frame", 3)
    bars.clear()
    lib.predict(tmp_path / "a.png", model=model, progress=True)
    assert bars[0].opened["disable"]  # one file: no bar
    bars.clear()
    lib.predict([tmp_path / "a.png", tmp_path / "a.png"], model=model, progress=True)
    assert not bars[0].opened["disable"]  # two files: a bar


def test_video_frames_have_their_size_and_rounded_times_and_each_video_counts(tmp_path, model):
    write_clip(tmp_path / "one.avi", frames=2, fps=3.0)
    write_clip(tmp_path / "two.avi", frames=2, fps=3.0)
    r = lib.predict(tmp_path, model=model)
    assert [(res.width, res.height) for res in r.results] == [(64, 48)] * 4
    assert [res.time for res in r.results[:2]] == [0.0, 0.3333]  # 1/3 s to 4 decimals
    assert r.summary.videos == 2


def test_an_image_over_the_pixel_limit_is_unreadable_by_its_name(tmp_path, model, capsys):
    path = tmp_path / "big.png"
    cv2.imwrite(str(path), np.full((100, 100), 90, np.uint8))  # 10,000 pixels
    r = lib.predict(path, model=model, max_pixels=1000)
    (res,) = r.results
    assert res.status == "unreadable" and res.file == str(path)
    assert "(--max-megapixels raises the limit)" in res.error
    assert f"{path}: " in capsys.readouterr().err
    assert lib.predict(path, model=model, max_pixels=None).results[0].status == "no_face"


def test_the_no_detect_hint_is_for_small_faceless_images_only(tmp_path, model, capsys):
    cv2.imwrite(str(tmp_path / "small.png"), np.full((48, 48), 90, np.uint8))
    cv2.imwrite(str(tmp_path / "large.png"), np.full((400, 400), 90, np.uint8))
    lib.predict(tmp_path, model=model)
    err = capsys.readouterr().err.splitlines()
    assert [line.endswith("(if the images are face crops already, use --no-detect)") for line in err] == [False, True]


def test_a_batch_size_below_one_is_refused_by_name(model, grey):
    with pytest.raises(MffcnnError) as e:
        lib.predict(grey, model=model, batch_size=0)
    assert str(e.value) == "--batch-size must be at least 1"
