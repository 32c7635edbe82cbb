#!/usr/bin/env python3
"""Benchmark (issue 10): everyday CI pushes, `docker push` against `ecrpush push`, each on a fresh runner.

Usage: python3 tools/bench_everyday.py PATH/TO/ecrpush [--runs 3] [--scenarios 1,2,3,4,5]
           [--ecrpush-args="--transport auto"] [--shaped-scenarios 1,2,3] [--delay-ms 10] [--rate-mbit 200] [--count-with-relay] [--no-login-peer]
           [--verbose] [--keep-logs DIR]

A CI runner starts empty: it pulls the base image, builds the app on it and pushes the result. The registry is
what persists. So every push here starts from a *fresh runner*: every image in dockerd removed, dockerd stopped,
its distribution metadata (`image/*/distribution` under the data root: which registry holds which layer, what
lets docker skip or mount a layer) removed, dockerd started again, the base pulled anew from where it lives, the
app built on it, and ecrpush given an empty cache (a fresh XDG_CACHE_HOME, so `--no-blob-cache` is not needed).

The world (tools/world.sh, loopback only): a distribution registry with basic auth as ECR's `AWS:<token>` (the
destination), motoworld (moto) whose GetAuthorizationToken returns that password, a private dockerd, and for
scenario 2 a second registry without authentication. Images: base = busybox:local + 64 MiB random + 64 MiB text
(two layers); app = base + a new layer per push. Scenarios:

  1  base in the destination registry (`base/app:1`, pushed there by docker), app = base + 1 MiB random.
  2  base in another registry, put there by `skopeo copy --dest-compress-level 9` (its blobs are not docker's
     gzip), app = base + 1 MiB random.
  3  base in the destination registry, app = base + a 256 MiB layer (128 MiB random, 128 MiB text).
  4  the cold push of tools/bench_push.py's `bench:1` (busybox + 3 x 64 MiB random + 64 MiB text, built locally,
     so nothing is in any registry yet) to a new repository; the tag and RepoDigests each push leaves on it are
     removed before the next, so that every push is cold.
  5  scenarios 1-3 again over a shaped link: every connection to the destination registry and to moto (pulls
     of the base included; the other registry stays direct) goes through a relay in this process that adds
     --delay-ms each way (and one round trip per new connection, as a TCP handshake) and shares --rate-mbit per
     direction among all connections. (A network namespace with tc netem would be the kernel's way; this
     machine's kernel has no netem, CONFIG_NET_SCH_NETEM is off.)

In scenarios 1-3 each tool pushes to repositories of its own: first --runs times to a *new* repository ("first
push"), then --runs times to the repository of its first push, which already holds an earlier app version
("later push"); scenario 2 is about the later pushes. Tools alternate run by run, so drift hits both alike.
ecrpush runs as `ECRPUSH push IMAGE --repository R --tag T --registry HOST:PORT` (without --registry under
--no-registry-flag: the registry is then the one moto's GetAuthorizationToken names) plus --ecrpush-args, with the
containerise.py variables (AWS_IAM_USER_ACCESS_KEY_ID, AWS_IAM_USER_SECRET_ACCESS_KEY, AWS_IAM_ROLE_ARN): its
time includes its own login (AssumeRole, GetAuthorizationToken). `docker push` uses a `docker login` made once
before (password on stdin), outside the timing. So scenario 1 (and 5 = 1) also times `aws+docker`, the flow ecrpush
replaces with its login included, as a CI script writes it: `aws sts assume-role` with the containerise.py user's
keys, `aws ecr get-login-password | docker login --password-stdin`, `docker push` (the AWS CLI from PyPI, as the
world's moto is; --no-login-peer leaves it out). ECR repositories are created beforehand through moto.

Bytes sent: the TCP payload that clients send to the registry's port and to moto's port (the ECR API), counted by
iptables rules on lo in a chain of this process's own (IP bytes minus the IP and TCP headers of every packet),
read before and after each push. moto relays ECR layer uploads into the registry through 127.0.0.3 (DNAT to the
registry), which the count leaves out, so an `ecr-api` push is not counted twice. Without iptables (or with
--count-with-relay), clients go through a counting relay in this process instead. Pulls and builds of the fresh
runner are never counted or timed.

Prints, per scenario, a row per tool (and first/later push): median wall seconds and median MB (10^6 bytes) sent,
each with its ratio to docker push. A benchmark, not a test: it asserts nothing beyond every command succeeding.
Everything it starts (dockerd, registries, moto, relays, iptables rules) is removed on exit, on failure and on
Ctrl-C; world.sh's watchdog and one of this script's own clean up after a SIGKILL too. With --runs 3, all five
scenarios take 14-21 minutes on 2 cores (each push needs a fresh runner: dockerd restarted, base pulled, app built).
"""
import argparse
import asyncio
import json
import os
import secrets
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_push  # noqa: E402  (free_port, run, make_context, dockerd_pid)

