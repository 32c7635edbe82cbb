#!/usr/bin/env python3
"""Benchmark (issue 14): one image pushed to three registries in one `ecrpush push` (`--registry` three times)
against one push to one registry, in the same run.

Usage: python3 tools/bench_fanout.py PATH/TO/ecrpush [--runs 3] [--destinations 3]

The world (tools/world.sh, loopback only): --destinations distribution registries that take the same ECR token
(as registries in several regions each take their own), motoworld (moto) whose GetAuthorizationToken returns it,
and a private dockerd. The image is tools/bench_push.py's `bench:1` (busybox + 3 x 64 MiB random + 64 MiB text),
built once. Every push goes to new repositories with `--no-blob-cache`, so nothing is skipped. Runs alternate
(one registry, then all), so drift hits both alike. Prints the median seconds of each and their ratio; the issue's
target is a fan-out to three at most 1.4x one push. A benchmark, not a test: it asserts only that pushes succeed.
"""
import argparse
import os
import secrets
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_everyday as be  # noqa: E402  (the world, fresh-runner helpers and cleanup)
import bench_push  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("ecrpush")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--destinations", type=int, default=3)
    args = parser.parse_args()
    if os.geteuid() != 0:
        parser.error("run as root (dockerd, iptables)")
    world_args = argparse.Namespace(ecrpush=args.ecrpush, runs=args.runs, scenarios=[], ecrpush_args="", delay_ms=0,
                                    rate_mbit=0, count_with_relay=True, verbose=False)
    cleanup = be.Cleanup()
    bench = be.Bench(world_args, cleanup)
    try:
        bench.start_world()
        registries = [f"127.0.0.1:{bench.registry_port}"]
        for _ in range(args.destinations - 1):
            directory = bench.dir + f"/extra{len(registries)}"
            os.makedirs(directory)
            cleanup.add(lambda d=directory: be.run([be.WORLD, "stop", d], check=False))
            port = bench_push.free_port()
            be.run([be.WORLD, "registry", directory, str(port), "AWS", bench.password], env=bench.env)
            registries.append(f"127.0.0.1:{port}")
        be.run([be.WORLD, "base-image", bench.dir], env=bench.env)
        bench_push.make_context(f"{bench.dir}/ctx", 64)
        bench.docker("build", "-q", "-t", "bench:1", f"{bench.dir}/ctx")
        suffix = secrets.token_hex(3)
        times = {"one": [], "all": []}
        for run in range(args.runs):
            for kind in ("one", "all"):
                repository = f"fanout/{kind}-{run}-{suffix}"
                bench.create_repositories([repository])
                targets = registries[:1] if kind == "one" else registries
                command = [bench.ecrpush, "push", "bench:1", "--repository", repository, "--tag", "1", "--no-blob-cache", "-q"]
                for registry in targets:
                    command += ["--registry", registry]
                env = bench.ecrpush_env(bench.moto["endpoint"], f"{bench.dir}/cache-{kind}-{run}")
                started = time.monotonic()
                result = be.run(command, env=env, check=False)
                seconds = time.monotonic() - started
                if result.returncode != 0:
                    sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
                times[kind].append(seconds)
                print(f"  {kind:>3}  run {run + 1}: {seconds:6.2f} s", flush=True)
        one, all_ = statistics.median(times["one"]), statistics.median(times["all"])
        load = os.getloadavg()
        print(f"\nbench:1 (196 MiB) with --transport auto (registry), {args.runs} runs, {os.cpu_count()} cores, "
              f"load average {load[0]:.1f}")
        print(f"one registry:        {one:6.2f} s")
        print(f"{args.destinations} registries at once: {all_:6.2f} s  = {all_ / one:.2f}x one push "
              f"({all_ / (one * args.destinations):.2f}x {args.destinations} single pushes)")
    finally:
        cleanup.run()


if __name__ == "__main__":
    main()
