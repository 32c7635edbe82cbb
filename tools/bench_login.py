#!/usr/bin/env python3
"""Benchmark: `ecrpush login` against `aws ecr get-login-password`, on the same loopback moto, in one run.

Usage: python3 tools/bench_login.py PATH/TO/ecrpush [--runs 15]
Both tools get the same temporary role credentials (assumed once up front) in the environment and the same
--endpoint-url; each run is checked (both print the same password). Prints the medians and the ratio.
The target is ecrpush <= 1/20 of the aws CLI's wall time. This is a benchmark, not a test: it asserts nothing.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("ecrpush")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    moto = subprocess.Popen([sys.executable, os.path.join(HERE, "motoworld.py"), "--port", "0", "--exit-with-parent"],
                            stdout=subprocess.PIPE, text=True)
    try:
        world = json.loads(moto.stdout.readline())
        import boto3
        sts = boto3.client("sts", endpoint_url=world["endpoint"], region_name=world["region"],
                           aws_access_key_id=world["userAccessKeyId"],
                           aws_secret_access_key=world["userSecretAccessKey"])
        creds = sts.assume_role(RoleArn=world["roleArn"], RoleSessionName="bench")["Credentials"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID=creds["AccessKeyId"], AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
                   AWS_SESSION_TOKEN=creds["SessionToken"], AWS_REGION=world["region"],
                   AWS_DEFAULT_REGION=world["region"],
                   AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE="/dev/null",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        commands = {
            "ecrpush login": [args.ecrpush, "login", "--endpoint-url", world["endpoint"]],
            "aws ecr get-login-password": ["aws", "ecr", "get-login-password", "--endpoint-url", world["endpoint"]],
        }
        times = {name: [] for name in commands}
        for _ in range(args.runs):
            outputs = {}
            for name, command in commands.items():  # alternate, so drift hits both alike
                start = time.perf_counter()
                result = subprocess.run(command, env=env, capture_output=True, text=True)
                times[name].append(time.perf_counter() - start)
                if result.returncode != 0:
                    sys.exit(f"{name} failed: {result.stderr}")
                outputs[name] = result.stdout.strip()
            if len(set(outputs.values())) != 1:
                sys.exit(f"the tools disagree on the password: {outputs}")
        ours = statistics.median(times["ecrpush login"])
        theirs = statistics.median(times["aws ecr get-login-password"])
        print(f"runs: {args.runs} each, alternating, same moto and credentials")
        print(f"ecrpush login               median {ours * 1000:8.1f} ms")
        print(f"aws ecr get-login-password  median {theirs * 1000:8.1f} ms")
        print(f"ratio ecrpush/aws: {ours / theirs:.3f} (target <= 0.050)")
        bench_credential_helper(args, world)
    finally:
        moto.terminate()
        moto.wait()


def bench_credential_helper(args, world):
    """Warm `docker-credential-ecrpush get`: the containerise.py variables, a registry profile for a host, and a
    login already in the cache. Target: <= 10 ms."""
    import tempfile
    root = tempfile.mkdtemp(prefix="ecrpush-bench-")
    host = "127.0.0.1:5999"
    os.makedirs(f"{root}/bin"); os.makedirs(f"{root}/config/ecrpush")
    helper = f"{root}/bin/docker-credential-ecrpush"
    os.symlink(os.path.abspath(args.ecrpush), helper)
    with open(f"{root}/config/ecrpush/config", "w") as f:
        f.write(f"[registry {host}]\nregistry_id = {world['accountId']}\nregion = {world['region']}\n"
                f"endpoint_url = {world['endpoint']}\n")
    env = {"PATH": os.environ["PATH"], "HOME": root, "XDG_CONFIG_HOME": f"{root}/config",
           "XDG_CACHE_HOME": f"{root}/cache", "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
           "AWS_IAM_USER_ACCESS_KEY_ID": world["userAccessKeyId"],
           "AWS_IAM_USER_SECRET_ACCESS_KEY": world["userSecretAccessKey"], "AWS_IAM_ROLE_ARN": world["roleArn"]}
    cold = subprocess.run([helper, "get"], input=host, env=env, capture_output=True, text=True)
    if cold.returncode != 0:
        sys.exit(f"credential helper failed: {cold.stdout} {cold.stderr}")
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        warm = subprocess.run([helper, "get"], input=host, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if warm.stdout != cold.stdout:
            sys.exit("a warm get answered differently from the cold one")
    print(f"docker-credential-ecrpush get (warm cache) median {statistics.median(times) * 1000:8.1f} ms (target <= 10 ms)")


if __name__ == "__main__":
    main()
