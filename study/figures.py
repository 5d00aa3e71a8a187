#!/usr/bin/env python3
"""Figures of a study run (issue 13): PNGs into --figures (default study/figures).

    python3 study/figures.py [--out study/results/run] [--figures study/figures]
        [--nnmilp target/release/nnmilp] [--visualize-time-limit 60]

* `solve_times.png`: solve seconds per image for every setting, one panel per network, log
  scale; a time-out is drawn at the time limit as an open marker.
* `solved_within.png`: per network, the % of images each setting solved within t seconds.
* `dnn1_adversarial.png`: the first DNN1 images, original | adversarial | difference (red =
  brighter, blue = darker), from the examples of the run's reports (already replayed by
  run.py); one setting's example per image, the first setting that closed it.
* `dnn1_visualize.png`: the feature visualization of DNN1, the input in [0,1]^784 maximising
  each output (`nnmilp visualize study/nets/DNN1.onnx --output all --solve --png`), as in the
  paper; its JSON report goes next to it.

Needs matplotlib and numpy.
"""

import argparse
import csv
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from run import SETTINGS, load_test_images  # noqa: E402  (one list of settings, one image reader)

MARKERS = "osD^v<>xP*"


def read_rows(out, images):
    """The run's instances; with `images`, only each net's first that many images (a run's CSV
    keeps the instances of longer earlier runs)."""
    with open(os.path.join(out, "instances.csv"), newline="") as f:
        rows = [r for r in csv.DictReader(f) if None not in r]
    if images:
        keep = {}
        for r in rows:
            keep.setdefault(r["net"], set()).add(int(r["image"]))
        keep = {n: set(sorted(ks)[:images]) for n, ks in keep.items()}
        rows = [r for r in rows if int(r["image"]) in keep[r["net"]]]
    return rows


