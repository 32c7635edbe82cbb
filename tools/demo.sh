#!/usr/bin/env bash
# make demo: the containerise.py flow end to end, on a loopback world.
#   1. moto (STS, ECR, IAM; every signature checked) with the recipe's IAM user and role,
#   2. a distribution registry behind ECR's token (basic auth AWS:<password>),
#   3. a Docker Engine: the one DOCKER_HOST names if it answers, else (as root) a private dockerd,
# then `ecrpush build-and-push examples/hello` with the recipe's environment variables.
# Everything it started is stopped on exit.
set -euo pipefail
ecrpush="${1:?usage: tools/demo.sh PATH/TO/ecrpush}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
world="$(mktemp -d /tmp/ecrdemo.XXXX)"
export WORLD_OWNER_PID=$$
trap '"$here/world.sh" stop "$world" >/dev/null 2>&1 || true' EXIT

say() { printf '\n==> %s\n' "$*" >&2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

password="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
registry_port="$(free_port)"
say "Starting a registry on 127.0.0.1:$registry_port (basic auth AWS:<token password>)"
"$here/world.sh" registry "$world" "$registry_port" AWS "$password" >/dev/null

say "Starting moto (STS/ECR/IAM with SigV4 and IAM checks) and bootstrapping the containerise.py IAM user and role"
"$here/world.sh" moto "$world" --registry "http://127.0.0.1:$registry_port" --registry-user AWS \
    --registry-password "$password" --proxy-endpoint "http://127.0.0.1:$registry_port" >/dev/null
read -r endpoint user_key user_secret role_arn region < <(python3 -c '
import json,sys; w=json.load(open(sys.argv[1]))
print(w["endpoint"], w["userAccessKeyId"], w["userSecretAccessKey"], w["roleArn"], w["region"])' "$world/moto.json")

if docker version >/dev/null 2>&1; then
    say "Using the Docker Engine at ${DOCKER_HOST:-unix:///var/run/docker.sock}"
    # An ordinary engine can pull busybox; the loopback one has only the locally made busybox:local.
    docker image inspect busybox:local >/dev/null 2>&1 || build_args=(--build-arg BASE=busybox)
elif [ "$(id -u)" = 0 ]; then
    say "No Docker Engine answers: starting a private dockerd"
    "$here/world.sh" dockerd "$world" >/dev/null
    "$here/world.sh" base-image "$world" >/dev/null
    export DOCKER_HOST="unix://$world/docker.sock" DOCKER_CONFIG="$world/cli"
else
    echo "No Docker Engine answers and not root: start Docker (or set DOCKER_HOST) and run make demo again." >&2
    exit 1
fi

say "ecrpush build-and-push examples/hello (IAM user -> AssumeRole -> ECR token -> build -> push)"
export AWS_IAM_USER_ACCESS_KEY_ID="$user_key" AWS_IAM_USER_SECRET_ACCESS_KEY="$user_secret"
export AWS_IAM_ROLE_ARN="$role_arn" AWS_REGION="$region" AWS_ENDPOINT_URL="$endpoint"
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
output="$("$ecrpush" build-and-push "$root/examples/hello" --repository hello --tag demo --create-repository ${build_args[@]+"${build_args[@]}"})"
echo "$output"
image="$(echo "$output" | tail -n 1)"

say "Pulling $image back and running it"
docker rmi -f "127.0.0.1:$registry_port/hello:demo" >/dev/null 2>&1 || true
"$ecrpush" login | docker login --username AWS --password-stdin "127.0.0.1:$registry_port" >/dev/null 2>&1
docker pull -q "$image" >/dev/null
docker run --rm --network none "$image"

say "The same image again through ECR's layer-upload API (--transport ecr-api: IAM only, no registry password)"
api_image="$("$ecrpush" push "$image" --repository hello --tag demo-api \
    --transport ecr-api --registry "127.0.0.1:$registry_port" | tail -n 1)"
echo "$api_image"
docker rmi -f "$api_image" >/dev/null 2>&1 || true
docker pull -q "$api_image" >/dev/null
docker run --rm --network none "$api_image"

say "Done. Pushed $image (registry transport, the default) and $api_image (ecr-api transport)"
echo "On a real account the same commands run without AWS_ENDPOINT_URL; pull with:" >&2
echo "  ecrpush login | docker login --username AWS --password-stdin <registry> && docker pull <image>" >&2
