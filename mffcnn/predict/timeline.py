"""A timeline per person: each track's probabilities over time, a summary, and a plot (issue 18).

`Predictions.tracks` (results.py) builds them from the results; `predict(..., save_dir=...)` (and so
`mffcnn predict clip.mp4 --save`) writes, per track of each video or webcam, `timelines/<input>_track<N>.png`
(the seven probabilities over time, smoothed as lines, raw as dots, and the smoothed label as a coloured band)
and all summaries in `timelines/timelines.json`. matplotlib is imported only to plot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# A colour per expression (matplotlib's tab10, in a fixed order so a label keeps its colour in every figure).
COLOURS = {
    "anger": "#d62728",
    "disgust": "#8c564b",
    "fear": "#9467bd",
    "happy": "#2ca02c",
    "neutral": "#7f7f7f",
    "sadness": "#1f77b4",
    "surprise": "#ff7f0e",
    "contempt": "#e377c2",
}


@dataclass
class Track:
    """One person of one video or webcam: the frames they were found in, and what they showed."""

    file: str
    track: int
    class_names: list[str]
    frames: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    boxes: list[list[int]] = field(default_factory=list)
    probabilities: list[list[float]] = field(default_factory=list)  # raw, per frame, in class_names' order
    smoothed: list[list[float]] = field(default_factory=list)  # the same smoothed (= raw when smoothing is off)

    @property
    def labels(self) -> list[str]:
        return [self.class_names[int(np.argmax(p))] for p in self.probabilities]

    @property
    def smoothed_labels(self) -> list[str]:
        return [self.class_names[int(np.argmax(p))] for p in self.smoothed]

    def segments(self) -> list[dict]:
        """Runs of one smoothed label: {label, start, end} in seconds (start: its first frame, end: its last)."""
        out: list[dict] = []
        for t, label in zip(self.times, self.smoothed_labels):
            if out and out[-1]["label"] == label:
                out[-1]["end"] = t
            else:
                out.append({"label": label, "start": t, "end": t})
        return out

    def summary(self) -> dict:
        """Share of the track's frames per smoothed label (frames are evenly spaced in time, so it is the share
        of time), and when each expression began: the start of each of its runs."""
        labels = self.smoothed_labels
        n = max(len(labels), 1)
        share = {c: round(labels.count(c) / n, 4) for c in self.class_names if c in labels}
        began: dict[str, list[float]] = {}
        for seg in self.segments():
            began.setdefault(seg["label"], []).append(seg["start"])
        return {
            "file": self.file,
            "track": self.track,
            "frames": len(self.frames),
            "first": self.times[0] if self.times else None,
            "last": self.times[-1] if self.times else None,
            "share": share,
            "began": began,
        }


def tracks_of(results, class_names) -> list[Track]:
    """The tracks of every video and webcam in `results` (FrameResult list), in order of first appearance."""
    tracks: dict[tuple[str, int], Track] = {}
    for r in results:
        if r.frame is None:
            continue
        for f in r.faces:
            if f.track is None:
                continue
            t = tracks.setdefault((r.file, f.track), Track(r.file, f.track, list(class_names)))
            raw = [f.probabilities[c] for c in class_names]
            t.frames.append(r.frame)
            t.times.append(r.time if r.time is not None else 0.0)
            t.boxes.append(list(f.box))
            t.probabilities.append(raw)
            smoothed = f.smoothed_probabilities
            t.smoothed.append([smoothed[c] for c in class_names] if smoothed else raw)
    return list(tracks.values())


def plot_track(track: Track, path: str | Path) -> Path:
    """The track's seven (or six) probabilities over time, as a PNG."""
    import matplotlib  # noqa: PLC0415  (only to plot: predict's start-up stays light)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    times, raw, smooth = np.asarray(track.times), np.asarray(track.probabilities), np.asarray(track.smoothed)
    fig, ax = plt.subplots(figsize=(9, 3.6), dpi=110)
    segments = track.segments()
    step = float(np.median(np.diff(times))) if len(times) > 1 else 0.04
    for seg, after in zip(segments, [*segments[1:], None]):  # the smoothed label as a band along the top
        right = after["start"] if after else seg["end"] + step
        ax.axvspan(seg["start"], right, ymin=0.93, ymax=1.0, color=COLOURS.get(seg["label"], "#333333"), lw=0)
    for k, name in enumerate(track.class_names):
        colour = COLOURS.get(name, None)
        ax.plot(times, raw[:, k], ".", ms=2.5, color=colour, alpha=0.35)
        ax.plot(times, smooth[:, k], "-", lw=1.6, color=colour, label=name)
    ax.set(xlabel="time (s)", ylabel="probability", ylim=(0, 1.08), xlim=(times.min(), times.max() + 1e-6))
    ax.set_title(f"{Path(track.file).name} — track {track.track} (lines: smoothed, dots: raw; band: label)", fontsize=9)
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def write_timelines(tracks: list[Track], save_dir: str | Path) -> list[Path]:
    """A plot per track and timelines.json (every track's summary) under save_dir/timelines/; nothing when
    there is no track (photos only)."""
    if not tracks:
        return []
    folder = Path(save_dir) / "timelines"
    stems: dict[str, str] = {}  # input → its name part; two inputs with one stem (other folders) get _2, _3, …
    for file in dict.fromkeys(t.file for t in tracks):
        stem, n = _stem(file), 2
        while stem in stems.values():
            stem, n = f"{_stem(file)}_{n}", n + 1
        stems[file] = stem
    paths = [plot_track(t, folder / f"{stems[t.file]}_track{t.track}.png") for t in tracks]
    summaries = folder / "timelines.json"
    summaries.write_text(json.dumps([t.summary() for t in tracks], indent=1, ensure_ascii=False) + "\n")
    return [*paths, summaries]


def _stem(name: str) -> str:
    """A file name part for an input: a video's stem, webcam_N for webcam:N."""
    return name.replace(":", "_") if name.startswith("webcam:") else Path(name).stem