HERE = os.path.dirname(os.path.abspath(__file__))
WORLD = os.path.join(HERE, "world.sh")
MIB = 1 << 20
RELAY_SOURCE = "127.0.0.3"  # moto reaches the registry through this address: its traffic is not counted
TOOLS = ("docker push", "ecrpush push")
# Scenario 1 (and 5 = 1) also times the flow ecrpush replaces, login included, as a CI script writes it: the
# containerise.py role assumed with the AWS CLI, its registry password piped into `docker login`, then `docker push`.
LOGIN_PEER = "aws+docker"
LOGIN_PEER_SCRIPT = """set -euo pipefail
export AWS_DEFAULT_REGION="$AWS_REGION"
credentials=$(AWS_ACCESS_KEY_ID="$AWS_IAM_USER_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$AWS_IAM_USER_SECRET_ACCESS_KEY" \\
  aws sts assume-role --role-arn "$AWS_IAM_ROLE_ARN" --role-session-name AssumeRoleSession1 \\
  --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN <<<"$credentials"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
aws ecr get-login-password | docker login --username AWS --password-stdin "$1" >/dev/null
docker push -q "$2"
"""


class Interrupted(Exception):
    pass


def on_signal(signum, _frame):
    raise Interrupted(signal.Signals(signum).name)


def run(command, env=None, check=True, **kwargs):
    return bench_push.run(command, env=env, check=check, **kwargs)


def timed(command, env, log):
    """Wall seconds of the command (stdin /dev/null, stdout and stderr to log); exits on failure."""
    with open(log, "wb") as out:
        start = time.perf_counter()
        pid = os.posix_spawnp(command[0], command, env, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, out.fileno(), 1), (os.POSIX_SPAWN_DUP2, out.fileno(), 2)])
        try:
            _, status = os.waitpid(pid, 0)
        except BaseException:
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except OSError:
                pass
            raise
        wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        with open(log, errors="replace") as f:
            sys.exit(f"{shlex.join(command)} failed ({code}):\n{f.read()[-4000:]}")
    return wall


def write_random(path, mib):
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(MIB))


def write_text(path, mib, first_line=0):
    words = [w.encode() for w in "the quick brown fox jumps over a lazy dog while registry layers stream by".split()]
    with open(path, "wb") as f:
        written, line = 0, first_line
        while written < mib * MIB:
            chunk = b"%08d " % line + b" ".join(words[(line + i) % len(words)] for i in range(12)) + b"\n"
            f.write(chunk)
            written += len(chunk)
            line += 1


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except OSError:
        return False


class Cleanup:
    """Undo actions, run last-in first-out on every exit path; a detached watchdog runs the shell equivalents if
    this process dies without running them (SIGKILL)."""

    def __init__(self):
        self.actions = []
        self.shell = []
        self.watchdog = None

    def add(self, action, shell=None):
        self.actions.append(action)
        if shell:
            self.shell.append(shell)
            self._respawn_watchdog()

    def _respawn_watchdog(self):
        self._stop_watchdog()
        script = (f"trap '' INT HUP; while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; "
                  + "; ".join(reversed(self.shell)))
        self.watchdog = subprocess.Popen(["setsid", "bash", "-c", script], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True)

    def _stop_watchdog(self):
        if self.watchdog is not None:
            self.watchdog.kill()
            self.watchdog.wait()
            self.watchdog = None

    def run(self):
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup short
        while self.actions:
            try:
                self.actions.pop()()
            except Exception as error:  # keep cleaning up
                print(f"cleanup: {error}", file=sys.stderr)
        self._stop_watchdog()


