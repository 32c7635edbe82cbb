#!/usr/bin/env python3
"""Benchmark: pushing one image with `docker push`, `skopeo copy` and `ecrpush push` (each transport), cold.

Usage: python3 tools/bench_push.py PATH/TO/ecrpush [--runs 3] [--jobs 4] [--layer-mib 64] [--big-mib 1024]

Starts a loopback world with tools/world.sh (distribution registry with basic auth, a private dockerd,
busybox:local, motoworld with --registry so ECR's token and layer API land in that registry), builds `bench:1`
= busybox + three layers of random bytes + one layer of text (64 MiB each by default), then, alternating tools
round by round, pushes it to a fresh repository every time (an empty registry as far as the push can tell;
dockerd's distribution metadata is cleared first, so it cannot mount or skip anything).

Prints per tool: median wall seconds, peak RSS of the client process (and of dockerd, reset before each run
through /proc/PID/clear_refs, for the tools that make dockerd do the work), bytes the registry stores for the
repository, ratios to docker push and skopeo, and the Engine's own export time (GET /images/bench:1/get to
/dev/null) as the floor for anything that reads the image through the Engine API.
This is a benchmark, not a test: it asserts nothing beyond each push succeeding.
"""
import argparse
import base64
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORLD = os.path.join(HERE, "world.sh")
MIB = 1 << 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(command, env=None, check=True, **kwargs):
    result = subprocess.run(command, env=env, capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def timed_child(command, env):
    """Wall seconds and peak RSS (KiB) of the command, reaped with wait4 so ru_maxrss is its own."""
    start = time.perf_counter()
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    pid = os.posix_spawnp(command[0], command, env, file_actions=[
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_DUP2, out.fileno(), 1), (os.POSIX_SPAWN_DUP2, err.fileno(), 2)])
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        err.seek(0)
        out.seek(0)
        sys.exit(f"{' '.join(command)} failed ({code}):\n{out.read().decode()[-2000:]}\n{err.read().decode()[-4000:]}")
    return wall, usage.ru_maxrss


def dockerd_pid(directory):
    with open(os.path.join(directory, "docker.pid")) as f:
        return int(f.read().strip())


def reset_peak(pid):
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
        return True
    except OSError:
        return False


def peak_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def drop_caches():
    subprocess.run(["sync"])
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3")
        return True
    except OSError:
        return False


def stored_bytes(registry_dir, repository):
    """Sum of the sizes of the blobs the registry links into the repository (layers and config)."""
    root = os.path.join(registry_dir, "registry", "docker", "registry", "v2")
    layers = os.path.join(root, "repositories", repository, "_layers", "sha256")
    total = 0
    for digest in os.listdir(layers):
        total += os.path.getsize(os.path.join(root, "blobs", "sha256", digest[:2], digest, "data"))
    return total


