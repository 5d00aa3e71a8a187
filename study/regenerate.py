#!/usr/bin/env python3
"""Regenerate archived instance files from their manifest lines and check them byte for byte.

    python3 study/regenerate.py                      # write every listed file that is missing
    python3 study/regenerate.py --check --into /tmp/regen   # regenerate all into a folder, compare
    python3 study/regenerate.py --manifest study/archive/paper/manifest.csv --check --present \
        --into /tmp/regen                            # only the files committed beside the manifest

Reads `study/archive/manifest.csv` (or --manifest), runs each line's `nnmilp adversarial ...`
command from the repository root with `target/release/nnmilp` (or --nnmilp) and compares the
SHA-256 of what it wrote with the manifest's (`mps_sha256`, and `lp_sha256` when the line has an
LP file: the same command with `-o` naming the `.lp.gz`). Exit code 1 if any file differs: the
binary's formulation is not the one that wrote the archive (the file headers name the version).
Standard library only.
"""

import argparse
import csv
import hashlib
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def sha256_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--manifest", default=os.path.join(HERE, "archive", "manifest.csv"))
    ap.add_argument("--nnmilp", default=os.path.join(REPO, "target", "release", "nnmilp"))
    ap.add_argument("--check", action="store_true", help="regenerate every file, not only the missing ones")
    ap.add_argument("--into", help="write into this folder instead of the paths the manifest names")
    ap.add_argument("--only", nargs="*", help="instance names to regenerate (default all)")
    ap.add_argument("--present", action="store_true",
                    help="only the files that exist at their manifest path (the committed subset of a large run)")
    a = ap.parse_args()
    bad = 0
    with open(a.manifest, newline="") as f:
        lines = list(csv.DictReader(f))
    for m in lines:
        if a.only and m["instance"] not in a.only:
            continue
        argv = shlex.split(m["command"])
        if argv[0] != "nnmilp" or "-o" not in argv:
            sys.exit(f"{m['instance']}: unexpected command {m['command']!r}")
        o_at = argv.index("-o") + 1
        for key in ("mps", "lp"):
            listed, want = m[f"{key}_file"], m[f"{key}_sha256"]
            if not listed or (a.present and not os.path.exists(os.path.join(REPO, listed))):
                continue
            target = os.path.join(a.into, os.path.basename(listed)) if a.into else os.path.join(REPO, listed)
            if os.path.exists(target) and not a.check and not a.into:
                continue
            if a.into:
                os.makedirs(a.into, exist_ok=True)
            cmd = [a.nnmilp, *argv[1:o_at], target, *argv[o_at + 1:]]
            p = subprocess.run(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if p.returncode != 0:
                print(f"{m['instance']} ({key}): nnmilp failed: {p.stderr.strip()}")
                bad += 1
                continue
            got = sha256_of(target)
            same = got == want
            bad += not same
            print(f"{m['instance']} ({key}): {'identical' if same else 'DIFFERS: ' + got}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
