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

With --everyday, the everyday push to several regions instead: a fresh runner (every image removed, dockerd's
distribution metadata removed, the base pulled anew from the first registry) builds base + 1 MiB and pushes it to
every registry, timed with `docker push` to each registry in turn (its logins made outside the time), `ecrpush push`
with --registry repeated (auto, the default) and the same with `--transport registry`. The base (busybox + 64 MiB
random + 64 MiB text) is in the first registry only, as a base kept in one region is. First pushes go to new
repositories; later pushes go to the repositories of the first run, where the base is then in every registry.
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
    parser.add_argument("--everyday", action="store_true", help="the everyday push of base + 1 MiB (see above)")
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
        if args.everyday:
            everyday(bench, [bench.direct[0]] + registries[1:], args.runs)
            return
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


EVERYDAY_TOOLS = ("docker push", "ecrpush auto", "ecrpush registry")


def everyday(bench, registries, runs):
    """base + 1 MiB from fresh runners to every registry: docker push to each in turn, ecrpush with auto and with
    --transport registry. Prints each push and the medians."""
    bench.publish_base()
    base_ref = f"{registries[0]}/base/app:1"
    for registry in registries[1:]:
        bench.docker_login(registry)
    suffix = secrets.token_hex(3)
    repos = {(tool, i): f"fanout/everyday-{tool.replace(' ', '-')}-{i}-{suffix}" for tool in EVERYDAY_TOOLS for i in range(runs)}
    bench.create_repositories(repos.values())
    times = {}
    version = 0
    for kind in ("first push", "later push"):
        for i in range(runs):
            for tool in EVERYDAY_TOOLS:
                version += 1
                tag = f"v{version}"
                bench.fresh_runner(base_ref)
                bench.build(f"app:{tag}", base_ref, lambda directory: be.write_random(f"{directory}/random", 1))
                repository = repos[(tool, i if kind == "first push" else 0)]
                log = f"{bench.dir}/logs/everyday-{version:03d}.log"
                if tool == "docker push":
                    for registry in registries:
                        bench.docker("tag", f"app:{tag}", f"{registry}/{repository}:{tag}")
                    script = " && ".join(f"docker push -q {registry}/{repository}:{tag}" for registry in registries)
                    command, env = ["bash", "-c", script], bench.docker_env
                else:
                    command = [bench.ecrpush, "push", f"app:{tag}", "--repository", repository, "--tag", tag]
                    for registry in registries:
                        command += ["--registry", registry]
                    if tool == "ecrpush registry":
                        command += ["--transport", "registry"]
                    env = bench.ecrpush_env(bench.moto["endpoint"], f"{bench.dir}/cache.{version}")
                seconds = be.timed(command, env, log)
                times.setdefault((kind, tool), []).append(seconds)
                print(f"  {kind:11s} {tool:17s} {seconds:6.2f} s", flush=True)
    load = os.getloadavg()
    print(f"\nbase + 1 MiB to {len(registries)} registries from fresh runners, {runs} runs, {os.cpu_count()} cores, "
          f"load average {load[0]:.1f}")
    print("| push | tool | median s | vs docker push |")
    print("| --- | --- | --- | --- |")
    for kind in ("first push", "later push"):
        docker = statistics.median(times[(kind, "docker push")])
        for tool in EVERYDAY_TOOLS:
            median = statistics.median(times[(kind, tool)])
            print(f"| {kind} | {tool} | {median:.2f} | {median / docker:.2f} |")


if __name__ == "__main__":
    main()
