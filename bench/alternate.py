#!/usr/bin/env python3
"""Runs commands alternately and prints each one's median and minimum wall time.

    bench/alternate.py RUNS 'CMD_A' 'CMD_B' ['CMD_C' ...]

On a shared or virtual machine whose speed drifts by up to 2x between
minutes, hyperfine's back-to-back runs (all of A, then all of B) compare two
minutes as much as two binaries; alternating A, B, A, B, ... puts both in the
same minutes. One warm-up round is not counted. Commands are split like a
shell would (shlex) and run without a shell; their output is discarded.
"""
import shlex
import statistics
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 64
    runs = int(sys.argv[1])
    cmds = [shlex.split(c) for c in sys.argv[2:]]
    times = [[] for _ in cmds]
    for i in range(runs + 1):
        for k, c in enumerate(cmds):
            start = time.perf_counter()
            subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            if i:
                times[k].append(time.perf_counter() - start)
    for k, c in enumerate(sys.argv[2:]):
        print("%.4f s median  %.4f s min  %s" % (statistics.median(times[k]), min(times[k]), c))
    return 0


if __name__ == "__main__":
    sys.exit(main())
