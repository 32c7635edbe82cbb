#!/bin/sh
# The containerise.py recipe as a shell script: an IAM user that may only assume the pushing role.
#   AWS_IAM_USER_ACCESS_KEY_ID, AWS_IAM_USER_SECRET_ACCESS_KEY  the user's keys (examples/iam/assume-role-user-policy.json)
#   AWS_IAM_ROLE_ARN                                             the role that may push (examples/iam/push-policy.json)
#   AWS_REGION                                                   the registry's region
# Usage: containerise.sh CONTEXT REPOSITORY [TAG]
set -eu
context=${1:?usage: containerise.sh CONTEXT REPOSITORY [TAG]}
repository=${2:?usage: containerise.sh CONTEXT REPOSITORY [TAG]}
tag=${3:-latest}

ecrpush whoami
ecrpush build-and-push "$context" --repository "$repository" --tag "$tag" --output json

# Or the classic two steps, with docker itself pushing:
#   ecrpush login | docker login --username AWS --password-stdin "$registry"
