#!/usr/bin/env bash
# world.sh: start and stop the loopback services that integration tests and `make demo` use.
# Every service lives in one directory DIR (keep it short, e.g. /tmp/w.XXXX: unix socket paths
# are limited to 108 bytes), records its pid in DIR/pids/NAME.pid and logs to DIR/NAME.log.
#
#   world.sh registry DIR PORT USER PASSWORD   docker-registry on 127.0.0.1:PORT, htpasswd basic auth,
#                                              filesystem storage in DIR/registry, delete enabled
#   world.sh registry DIR PORT                 the same without authentication (anyone may pull and push)
#   world.sh registry DIR PORT --token REALM   token auth as Docker Hub's: tools/tokenserver.py at REALM issues
#                                              the tokens, signed with DIR/token.key (DIR/token.crt trusted)
#   world.sh dockerd DIR                       dockerd on unix://DIR/docker.sock (vfs, no bridge, no iptables)
#   world.sh dockerd DIR --netns-bridge PORT   the same in a network namespace of its own (as rootless Docker's):
#                                              its 127.0.0.1 is not the host's, but for 127.0.0.1:PORT, bridged to
#                                              the host's (a registry) by tools/netns_bridge.py
#   world.sh base-image DIR                    busybox:local in that dockerd, from Debian's busybox-static
#   world.sh podman DIR                        podman's Docker-compatible API on unix://DIR/podman.sock (storage
#                                              in DIR, vfs), with busybox:local
#   world.sh moto DIR [motoworld args...]      tools/motoworld.py in the background; its JSON line in DIR/moto.json
#   world.sh stop DIR                          stop everything started in DIR, unmount, remove DIR
#
# With WORLD_OWNER_PID set, a watchdog stops DIR's services once that process is gone
# (so a test run that crashes leaves nothing behind).
# The docker CLI for a daemon: DOCKER_HOST=unix://DIR/docker.sock DOCKER_CONFIG=DIR/cli docker ...
# (127.0.0.0/8 registries are plain-HTTP "insecure" registries by default, nothing to configure).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() { echo "world.sh: $*" >&2; exit 1; }

# wait_for SECONDS DESCRIPTION LOG PID COMMAND...: poll COMMAND until it succeeds; fail early if PID died.
wait_for() {
    local seconds="$1" what="$2" log="$3" pid="$4"; shift 4
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$log" >&2 || true
            die "$what exited before it was ready (log: $log)"
        fi
        if ((SECONDS >= deadline)); then
            tail -n 30 "$log" >&2 || true
            die "$what not ready after ${seconds}s (log: $log)"
        fi
        sleep 0.2
    done
}

record() { mkdir -p "$1/pids"; echo "$3" > "$1/pids/$2.pid"; }

# close_inherited_fds: close every descriptor above 2. A service must not keep the caller's pipes or
# sockets open: callers (Swift's Process, `$(...)`) wait for those to close before they see us exit.
close_inherited_fds() {
    local fd
    for fd in /proc/self/fd/*; do
        fd="${fd##*/}"
        ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null || true
    done
}

# spawn LOG COMMAND...: run COMMAND in its own session, detached from our descriptors; $! is its pid.
spawn() {
    local log="$1"; shift
    (close_inherited_fds; exec setsid "$@" </dev/null >"$log" 2>&1) &
}

watchdog() {
    local dir="$1"
    [[ -n "${WORLD_OWNER_PID:-}" && ! -e "$dir/pids/watchdog.pid" ]] || return 0
    (
        close_inherited_fds
        trap '' HUP
        while kill -0 "$WORLD_OWNER_PID" 2>/dev/null; do sleep 1; done
        "$here/world.sh" stop "$dir"
    ) </dev/null >/dev/null 2>&1 &
    record "$dir" watchdog $!
}

