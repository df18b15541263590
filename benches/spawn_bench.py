#!/usr/bin/env python3
"""Whole-process timings of short commands, with stdin from a file and no shell in between.

hyperfine 1.15 (Debian 12) has no --input, so a command that reads stdin has to go through
`sh -c '… < file'` and hyperfine's shell-spawn correction, which it says itself cannot be
calibrated below 5 ms; on a busy machine that correction alone swings by more than a
millisecond. This runner spawns each command directly with posix_spawn (vfork + exec, as
hyperfine -N does), stdin opened from a file by the spawn itself, stdout and stderr to
/dev/null, and times spawn-to-reap with a monotonic clock. The commands run round-robin, one
run of each in turn, so a background load that comes and goes hits every row alike.

Usage: spawn_bench.py SPEC.json RUNS WARMUP > RESULT.json
SPEC: [{"name": …, "argv": […], "env": {…}, "input": PATH, "allow_fail": bool}, …]; the
environment of each command is this process's plus "env".
RESULT: {name: {"median": s, "mean": s, "stddev": s, "min": s, "max": s, "runs": n,
"minflt": mean minor page faults}, …}: the faults are the child's own (`wait4`'s rusage; a
vfork child execs at once, so nearly all of them come after the exec).
"""
import json
import os
import statistics
import sys
import time


def spawn(cmd):
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, cmd["input"], os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0),
    ]
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(cmd["argv"][0], cmd["argv"], cmd["environ"], file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    t1 = time.perf_counter_ns()
    code = os.waitstatus_to_exitcode(status)
    if code != 0 and not cmd.get("allow_fail"):
        sys.exit(f"spawn_bench: {cmd['name']} exited with {code}")
    return (t1 - t0) / 1e9, usage.ru_minflt


def main():
    spec_path, runs, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with open(spec_path) as f:
        cmds = json.load(f)
    for cmd in cmds:
        cmd["environ"] = {**os.environ, **cmd.get("env", {})}
    times = {cmd["name"]: [] for cmd in cmds}
    faults = {cmd["name"]: [] for cmd in cmds}
    for i in range(warmup + runs):
        for cmd in cmds:
            t, minflt = spawn(cmd)
            if i >= warmup:
                times[cmd["name"]].append(t)
                faults[cmd["name"]].append(minflt)
    result = {}
    for name, ts in times.items():
        result[name] = {
            "median": statistics.median(ts),
            "mean": statistics.fmean(ts),
            "stddev": statistics.stdev(ts) if len(ts) > 1 else 0.0,
            "min": min(ts),
            "max": max(ts),
            "runs": len(ts),
            "minflt": statistics.fmean(faults[name]),
        }
    json.dump(result, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