def make_context(directory, layer_mib):
    os.makedirs(directory, exist_ok=True)
    for name in ("r1", "r2", "r3"):
        with open(os.path.join(directory, name), "wb") as f:
            for _ in range(layer_mib):
                f.write(os.urandom(MIB))
    words = [w.encode() for w in "the quick brown fox jumps over a lazy dog while registry layers stream by".split()]
    with open(os.path.join(directory, "text"), "wb") as f:
        written, line = 0, 0
        while written < layer_mib * MIB:
            chunk = b"%08d " % line + b" ".join(words[(line + i) % len(words)] for i in range(12)) + b"\n"
            f.write(chunk)
            written += len(chunk)
            line += 1
    with open(os.path.join(directory, "Dockerfile"), "w") as f:
        f.write("FROM busybox:local\nCOPY r1 /r1\nCOPY r2 /r2\nCOPY r3 /r3\nCOPY text /text\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("ecrpush")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--layer-mib", type=int, default=64)
    parser.add_argument("--big-mib", type=int, default=1024)
    args = parser.parse_args()
    ecrpush = os.path.abspath(args.ecrpush)

    world = tempfile.mkdtemp(prefix="bp.", dir="/tmp")
    env_base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DOCKER_"))}
    env_base["WORLD_OWNER_PID"] = str(os.getpid())
    try:
        port = free_port()
        password = secrets.token_hex(16)
        registry = f"127.0.0.1:{port}"
        run([WORLD, "registry", world, str(port), "AWS", password], env=env_base)
        run([WORLD, "dockerd", world], env=env_base)
        run([WORLD, "base-image", world], env=env_base)
        moto = json.loads(run([WORLD, "moto", world, "--port", "0", "--work-dir", f"{world}/uploads",
                               "--registry", f"http://{registry}", "--registry-user", "AWS",
                               "--registry-password", password, "--proxy-endpoint", f"http://{registry}"],
                              env=env_base).stdout.strip().splitlines()[-1])
        sock = f"{world}/docker.sock"
        docker_env = dict(env_base, DOCKER_HOST=f"unix://{sock}", DOCKER_CONFIG=f"{world}/cli")
        run(["docker", "login", "--username", "AWS", "--password-stdin", registry], env=docker_env, input=password)

        print(f"building bench:1 (busybox + 3 x {args.layer_mib} MiB random + {args.layer_mib} MiB text)", flush=True)
        make_context(f"{world}/ctx", args.layer_mib)
        run(["docker", "build", "-q", "-t", "bench:1", f"{world}/ctx"], env=docker_env)
        shutil.rmtree(f"{world}/ctx")

        # skopeo reads the login from a file, never from argv.
        authfile = f"{world}/skopeo-auth.json"
        with open(authfile, "w") as f:
            json.dump({"auths": {registry: {"auth": base64.b64encode(f"AWS:{password}".encode()).decode()}}}, f)
        os.chmod(authfile, 0o600)

        ecr_env = dict(env_base, DOCKER_HOST=f"unix://{sock}", AWS_ACCESS_KEY_ID=moto["adminAccessKeyId"],
                       AWS_SECRET_ACCESS_KEY=moto["adminSecretAccessKey"], AWS_REGION=moto["region"],
                       AWS_ENDPOINT_URL=moto["endpoint"], AWS_CONFIG_FILE="/dev/null",
                       AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_EC2_METADATA_DISABLED="true",
                       HOME=f"{world}/home", TMPDIR=f"{world}/tmp")
        os.makedirs(f"{world}/tmp", exist_ok=True)
        data_root = f"{world}/root"
        daemon = dockerd_pid(world)

        ecrpush_cache = f"{world}/home/.cache/ecrpush/blobs"

        def clear_daemon_metadata():
            # dockerd remembers which registry holds which layer (to skip or mount them): forget it all.
            for entry in os.listdir(f"{data_root}/image"):
                shutil.rmtree(f"{data_root}/image/{entry}/distribution", ignore_errors=True)

        def ecrpush_cmd(transport, extra=()):
            def command(repo):
                return [ecrpush, "push", "bench:1", "--repository", repo, "--tag", "1", "--create-repository",
                        "--transport", transport, "--jobs", str(args.jobs), "-q", *extra]
            return command

        def docker_cmd(repo):
            run(["docker", "tag", "bench:1", f"{registry}/{repo}:1"], env=docker_env)
            return ["docker", "push", "-q", f"{registry}/{repo}:1"]

        def skopeo_cmd(repo, cold=True):
            # skopeo's blob-info cache maps layers to blobs it already pushed and mounts them from other
            # repositories instead of uploading: cleared so every run is cold.
            for directory in () if not cold else ("/var/lib/containers/cache", os.path.expanduser("~/.local/share/containers/cache")):
                for name in os.listdir(directory) if os.path.isdir(directory) else []:
                    if name.startswith("blob-info-cache"):
                        os.remove(os.path.join(directory, name))
            return ["skopeo", "copy", "-q", "--src-daemon-host", f"unix://{sock}", "--dest-authfile", authfile,
                    "--dest-tls-verify=false", "docker-daemon:bench:1", f"docker://{registry}/{repo}:1"]

        tools = [
            ("docker push", docker_cmd, docker_env, True),
            ("skopeo copy", skopeo_cmd, env_base, False),
            ("ecrpush --transport daemon", ecrpush_cmd("daemon"), ecr_env, True),
            ("ecrpush --transport ecr-api", ecrpush_cmd("ecr-api"), ecr_env, False),
            ("ecrpush --transport registry", ecrpush_cmd("registry"), ecr_env, False),
            ("ecrpush registry --compression zstd", ecrpush_cmd("registry", ("--compression", "zstd")), ecr_env, False),
        ]
        results = {name: {"wall": [], "rss": [], "dockerd": [], "stored": []} for name, *_ in tools}
        caches_dropped = True
        for round_ in range(args.runs):
            for name, make, env, _ in tools:  # alternating, so drift hits every tool alike
                repo = f"bench-{round_}-{name.split()[-1]}-{secrets.token_hex(3)}"
                command = make(repo)
                clear_daemon_metadata()
                shutil.rmtree(ecrpush_cache, ignore_errors=True)  # cold: ecrpush remembers no pushed blob
                caches_dropped &= drop_caches()
                reset_peak(daemon)
                wall, rss = timed_child(command, env)
                results[name]["wall"].append(wall)
                results[name]["rss"].append(rss)
                results[name]["dockerd"].append(peak_kib(daemon))
                results[name]["stored"].append(stored_bytes(world, repo))
                print(f"  round {round_ + 1} {name:30s} {wall:7.2f} s", flush=True)

        floor = []
        for _ in range(args.runs):
            drop_caches()
            start = time.perf_counter()
            run(["curl", "-sf", "--unix-socket", sock, "-o", "/dev/null", "http://localhost/images/bench:1/get"])
            floor.append(time.perf_counter() - start)
        floor_s = statistics.median(floor)
        image_bytes = int(run(["docker", "image", "inspect", "--format", "{{.Size}}", "bench:1"], env=docker_env).stdout)

        print()
        load = os.getloadavg()
        print(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (other work on the machine skews wall times)")
        print(f"image bench:1: {image_bytes / MIB:.0f} MiB uncompressed; {args.runs} cold runs per tool, alternating; "
              f"ecrpush --jobs {args.jobs}; {os.cpu_count()} cores; page cache dropped: {'yes' if caches_dropped else 'no (not permitted)'}")
        print(f"Engine export floor (GET /images/bench:1/get > /dev/null): median {floor_s:.2f} s")
        docker_s = statistics.median(results["docker push"]["wall"])
        skopeo_s = statistics.median(results["skopeo copy"]["wall"])
        header = f"{'tool':30s} {'wall s':>7s} {'x docker':>8s} {'x skopeo':>8s} {'client RSS':>11s} {'dockerd peak':>12s} {'stored MiB':>10s}"
        print(header)
        print("-" * len(header))
        for name, _, _, daemon_works in tools:
            r = results[name]
            wall = statistics.median(r["wall"])
            rss = max(r["rss"]) / 1024
            dockerd_peak = max(r["dockerd"]) / 1024
            stored = statistics.median(r["stored"]) / MIB
            print(f"{name:30s} {wall:7.2f} {wall / docker_s:8.2f} {wall / skopeo_s:8.2f} {rss:9.1f}MB "
                  f"{dockerd_peak:10.1f}MB {stored:10.1f}")
        print("client RSS: peak of the command itself (max over runs); dockerd peak: VmHWM of dockerd during the run "
              "(it does the pushing for docker push and --transport daemon, and the export for the others).")

        print()
        print(f"warm re-push of bench:1 (the repository already has it; each tool's caches kept), median of {args.runs}:")
        for name, make, env, _ in tools:
            repo = f"bench-warm-{name.split()[-1]}-{secrets.token_hex(3)}"
            if make is skopeo_cmd:
                make = lambda r: skopeo_cmd(r, cold=False)  # noqa: E731 (keep its blob-info cache)
            timed_child(make(repo), env)  # the first push fills the caches
            walls = [timed_child(make(repo), env)[0] for _ in range(args.runs)]
            print(f"  {name:30s} {statistics.median(walls):7.2f} s")

        if args.big_mib > 0:
            layer = max(1, args.big_mib // 4)
            print()
            print(f"building bench:big (busybox + 3 x {layer} MiB random + {layer} MiB text)", flush=True)
            make_context(f"{world}/big", layer)
            with open(f"{world}/big/Dockerfile", "w") as f:
                f.write("FROM busybox:local\nCOPY r1 /r1\nCOPY r2 /r2\nCOPY r3 /r3\nCOPY text /text\nLABEL big=1\n")
            run(["docker", "build", "-q", "-t", "bench:big", f"{world}/big"], env=docker_env)
            shutil.rmtree(f"{world}/big")
            for transport in ("registry", "ecr-api"):
                repo = f"bench-big-{transport}-{secrets.token_hex(3)}"
                shutil.rmtree(ecrpush_cache, ignore_errors=True)
                command = [ecrpush, "push", "bench:big", "--repository", repo, "--tag", "1", "--create-repository",
                           "--transport", transport, "--jobs", str(args.jobs), "-q"]
                wall, rss = timed_child(command, ecr_env)
                print(f"  ecrpush --transport {transport:9s} bench:big ({4 * layer} MiB): {wall:6.2f} s, "
                      f"peak RSS {rss / 1024:.1f} MiB, stored {stored_bytes(world, repo) / MIB:.0f} MiB")
    finally:
        subprocess.run([WORLD, "stop", world], capture_output=True)


if __name__ == "__main__":
    main()
