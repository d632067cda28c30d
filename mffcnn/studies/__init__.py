"""The experiments, side by side: what `mffcnn cv`, `train`, `evaluate`, `ablate`, `sfew` and `gradcam` run.

Each study loads its data, trains or explains, writes a numbered run folder (runs/<mode>/expN) with its
resolved options and results, and — where it trains for long — resumes where it stopped. What they share
(StudyOptions, set-up, run folders, resume, --init) is in _run.py.
"""