def solve_times(rows, path, time_limit):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    nets = sorted({r["net"] for r in rows})
    settings = [s for s in SETTINGS if any(r["setting"] == s for r in rows)]
    most = max(len({r["image"] for r in rows if r["net"] == n}) for n in nets)
    # A few images: the nets side by side; the paper's 100: one wide panel per net, stacked (a
    # partial run has fewer images in its later nets, so the x axes are not shared).
    wide = most > 12
    if wide:
        fig, col = plt.subplots(len(nets), 1, figsize=(min(4 + 0.12 * most, 16), 2.3 * len(nets) + 0.8),
                                sharey=True, squeeze=False)
        axes = [[row[0] for row in col]]
    else:
        fig, axes = plt.subplots(1, len(nets), figsize=(3.2 * len(nets), 3.6), sharey=True, squeeze=False)
    for ax, net in zip(axes[0], nets):
        images = sorted({int(r["image"]) for r in rows if r["net"] == net})
        pos = {k: i for i, k in enumerate(images)}
        for si, s in enumerate(settings):
            rs = [r for r in rows if r["net"] == net and r["setting"] == s]
            for closed in (True, False):
                pts = [(pos[int(r["image"])] + (si - len(settings) / 2) * 0.06,
                        max(float(r["solve_seconds"]) if closed else time_limit, 1e-3))
                       for r in rs if (r["status"] == "optimal") == closed]
                if pts:
                    ax.scatter(*zip(*pts), marker=MARKERS[si % len(MARKERS)], s=10 if wide else 22, color=f"C{si}",
                               facecolors=None if closed else "none", label=s if closed else None)
        ax.axhline(time_limit, color="gray", lw=0.8, ls="--")
        ax.set_yscale("log")
        step = max(1, len(images) // 20)
        ax.set_xticks(range(0, len(images), step), [str(k) for k in images[::step]], fontsize=7)
        if wide:
            ax.set_xlim(-1, most)  # one x scale for all nets: a net cut short looks it
        ax.set_title(f"{net} ({len(images)} images)" if wide else net, fontsize=9)
        ax.set_xlabel("test image", fontsize=8)
        if wide:
            ax.set_ylabel("solve s", fontsize=8)
    if not wide:
        axes[0][0].set_ylabel("solve seconds (open marker: time-out)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    for ax in axes[0][1:]:
        for h, l in zip(*ax.get_legend_handles_labels()):
            if l not in labels:
                handles.append(h)
                labels.append(l)
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 8 if wide else 5), fontsize=7,
               frameon=False)
    fig.tight_layout(rect=(0, 0.35 / fig.get_figheight() if wide else 0.14, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def solved_within(rows, path, time_limit):
    """Per net, the share of its images each setting closed within t seconds (t log scale): the
    readable summary of many images, and the column `solved` of the table read at t = the limit."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    nets = sorted({r["net"] for r in rows})
    settings = [s for s in SETTINGS if any(r["setting"] == s for r in rows)]
    fig, axes = plt.subplots(1, len(nets), figsize=(3.2 * len(nets), 3.4), sharey=True, squeeze=False)
    for ax, net in zip(axes[0], nets):
        n = 0
        for si, s in enumerate(settings):
            rs = [r for r in rows if r["net"] == net and r["setting"] == s]
            if not rs:
                continue
            n = max(n, len(rs))
            t = sorted(max(float(r["solve_seconds"]), 1e-3) for r in rs if r["status"] == "optimal")
            xs = [1e-3] + [v for v in t for _ in (0, 1)] + [time_limit]
            ys = [0.0] + [100.0 * c / len(rs) for i in range(len(t)) for c in (i, i + 1)] + [100.0 * len(t) / len(rs)]
            ax.plot(xs, ys, color=f"C{si}", lw=1.2, label=s)
        ax.axvline(time_limit, color="gray", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_xlim(1e-2, time_limit * 1.1)
        ax.set_title(f"{net} ({n} images)", fontsize=9)
        ax.set_xlabel("solve seconds", fontsize=8)
    axes[0][0].set_ylabel("% of images solved")
    handles, labels = axes[0][0].get_legend_handles_labels()
    per_row = 4 if len(nets) < 3 else 8  # a narrow figure (a run cut short) takes two legend rows
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), per_row), fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.18 if len(labels) > per_row else 0.12, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def adversarial(rows, path, mnist, count):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    x, _ = load_test_images(mnist)
    chosen = {}
    for r in sorted(rows, key=lambda r: SETTINGS.index(r["setting"])):
        k = int(r["image"])
        if r["net"] == "DNN1" and r["status"] == "optimal" and r["replay"] == "ok" and k not in chosen:
            chosen[k] = r
    chosen = [chosen[k] for k in sorted(chosen)[:count]]
    if not chosen:
        print("no solved DNN1 instance: no adversarial figure")
        return
    fig, axes = plt.subplots(len(chosen), 3, figsize=(4.2, 1.5 * len(chosen)), squeeze=False)
    for row, r in zip(axes, chosen):
        report = os.path.join(REPO, r["report"])
        if r["setting"] == "none":
            example = json.load(open(report[: -len(".json")] + ".scip.json"))["input"]
        else:
            example = json.load(open(report))["solve"]["example"]["input"]
        img = x[int(r["image"])].astype(float) / 255.0
        adv = np.asarray(example, dtype=float)
        diff = (adv - img).reshape(28, 28)
        lim = max(float(np.abs(diff).max()), 1e-9)
        row[0].imshow(img.reshape(28, 28), cmap="gray", vmin=0, vmax=1)
        row[1].imshow(adv.reshape(28, 28), cmap="gray", vmin=0, vmax=1)
        row[2].imshow(diff, cmap="bwr", vmin=-lim, vmax=lim)
        row[0].set_ylabel(f"#{r['image']}: {r['label']}→{r['target']}", fontsize=7)
        row[1].set_title(f"L1 {float(r['objective']):.2f}", fontsize=7)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0][0].set_title("original", fontsize=7)
    axes[0][2].set_title("difference", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "results", "run"), help="the run's results folder")
    ap.add_argument("--figures", default=os.path.join(HERE, "figures"))
    ap.add_argument("--time-limit", type=float, default=None, help="the run's time limit (default: read results.md)")
    ap.add_argument("--nnmilp", default=os.path.join(REPO, "target", "release", "nnmilp"))
    ap.add_argument("--visualize-time-limit", default="60", help="seconds per output of the visualization")
    ap.add_argument("--no-visualize", action="store_true")
    ap.add_argument("--images", type=int, help="only each net's first N images (the run's --images)")
    ap.add_argument("--examples", type=int, default=5, help="DNN1 images in the adversarial figure")
    ap.add_argument("--mnist", default=os.path.join(REPO, "..", "shared", "data", "mnist"))
    a = ap.parse_args()
    if not os.path.isdir(a.mnist):
        a.mnist = "/work/shared/data/mnist"
    os.makedirs(a.figures, exist_ok=True)
    rows = read_rows(a.out, a.images)
    tl = a.time_limit
    if tl is None:
        tl = max(float(r["solve_seconds"]) for r in rows if r["status"] == "time_limit") if any(
            r["status"] == "time_limit" for r in rows) else max(float(r["solve_seconds"]) for r in rows)
    solve_times(rows, os.path.join(a.figures, "solve_times.png"), tl)
    solved_within(rows, os.path.join(a.figures, "solved_within.png"), tl)
    adversarial(rows, os.path.join(a.figures, "dnn1_adversarial.png"), a.mnist, a.examples)
    if not a.no_visualize:
        png = os.path.join(a.figures, "dnn1_visualize.png")
        cmd = [a.nnmilp, "visualize", "study/nets/DNN1.onnx", "--output", "all", "--solve", "--threads", "1",
               "--time-limit", a.visualize_time_limit, "--png", os.path.relpath(png, REPO),
               "--report", os.path.relpath(png[:-4] + ".json", REPO)]
        print("$ " + " ".join(cmd))
        subprocess.run(cmd, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    print(f"figures in {a.figures}")


if __name__ == "__main__":
    main()