class IptablesCounter:
    """Bytes clients send to the registry's and moto's ports on lo, from iptables counters in a chain of our own.
    moto's relay of ecr-api uploads reaches the registry through RELAY_SOURCE (DNAT) and is left out."""

    def __init__(self, cleanup, registry_port, moto_port):
        self.chain = f"EVBENCH{os.getpid()}"
        ipt = "iptables -w"
        jump = f"INPUT -i lo -p tcp -j {self.chain}"
        nat_jump = f"OUTPUT -o lo -p tcp -d {RELAY_SOURCE} -j {self.chain}"
        undo = (f"{ipt} -D {jump}; {ipt} -F {self.chain}; {ipt} -X {self.chain}; "
                f"{ipt} -t nat -D {nat_jump}; {ipt} -t nat -F {self.chain}; {ipt} -t nat -X {self.chain}")
        cleanup.add(lambda: subprocess.run(["bash", "-c", undo], capture_output=True),
                    shell=f"{{ {undo}; }} >/dev/null 2>&1")
        for rule in (f"-N {self.chain}",
                     f"-A {self.chain} -p tcp --dport {registry_port} -m conntrack --ctorigdst 127.0.0.1 "
                     f"-m comment --comment registry -j RETURN",
                     f"-A {self.chain} -p tcp --dport {moto_port} -m comment --comment ecr-api -j RETURN",
                     f"-I {jump}",
                     f"-t nat -N {self.chain}",
                     f"-t nat -A {self.chain} -p tcp -d {RELAY_SOURCE} --dport {registry_port} "
                     f"-j DNAT --to-destination 127.0.0.1:{registry_port}",
                     f"-t nat -I {nat_jump}"):
            result = subprocess.run(["iptables", "-w", *rule.split()], capture_output=True, text=True)
            if result.returncode != 0:
                raise OSError(f"iptables {rule}: {result.stderr.strip()}")
        with open("/proc/sys/net/ipv4/tcp_timestamps") as f:
            self.header = 20 + 20 + (12 if f.read().strip() != "0" else 0)  # IPv4 + TCP (+ timestamps option)

    def read(self):
        out = run(["iptables", "-w", "-L", self.chain, "-v", "-x", "-n"]).stdout
        counts = {}
        for line in out.splitlines():
            fields = line.split()
            for name in ("registry", "ecr-api"):
                if f"/* {name} */" in line:
                    counts[name] = int(fields[1]) - int(fields[0]) * self.header
        return counts


class Relay:
    """TCP relays on 127.0.0.1 in a thread of this process, all over one emulated link: each chunk is
    serialised at `rate` bytes/s per direction (shared by every connection, like one network link), then
    delivered `delay` seconds later; a new connection waits one round trip first (the TCP handshake). With no
    delay and no rate it is a plain counting relay. Counts the bytes clients send through each listener."""

    def __init__(self, delay_s=0.0, rate_bytes=None):
        self.delay = delay_s
        self.rate = rate_bytes
        self.sent = {}
        self.link_free = {"up": 0.0, "down": 0.0}
        self.loop = asyncio.new_event_loop()
        self.loop.set_exception_handler(lambda loop, context: None)  # a reset connection is not news
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.servers = []

    def listen(self, name, upstream_port):
        async def start():
            server = await asyncio.start_server(
                lambda r, w: self._connection(r, w, name, upstream_port), "127.0.0.1", 0, limit=MIB)
            self.servers.append(server)
            return server.sockets[0].getsockname()[1]
        self.sent[name] = 0
        return asyncio.run_coroutine_threadsafe(start(), self.loop).result()

    def read(self):
        return dict(self.sent)

    def close(self):
        async def stop():
            for server in self.servers:
                server.close()
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    async def _serialise(self, direction, size):
        if not self.rate:
            return
        now = self.loop.time()
        done = max(now, self.link_free[direction]) + size / self.rate
        self.link_free[direction] = done
        await asyncio.sleep(done - now)

    async def _pipe(self, reader, writer, direction, count):
        queue = asyncio.Queue()
        queued = [0]

        async def deliver():
            while True:
                due, data = await queue.get()
                wait = due - self.loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                queued[0] -= len(data)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()

        deliverer = asyncio.ensure_future(deliver())
        try:
            while True:
                while queued[0] > 4 * MIB and not deliverer.done():
                    await asyncio.sleep(0.002)  # the far side is slower than the link: hold the sender back
                if deliverer.done():
                    deliverer.result()  # raises what broke the delivery
                    return
                data = await reader.read(256 * 1024)
                if count:
                    self.sent[count] += len(data)
                if data:
                    await self._serialise(direction, len(data))
                queued[0] += len(data)
                queue.put_nowait((self.loop.time() + self.delay, data))
                if not data:
                    break
            await deliverer
        finally:
            deliverer.cancel()

    async def _connection(self, client_reader, client_writer, name, upstream_port):
        upstream_writer = None
        try:
            if self.delay:
                await asyncio.sleep(2 * self.delay)
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", upstream_port, limit=MIB)
            pipes = [asyncio.ensure_future(self._pipe(client_reader, upstream_writer, "up", name)),
                     asyncio.ensure_future(self._pipe(upstream_reader, client_writer, "down", None))]
            done, pending = await asyncio.wait(pipes, return_when=asyncio.FIRST_EXCEPTION)
            if any(task.exception() for task in done):
                for writer in (client_writer, upstream_writer):
                    writer.transport.abort()
            await asyncio.gather(*pending, return_exceptions=True)
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            for writer in (client_writer, upstream_writer):
                if writer is not None:
                    writer.close()


