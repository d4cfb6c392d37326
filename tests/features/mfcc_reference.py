#!/usr/bin/env python3
"""Reference MFCC / log-mel values from the numpy anchor (shared/anchors/features_bench.py).

Usage: python3 mfcc_reference.py ANCHOR_SCRIPT SEGMENT.f32 [SEGMENT.f32 ...]
Each SEGMENT.f32 is raw little-endian float32 mono audio at 16 kHz. Prints one JSON object:
{"numpy": version, "segments": [{"mfcc": [[...]...], "logmel": [[...]...]}, ...]}.

The anchor's own functions and constants are used (loaded with runpy, its tiny timing run
silenced), so any change to the anchor shows up when the fixture is regenerated.
"""
import contextlib, io, json, runpy, sys

import numpy as np

anchor, segments = sys.argv[1], sys.argv[2:]
sys.argv = [anchor, "--repeats", "1", "--seconds", "0.1"]
with contextlib.redirect_stdout(io.StringIO()):
    g = runpy.run_path(anchor, run_name="anchor")

WIN, HOP, NFFT, WINDOW, FB = g["WIN"], g["HOP"], g["NFFT"], g["WINDOW"], g["FB"]


def logmel_numpy(y):
    # The first three lines of the anchor's mfcc_numpy, stopping before the DCT.
    frames = np.lib.stride_tricks.sliding_window_view(y, WIN)[::HOP]
    spec = np.fft.rfft(frames * WINDOW, n=NFFT, axis=1)
    power = (spec.real ** 2 + spec.imag ** 2).astype(np.float32)
    return np.log(power @ FB.T + 1e-10)


out = []
for path in segments:
    y = np.fromfile(path, dtype="<f4")
    out.append({"mfcc": g["mfcc_numpy"](y).tolist(), "logmel": logmel_numpy(y).tolist()})
print(json.dumps({"numpy": np.__version__, "segments": out}))
