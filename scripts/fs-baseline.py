#!/usr/bin/env python3
"""How long this machine's disk takes just to create N small files (8.5 KB, the size of a
generated article page) in one folder and remove them again: the floor under any static-site
build of N pages. Usage: scripts/fs-baseline.py DIR [N]"""
import os
import shutil
import sys
import time

base = os.path.join(sys.argv[1], "fs-baseline")
n = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
data = b"x" * 8500
os.makedirs(base, exist_ok=True)
start = time.time()
for i in range(n):
    with open(os.path.join(base, f"page-{i}.html"), "wb") as f:
        f.write(data)
written = time.time() - start
start = time.time()
shutil.rmtree(base)
print(f"fs-baseline: {n} files of 8.5 KB written in {written:.2f} s, removed in {time.time() - start:.2f} s ({sys.argv[1]})")