class Bench:
    def __init__(self, args, cleanup):
        self.args = args
        self.cleanup = cleanup
        self.ecrpush = os.path.abspath(args.ecrpush)
        self.extra = shlex.split(args.ecrpush_args)
        self.results = {}  # (scenario label, push kind, tool) -> [(seconds, bytes)]
        self.order = []
        self.counter_name = None
        self.pushes = 0

    # --- the world ------------------------------------------------------------------------------------------
    def start_world(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DOCKER_", "XDG_CACHE"))}
        env["WORLD_OWNER_PID"] = str(os.getpid())
        self.env = env
        self.dir = tempfile.mkdtemp(prefix="be.", dir="/tmp")
        self.cleanup.add(lambda: subprocess.run([WORLD, "stop", self.dir], capture_output=True))
        self.src_dir = tempfile.mkdtemp(prefix="be-src.", dir="/tmp")
        self.cleanup.add(lambda: subprocess.run([WORLD, "stop", self.src_dir], capture_output=True))
        self.password = secrets.token_hex(16)
        self.registry_port = bench_push.free_port()
        self.moto_port = bench_push.free_port()
        run([WORLD, "registry", self.dir, str(self.registry_port), "AWS", self.password], env=env)
        self.source_port = bench_push.free_port()
        run([WORLD, "registry", self.src_dir, str(self.source_port)], env=env)

        # Count with iptables when we may; otherwise every client goes through a counting relay.
        moto_registry = f"http://127.0.0.1:{self.registry_port}"
        self.counting_relay = None
        try:
            if self.args.count_with_relay:
                raise OSError("--count-with-relay")
            self.counter = IptablesCounter(self.cleanup, self.registry_port, self.moto_port)
            self.counter_name = "iptables counters on lo"
            moto_registry = f"http://{RELAY_SOURCE}:{self.registry_port}"
        except OSError as error:
            print(f"not counting with iptables ({error}): clients go through a counting relay", flush=True)
            self.counting_relay = Relay()
            self.cleanup.add(self.counting_relay.close)
            self.counter = self.counting_relay
            self.counter_name = "a counting TCP relay"

        self.moto = json.loads(run([WORLD, "moto", self.dir, "--port", str(self.moto_port),
                                    "--work-dir", f"{self.dir}/uploads", "--registry", moto_registry,
                                    "--registry-user", "AWS", "--registry-password", self.password,
                                    "--proxy-endpoint", f"http://127.0.0.1:{self.registry_port}"],
                                   env=env).stdout.strip().splitlines()[-1])
        run([WORLD, "dockerd", self.dir], env=env)
        self.sock = f"{self.dir}/docker.sock"
        self.docker_env = dict(env, DOCKER_HOST=f"unix://{self.sock}", DOCKER_CONFIG=f"{self.dir}/cli")
        os.makedirs(f"{self.dir}/tmp", exist_ok=True)
        os.makedirs(f"{self.dir}/logs", exist_ok=True)
        if self.counting_relay is None:
            self.direct = (f"127.0.0.1:{self.registry_port}", self.moto["endpoint"])
        else:
            self.direct = (f"127.0.0.1:{self.counting_relay.listen('registry', self.registry_port)}",
                           f"http://127.0.0.1:{self.counting_relay.listen('ecr-api', self.moto_port)}")
        self.docker_login(self.direct[0])

    def link(self, shaped):
        """(registry host:port, ECR endpoint URL) as clients see them."""
        return self.shaped if shaped else self.direct

    def start_shaped_link(self):
        rate = self.args.rate_mbit * 1e6 / 8 if self.args.rate_mbit > 0 else None
        relay = Relay(self.args.delay_ms / 1000, rate)
        self.cleanup.add(relay.close)
        registry = f"127.0.0.1:{relay.listen('registry', self.registry_port)}"
        endpoint = f"http://127.0.0.1:{relay.listen('ecr-api', self.moto_port)}"
        self.shaped = (registry, endpoint)
        self.shaped_relay = relay
        # A login through the shaped link names the registry through it too (ecrpush without --registry).
        request = urllib.request.Request(f"{self.moto['endpoint']}/_motoworld/proxy-endpoints", method="POST",
                                         data=json.dumps({endpoint.removeprefix("http://"): f"http://{registry}"}).encode())
        urllib.request.urlopen(request, timeout=10).read()
        self.docker_login(registry)

    def docker(self, *args, **kwargs):
        return run(["docker", *args], env=self.docker_env, **kwargs)

    def docker_login(self, registry):
        self.docker("login", "--username", "AWS", "--password-stdin", registry, input=self.password)

    def create_repositories(self, names):
        import boto3  # motoworld's dependency; imported here so that --help needs nothing
        ecr = boto3.client("ecr", endpoint_url=self.moto["endpoint"], region_name=self.moto["region"],
                           aws_access_key_id=self.moto["adminAccessKeyId"],
                           aws_secret_access_key=self.moto["adminSecretAccessKey"])
        for name in names:
            ecr.create_repository(repositoryName=name)

    def ecrpush_env(self, endpoint, cache):
        return dict(self.env, DOCKER_HOST=f"unix://{self.sock}",
                    AWS_IAM_USER_ACCESS_KEY_ID=self.moto["userAccessKeyId"],
                    AWS_IAM_USER_SECRET_ACCESS_KEY=self.moto["userSecretAccessKey"],
                    AWS_IAM_ROLE_ARN=self.moto["roleArn"], AWS_REGION=self.moto["region"],
                    AWS_ENDPOINT_URL=endpoint, AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                    AWS_EC2_METADATA_DISABLED="true", HOME=f"{self.dir}/home", TMPDIR=f"{self.dir}/tmp",
                    XDG_CACHE_HOME=cache)

    # --- fresh runners --------------------------------------------------------------------------------------
    def restart_dockerd(self):
        """dockerd stopped, its distribution metadata removed, started again."""
        pid = bench_push.dockerd_pid(self.dir)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while pid_alive(pid):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)
        image_dir = f"{self.dir}/root/image"
        for entry in os.listdir(image_dir):
            shutil.rmtree(f"{image_dir}/{entry}/distribution", ignore_errors=True)
        run([WORLD, "dockerd", self.dir], env=self.env)

    def remove_images(self):
        self.docker("container", "prune", "-f")
        self.docker("image", "prune", "-a", "-f")
        left = self.docker("images", "-aq").stdout.split()
        if left:
            sys.exit(f"images left after docker image prune -a: {left}")

    def forget_pushes(self, image):
        """Keeps a cold push cold: the references earlier pushes left on the image (the pushed tag, RepoDigests
        naming the destination registry) are removed, as a runner that just built it has none. Else the next
        push sees the whole image in the destination registry already, and ecrpush's auto rightly counts on
        the Engine to mount it, which the Engine cannot do without the distribution metadata removed here."""
        def references():
            info = json.loads(self.docker("image", "inspect", image).stdout)[0]
            return [r for r in (info.get("RepoTags") or []) + (info.get("RepoDigests") or []) if r != image]
        for reference in references():
            self.docker("rmi", reference, check=False)  # a tag's removal takes its repository's digests along
        if references():
            sys.exit(f"references left on {image}: {references()}")

    def fresh_runner(self, base_ref):
        self.remove_images()
        self.restart_dockerd()
        self.docker("pull", "-q", base_ref)

    def build(self, tag, base_ref, layer):
        """The app: base_ref + one new layer (layer(directory) writes its files into directory)."""
        context = f"{self.dir}/ctx"
        shutil.rmtree(context, ignore_errors=True)
        os.makedirs(f"{context}/layer")
        layer(f"{context}/layer")
        with open(f"{context}/Dockerfile", "w") as f:
            f.write(f"FROM {base_ref}\nCOPY layer /app/\n")
        self.docker("build", "-q", "-t", tag, context)
        shutil.rmtree(context)

    # --- one timed push -------------------------------------------------------------------------------------
    def push(self, tool, image, repository, tag, shaped):
        registry, endpoint = self.link(shaped)
        counter = self.shaped_relay if shaped and self.counting_relay is not None else self.counter
        self.pushes += 1
        log = f"{self.dir}/logs/{self.pushes:03d}-{tool.split()[0]}.log"
        if tool == "docker push":
            self.docker("tag", image, f"{registry}/{repository}:{tag}")
            command, env = ["docker", "push", "-q", f"{registry}/{repository}:{tag}"], self.docker_env
        elif tool == LOGIN_PEER:
            self.docker("tag", image, f"{registry}/{repository}:{tag}")
            command = ["bash", "-c", LOGIN_PEER_SCRIPT, LOGIN_PEER, registry, f"{registry}/{repository}:{tag}"]
            env = dict(self.ecrpush_env(endpoint, f"{self.dir}/cache.peer"), DOCKER_CONFIG=self.docker_env["DOCKER_CONFIG"])
        else:
            cache = f"{self.dir}/cache.{self.pushes}"  # an empty XDG_CACHE_HOME: nothing remembered
            command = [self.ecrpush, "push", image, "--repository", repository, "--tag", tag,
                       *([] if self.args.no_registry_flag else ["--registry", registry]), *self.extra]
            env = self.ecrpush_env(endpoint, cache)
        before = counter.read()
        seconds = timed(command, env, log)
        after = counter.read()
        sent = {name: after.get(name, 0) - before.get(name, 0) for name in ("registry", "ecr-api")}
        if tool == "ecrpush push":
            shutil.rmtree(env["XDG_CACHE_HOME"], ignore_errors=True)
        if self.args.keep_logs:
            os.makedirs(self.args.keep_logs, exist_ok=True)
            shutil.copy(log, self.args.keep_logs)
        if self.args.verbose:
            with open(log, errors="replace") as f:
                tail = f.read().strip().splitlines()[-3:]
            for line in tail:
                print(f"      | {line[:160]}")
        return seconds, sent

    def record(self, label, kind, tool, seconds, sent):
        key = (label, kind, tool)
        if key not in self.results:
            self.results[key] = []
            self.order.append(key)
        total = sent["registry"] + sent["ecr-api"]
        self.results[key].append((seconds, total))
        print(f"  {label:3s} {kind:11s} {tool:13s} {seconds:7.2f} s  {total / 1e6:9.2f} MB sent "
              f"(registry {sent['registry'] / 1e6:.2f} MB, ECR API {sent['ecr-api'] / 1e3:.1f} kB)", flush=True)

    # --- the images -----------------------------------------------------------------------------------------
    def publish_base(self):
        """base = busybox:local + 64 MiB random + 64 MiB text; docker pushes it to the destination
        (base/app:1), skopeo copies it to the other registry with gzip level 9."""
        run([WORLD, "base-image", self.dir], env=self.env)
        context = f"{self.dir}/base"
        os.makedirs(context)
        write_random(f"{context}/random", 64)
        write_text(f"{context}/text", 64)
        with open(f"{context}/Dockerfile", "w") as f:
            f.write("FROM busybox:local\nCOPY random /base/random\nCOPY text /base/text\n")
        self.docker("build", "-q", "-t", "base:built", context)
        shutil.rmtree(context)
        destination = f"{self.direct[0]}/base/app:1"
        self.create_repositories(["base/app"])
        self.docker("tag", "base:built", destination)
        self.docker("push", "-q", destination)
        if "2" in self.args.scenarios or "5" in self.args.scenarios:
            run(["skopeo", "copy", "-q", "--src-daemon-host", f"unix://{self.sock}", "--dest-tls-verify=false",
                 "--dest-compress-level", "9", "docker-daemon:base:built",
                 f"docker://127.0.0.1:{self.source_port}/base/app:1"])

    # --- scenarios ------------------------------------------------------------------------------------------
    def app_scenario(self, number, shaped):
        label = f"{number}{'s' if shaped else ''}"
        registry, _ = self.link(shaped)
        if number == 2:
            base_ref = f"127.0.0.1:{self.source_port}/base/app:1"
        else:
            base_ref = f"{registry}/base/app:1"
        if number == 3:
            text = f"{self.dir}/text128"
            if not os.path.exists(text):
                write_text(text, 128, first_line=10_000_000)

            def layer(directory):
                write_random(f"{directory}/random", 128)
                os.link(text, f"{directory}/text")
        else:
            def layer(directory):
                write_random(f"{directory}/random", 1)

        runs = self.args.runs
        tools = TOOLS + ((LOGIN_PEER,) if number == 1 and not self.args.no_login_peer else ())
        suffix = secrets.token_hex(3)
        repos = {(tool, i): f"everyday/s{label}-{tool.split()[0].replace('+', '-')}-{i}-{suffix}" for tool in tools for i in range(runs)}
        self.create_repositories(repos.values())
        version = 0
        for kind in ("first push", "later push"):
            for i in range(runs):
                for tool in tools:
                    version += 1
                    tag = f"v{version}"
                    self.fresh_runner(base_ref)
                    self.build(f"app:{tag}", base_ref, layer)
                    repository = repos[(tool, i if kind == "first push" else 0)]
                    seconds, sent = self.push(tool, f"app:{tag}", repository, tag, shaped)
                    self.record(label, kind, tool, seconds, sent)

    def cold_scenario(self):
        run([WORLD, "base-image", self.dir], env=self.env)
        print("building bench:1 (busybox + 3 x 64 MiB random + 64 MiB text)", flush=True)
        bench_push.make_context(f"{self.dir}/ctx", 64)
        self.docker("build", "-q", "-t", "bench:1", f"{self.dir}/ctx")
        shutil.rmtree(f"{self.dir}/ctx")
        suffix = secrets.token_hex(3)
        repos = {(tool, i): f"everyday/s4-{tool.split()[0]}-{i}-{suffix}" for tool in TOOLS for i in range(self.args.runs)}
        self.create_repositories(repos.values())
        for i in range(self.args.runs):
            for tool in TOOLS:
                self.forget_pushes("bench:1")
                self.restart_dockerd()  # the runner has just built bench:1: it stays
                seconds, sent = self.push(tool, "bench:1", repos[(tool, i)], "1", False)
                self.record("4", "first push", tool, seconds, sent)
        self.remove_images()

    # --- the report -----------------------------------------------------------------------------------------
    def report(self):
        titles = {
            "1": "1: base in the destination registry (base/app:1, docker's gzip), app = base + 1 MiB",
            "2": "2: base in another registry (skopeo, gzip -9), app = base + 1 MiB; the later pushes are the case",
            "3": "3: base in the destination registry, app = base + 256 MiB (half random, half text)",
            "4": "4: cold push of bench:1 (busybox + 3 x 64 MiB random + 64 MiB text) to a new repository",
        }
        shaped = f" over the shaped link ({self.args.delay_ms:g} ms each way, {self.args.rate_mbit:g} Mbit/s)"
        header = (f"  {'tool':13s} {'push':11s} {'median s':>9s} {'x docker':>9s} {'sent MB':>9s} {'x docker':>9s}"
                  f" {'x ' + LOGIN_PEER:>12s}")
        last = None
        for label, kind, tool in self.order:
            if label != last:
                last = label
                print()
                print(titles[label[0]] + (shaped if label.endswith("s") else ""))
                print(header)
                print("  " + "-" * (len(header) - 2))
            rows = self.results[(label, kind, tool)]
            docker = self.results.get((label, kind, "docker push"), rows)
            seconds = statistics.median(r[0] for r in rows)
            sent = statistics.median(r[1] for r in rows)
            docker_s = statistics.median(r[0] for r in docker)
            docker_b = statistics.median(r[1] for r in docker)
            ratio_b = f"{sent / docker_b:9.2f}" if docker_b > 0 else f"{'-':>9s}"
            # Time against the flow with its login, where it ran: ecrpush's time includes its login too.
            peer = self.results.get((label, kind, LOGIN_PEER))
            ratio_peer = f"{seconds / statistics.median(r[0] for r in peer):12.2f}" if peer else f"{'-':>12s}"
            print(f"  {tool:13s} {kind:11s} {seconds:9.2f} {seconds / docker_s:9.2f} {sent / 1e6:9.1f} {ratio_b} {ratio_peer}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ecrpush", help="the ecrpush binary (a release build)")
    parser.add_argument("--runs", type=int, default=3, help="fresh runners per tool and kind of push (median)")
    parser.add_argument("--scenarios", default="1,2,3,4,5", help="comma-separated, of 1-5 (default: all)")
    parser.add_argument("--ecrpush-args", default="",
                        help='extra arguments for ecrpush push, one string: --ecrpush-args="--transport auto"')
    parser.add_argument("--shaped-scenarios", default="1,2,3", help="scenario 5: which of 1-3 to run over the link")
    parser.add_argument("--delay-ms", type=float, default=10.0, help="scenario 5: one-way delay of the link")
    parser.add_argument("--rate-mbit", type=float, default=200.0, help="scenario 5: rate of the link, per direction")
    parser.add_argument("--count-with-relay", action="store_true",
                        help="count bytes with a relay in this process instead of iptables (the fallback)")
    parser.add_argument("--no-registry-flag", action="store_true",
                        help="run ecrpush without --registry: the registry comes from the login (moto's proxyEndpoint), "
                             "as an ECR user runs it")
    parser.add_argument("--no-login-peer", action="store_true",
                        help=f"scenario 1: leave out {LOGIN_PEER} (aws sts assume-role, aws ecr get-login-password | "
                             "docker login, docker push, timed together)")
    parser.add_argument("--verbose", action="store_true", help="print the last lines of each push's output")
    parser.add_argument("--keep-logs", metavar="DIR", help="copy each push's output into DIR (NNN-tool.log)")
    args = parser.parse_args()
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    if not args.scenarios or any(s not in "12345" or len(s) != 1 for s in args.scenarios) or args.runs < 1:
        parser.error("--scenarios takes numbers 1-5 separated by commas; --runs at least 1")
    if os.geteuid() != 0:
        parser.error("run as root (dockerd, iptables)")
    if not args.no_login_peer and ("1" in args.scenarios or "5" in args.scenarios) and not shutil.which("aws"):
        parser.error(f"{LOGIN_PEER} needs the AWS CLI (pip install awscli), or pass --no-login-peer")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    cleanup = Cleanup()
    bench = Bench(args, cleanup)
    started = time.monotonic()
    try:
        bench.start_world()
        print(f"world in {bench.dir}: registry 127.0.0.1:{bench.registry_port}, other registry "
              f"127.0.0.1:{bench.source_port}, moto {bench.moto['endpoint']}; bytes counted with {bench.counter_name}",
              flush=True)
        print("publishing the base (busybox + 64 MiB random + 64 MiB text)", flush=True)
        bench.publish_base()
        for scenario in ("1", "2", "3"):
            if scenario in args.scenarios:
                print(f"scenario {scenario}", flush=True)
                bench.app_scenario(int(scenario), shaped=False)
        if "4" in args.scenarios:
            print("scenario 4", flush=True)
            bench.cold_scenario()
        if "5" in args.scenarios:
            print(f"scenario 5: 1-3 over a link of {args.delay_ms:g} ms each way and {args.rate_mbit:g} Mbit/s", flush=True)
            bench.start_shaped_link()
            for scenario in (1, 2, 3):
                if str(scenario) in args.shaped_scenarios:
                    bench.app_scenario(scenario, shaped=True)

        load = os.getloadavg()
        print()
        print(f"{args.runs} fresh runners per tool and kind of push; ecrpush extra arguments: "
              f"{shlex.join(bench.extra) or '(none)'}; {os.cpu_count()} cores; load average at the end "
              f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; took {(time.monotonic() - started) / 60:.1f} min")
        print("sent MB: TCP payload clients sent to the registry and the ECR API (moto), 10^6 bytes; "
              "x docker: ratio to docker push in the same scenario and kind of push (its login made once before, "
              f"outside the time); x {LOGIN_PEER}: time against the AWS CLI's login and docker's push timed together")
        bench.report()
    except (KeyboardInterrupt, Interrupted) as interruption:
        print(f"\ninterrupted ({str(interruption) or 'SIGINT'}): cleaning up", file=sys.stderr)
        sys.exit(130)
    finally:
        cleanup.run()


if __name__ == "__main__":
    main()