cmd_registry() {
    (($# == 4 || $# == 2)) || die "usage: world.sh registry DIR PORT [USER PASSWORD | --token REALM_URL]"
    local dir="$1" port="$2" user="${3:-}" password="${4:-}"
    command -v docker-registry >/dev/null || die "docker-registry not installed (apt-get install docker-registry)"
    mkdir -p "$dir/registry"
    local auth="" ready=200
    if [[ "$user" == --token ]]; then
        # Token auth (as Docker Hub): tools/tokenserver.py at REALM_URL signs with $dir/token.key, whose
        # certificate the registry trusts.
        auth="auth:
  token:
    realm: $password
    service: loopback-registry
    issuer: loopback-tokens
    rootcertbundle: $dir/token.crt"
        ready=401
    elif (($# == 4)); then
        command -v htpasswd >/dev/null || die "htpasswd not installed (apt-get install apache2-utils)"
        htpasswd -Bbn "$user" "$password" > "$dir/htpasswd"
        auth="auth:
  htpasswd:
    realm: loopback-registry
    path: $dir/htpasswd"
        ready=401
    fi
    cat > "$dir/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: $(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
$auth
EOF
    spawn "$dir/registry.log" docker-registry serve "$dir/registry.yml"
    local pid=$!
    record "$dir" registry "$pid"
    watchdog "$dir"
    # Ready when /v2/ asks for credentials (without authentication: when it answers 200).
    wait_for 30 "docker-registry" "$dir/registry.log" "$pid" \
        bash -c "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port/v2/ | grep -q $ready"
    # The answer may have come from another server that took the port first (tests pick free ports concurrently):
    # ready only if this registry is the one listening, else it fails (and the caller picks another port).
    if command -v ss >/dev/null; then
        local owned=""
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            ss -ltnpH "sport = :$port" 2>/dev/null | grep -q "pid=$pid," && { owned=1; break; }
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        [[ -n "$owned" ]] || { tail -n 30 "$dir/registry.log" >&2 || true; die "docker-registry is not the one listening on port $port"; }
    fi
    echo "registry 127.0.0.1:$port pid $pid"
}

cmd_dockerd() {
    (($# == 1)) || { (($# == 3)) && [[ "$2" == --netns-bridge ]]; } || die "usage: world.sh dockerd DIR [--netns-bridge PORT]"
    local dir="$1"
    command -v dockerd >/dev/null || die "dockerd not installed (apt-get install docker.io)"
    local sock="$dir/docker.sock"
    ((${#sock} < 100)) || die "socket path $sock is too long for a unix socket; use a shorter DIR"
    mkdir -p "$dir/root" "$dir/exec" "$dir/cli"
    local inside=()
    if (($# == 3)); then
        local port="$3" netns
        netns="ecrw-$(basename "$dir")"
        ip netns add "$netns" || die "cannot create the network namespace $netns"
        echo "$netns" > "$dir/netns"
        watchdog "$dir"
        ip netns exec "$netns" ip link set lo up
        spawn "$dir/bridge-out.log" python3 "$here/netns_bridge.py" out "$dir/bridge.sock" "$port"
        record "$dir" bridge-out $!
        wait_for 10 "the bridge's host side" "$dir/bridge-out.log" "$!" test -S "$dir/bridge.sock"
        # nsenter, not `ip netns exec`: that one also mounts a sysfs of the namespace's over /sys, which hides the
        # cgroup mounts dockerd needs.
        inside=(nsenter "--net=/run/netns/$netns")
        spawn "$dir/bridge-in.log" "${inside[@]}" python3 "$here/netns_bridge.py" in "$port" "$dir/bridge.sock"
        record "$dir" bridge-in $!
    fi
    spawn "$dir/dockerd.log" "${inside[@]}" dockerd --host "unix://$sock" --data-root "$dir/root" --exec-root "$dir/exec" \
        --pidfile "$dir/docker.pid" --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs
    local pid=$!
    record "$dir" dockerd "$pid"
    watchdog "$dir"
    wait_for 60 "dockerd" "$dir/dockerd.log" "$pid" curl -sf --unix-socket "$sock" http://localhost/_ping
    echo "dockerd unix://$sock pid $pid"
}

# busybox_tar DIR: DIR/busybox.tar, a root filesystem of Debian's busybox-static and its applets.
busybox_tar() {
    local dir="$1" busybox=/bin/busybox
    [[ -x "$busybox" ]] || die "$busybox missing (apt-get install busybox-static)"
    ! ldd "$busybox" >/dev/null 2>&1 || die "$busybox is dynamically linked; the image needs busybox-static"
    local rootfs="$dir/busybox-rootfs"
    rm -rf "$rootfs" && mkdir -p "$rootfs/bin" "$rootfs/sbin" "$rootfs/usr/bin" "$rootfs/usr/sbin" "$rootfs/tmp"
    cp "$busybox" "$rootfs/bin/busybox"
    local applet
    while read -r applet; do
        [[ -n "$applet" && "$applet" != bin/busybox ]] && ln -sf /bin/busybox "$rootfs/$applet"
    done < <("$busybox" --list-full)
    tar -C "$rootfs" -cf "$dir/busybox.tar" .
    rm -rf "$rootfs"
}

cmd_base_image() {
    (($# == 1)) || die "usage: world.sh base-image DIR"
    local dir="$1"
    busybox_tar "$dir"
    DOCKER_CONFIG="$dir/cli" docker -H "unix://$dir/docker.sock" import \
        --change 'CMD ["/bin/sh"]' "$dir/busybox.tar" busybox:local >/dev/null
    rm -f "$dir/busybox.tar"
    echo "busybox:local ready"
}

cmd_podman() {
    (($# == 1)) || die "usage: world.sh podman DIR"
    local dir="$1"
    command -v podman >/dev/null || die "podman not installed (apt-get install podman)"
    local sock="$dir/podman.sock"
    ((${#sock} < 100)) || die "socket path $sock is too long for a unix socket; use a shorter DIR"
    mkdir -p "$dir"
    # Storage, state and events in DIR: nothing of the machine's own podman is used or touched.
    local podman=(podman --root "$dir/podman-root" --runroot "$dir/podman-run" --storage-driver vfs
        --cgroup-manager cgroupfs --events-backend file --tmpdir "$dir/podman-tmp")
    busybox_tar "$dir"
    "${podman[@]}" import --change 'CMD ["/bin/sh"]' "$dir/busybox.tar" busybox:local >/dev/null 2>&1
    rm -f "$dir/busybox.tar"
    spawn "$dir/podman.log" "${podman[@]}" system service --time=0 "unix://$sock"
    local pid=$!
    record "$dir" podman "$pid"
    watchdog "$dir"
    wait_for 60 "podman" "$dir/podman.log" "$pid" curl -sf --unix-socket "$sock" http://localhost/_ping
    echo "podman unix://$sock pid $pid"
}

cmd_moto() {
    (($# >= 1)) || die "usage: world.sh moto DIR [motoworld args...]"
    local dir="$1"; shift
    mkdir -p "$dir"
    rm -f "$dir/moto.json"
    (close_inherited_fds; exec setsid python3 "$here/motoworld.py" "$@" </dev/null >"$dir/moto.json" 2>"$dir/moto.log") &
    local pid=$!
    record "$dir" moto "$pid"
    watchdog "$dir"
    wait_for 60 "motoworld" "$dir/moto.log" "$pid" grep -q endpoint "$dir/moto.json"
    cat "$dir/moto.json"
}

# stop_pid PID: SIGTERM, wait up to 15s, then SIGKILL.
stop_pid() {
    local pid="$1" i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 75; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null || true
}

cmd_stop() {
    (($# == 1)) || die "usage: world.sh stop DIR"
    local dir="$1" name pid
    [[ -d "$dir" ]] || return 0
    # Containers left running would each hold dockerd's shutdown for 10s: kill them first.
    if [[ -S "$dir/docker.sock" ]]; then
        local ids
        ids="$(DOCKER_CONFIG="$dir/cli" timeout 10 docker -H "unix://$dir/docker.sock" ps -q 2>/dev/null || true)"
        [[ -z "$ids" ]] || DOCKER_CONFIG="$dir/cli" timeout 20 docker -H "unix://$dir/docker.sock" kill $ids >/dev/null 2>&1 || true
    fi
    # The watchdog last: it may be the one running this (then it is our parent).
    for name in moto registry dockerd podman bridge-in bridge-out; do
        [[ -f "$dir/pids/$name.pid" ]] || continue
        pid="$(cat "$dir/pids/$name.pid")"
        stop_pid "$pid"
    done
    # Containers' shims outlive a dockerd killed hard; they are the only other processes using DIR.
    for pid in $(pgrep -f "containerd-shim.*$dir/" || true); do stop_pid "$pid"; done
    # Unmount deepest first (vfs has few mounts, but containers' rootfs and netns may linger).
    awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
        umount -l "$m" 2>/dev/null || true
    done
    [[ ! -f "$dir/netns" ]] || ip netns del "$(cat "$dir/netns")" 2>/dev/null || true
    if [[ -f "$dir/pids/watchdog.pid" ]]; then
        pid="$(cat "$dir/pids/watchdog.pid")"
        # Unless it is our caller, or us: the watchdog's subshell runs this stop as its last command, which bash
        # execs in place, so the watchdog's pid is then our own (and killing it left DIR behind).
        [[ "$pid" == "$PPID" || "$pid" == "$$" ]] || kill -TERM "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
    registry) shift; cmd_registry "$@" ;;
    dockerd) shift; cmd_dockerd "$@" ;;
    podman) shift; cmd_podman "$@" ;;
    base-image) shift; cmd_base_image "$@" ;;
    moto) shift; cmd_moto "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    *) die "usage: world.sh registry|dockerd|base-image|podman|moto|stop DIR ..." ;;
esac
