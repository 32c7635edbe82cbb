#!/usr/bin/env python3
"""motoworld: moto's AWS server on loopback, set up the way containerise.py expects,
with SigV4 signature and IAM permission checks on for every request.

Usage:
  python3 tools/motoworld.py [--port 0] [--region us-east-1]
      [--registry http://127.0.0.1:PORT --registry-user AWS --registry-password PW]
      [--proxy-endpoint http://127.0.0.1:PORT] [--part-size 10485760]
      [--fault-truncate-part N] [--fault ACTION:KIND:N ...] [--work-dir DIR]
      [--exit-with-parent]

What it sets up (account 123456789012, through moto's backends, before serving):
  - IAM user `ci-user` whose only permission is sts:AssumeRole on role `ecr-pusher`, with an access key.
  - Role `ecr-pusher` trusted by the account's principals, allowed ecr:* and sts:GetCallerIdentity.
  - IAM user `admin` with an inline "*" on "*" policy and an access key, for test setup calls.
  The role's trust policy also names a GitHub-style OIDC provider for sts:AssumeRoleWithWebIdentity.
Then every request must be SigV4-signed with a known key and be permitted by IAM (except STS's
AssumeRoleWithWebIdentity and AssumeRoleWithSAML, unsigned in AWS too; moto accepts any token for them):
  missing Authorization header -> MissingAuthenticationToken(Exception); malformed -> IncompleteSignature(Exception);
  X-Amz-Date more than 15 minutes off -> Signature expired; unknown key -> InvalidClientTokenId
  (UnrecognizedClientException for JSON services); bad signature -> SignatureDoesNotMatch
  (InvalidSignatureException); not allowed -> AccessDenied(Exception).
  JSON-protocol services (ECR) get JSON errors with x-amzn-ErrorType, query services (STS) XML.

ECR additions: BatchCheckLayerAvailability, InitiateLayerUpload, UploadLayerPart and
CompleteLayerUpload are methods of moto's ECRResponse, so moto authorizes them as `ecr:<Operation>`.
Limits: parts are consecutive (partFirstByte == bytes received so far, else InvalidLayerPartException
with lastValidByteReceived = bytes received - 1), partLastByte is inclusive, a part is at most
--max-part-size (20 MiB) bytes, every part but the last at least --min-part-size (5 MiB)
(LayerPartTooSmallException at CompleteLayerUpload), the digest is checked at CompleteLayerUpload
(InvalidLayerException), an existing blob gives LayerAlreadyExistsException.
BatchCheckLayerAvailability reports a missing layer as a failure with failureCode MissingLayerDigest.
BatchGetImage of images moto has no record of (pushed to the registry directly, as by docker push) reads their
manifests from the registry, as ECR's API sees what its registry holds.
GetDownloadUrlForLayer (a layer the repository has, else LayerNotFoundException) answers a URL on motoworld
itself, GET /_motoworld/layers/TOKEN, good for an hour and unsigned, as S3's presigned URLs are: it streams the
blob from the registry, honouring Range. Counted as "LayerDownloadPart" (a 206) or "LayerDownload" (whole).
With --registry, blobs go to that distribution registry (docker-registry) and PutImage also puts the
manifest there, so an image pushed through the ECR API can be pulled with `docker pull`. Without it,
completed blobs are only remembered (their bytes are dropped).
GetAuthorizationToken returns base64("AWS:" + --registry-password), expiring in 12 hours, and
proxyEndpoint = --proxy-endpoint (default: the real-looking https://ACCOUNT.dkr.ecr.REGION.amazonaws.com).

ECR Public: moto has no ecr-public, so motoworld answers its GetAuthorizationToken itself (X-Amz-Target
SpencerFrontendService.GetAuthorizationToken, signed for service ecr-public in us-east-1 as AWS requires) after
moto's own signature check and an IAM check of both actions AWS requires, ecr-public:GetAuthorizationToken and
sts:GetServiceBearerToken. Its token decodes to "AWS:" + --registry-password, expiring in 12 hours; there is no
proxyEndpoint (the registry is public.ecr.aws). Counted as "ecr-public:GetAuthorizationToken".
The role ecr-pusher may call both; IAM user `public-half` (key in the ready line) has only
ecr-public:GetAuthorizationToken, so its login is refused for want of sts:GetServiceBearerToken.

Fault injection: --fault ACTION:KIND:N makes the first N calls of ACTION answer KIND: throttle (400
ThrottlingException), 5xx (503 ServiceUnavailable) or slow (the usual answer, held 3 s, as from a distant endpoint;
ACTION:slow:N:SECONDS holds it SECONDS instead).
--fault-truncate-part N keeps half of the Nth UploadLayerPart and answers InvalidLayerPartException.

Scanning: moto's StartImageScan and DescribeImageScanFindings (one HIGH finding, CVE-9999-9999, by default), plus
scan on push (a repository with scanOnPush gets a completed scan of every image PutImage stores).
POST /_motoworld/scan-findings {"repositoryName": R, "responses": [answer, ...]} scripts DescribeImageScanFindings for
R once a scan exists: each call gets the next answer (a whole response: imageScanStatus, imageScanFindings, ...), the
last one repeated; repositoryName, registryId and imageId are filled in when missing.

Extra endpoints (unsigned): GET /_motoworld/counts -> {"InitiateLayerUpload": n, ...} counts of every
AWS action that reached moto, authorized or not (requests refused for a missing or malformed
signature never do); POST /_motoworld/counts/reset zeroes them. POST /_motoworld/proxy-endpoints
{"HOST:PORT": URL, ...}: GetAuthorizationToken asked through Host HOST:PORT (a relay in front of moto) answers
proxyEndpoint URL (the registry through the same relay). /moto-api/* is refused so that nobody resets the bootstrap.

Output: once serving, ONE JSON line on stdout:
  {"endpoint":"http://127.0.0.1:PORT","region":...,"accountId":...,"userAccessKeyId":...,
   "userSecretAccessKey":...,"roleArn":...,"adminAccessKeyId":...,"adminSecretAccessKey":...,
   "publicHalfAccessKeyId":...,"publicHalfSecretAccessKey":...,"pid":...}
Logs go to stderr. Runs until SIGTERM/SIGINT (or, with --exit-with-parent, until its parent exits).
"""

import argparse
import base64
import binascii
import calendar
import datetime
import functools
import hashlib
import html
import http.client
import io
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape as xml_escape

ACCOUNT_ID = "123456789012"
MIB = 1024 * 1024
FAULTS = {"parts_seen": 0}  # fault-injection state (see --fault-truncate-part)
MAX_LAYER_PARTS = 4200  # ECR's "Layer parts" quota
CLOCK_SKEW_SECONDS = 15 * 60
UNSIGNED_STS_ACTIONS = ("AssumeRoleWithWebIdentity", "AssumeRoleWithSAML")  # unsigned in AWS too
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--registry", help="distribution registry base URL, e.g. http://127.0.0.1:5000")
    p.add_argument("--registry-user", default="AWS")
    p.add_argument("--registry-password", default="motoworld-password",
                   help="password the registry accepts; also the one inside GetAuthorizationToken's token")
    p.add_argument("--proxy-endpoint", help="proxyEndpoint returned by GetAuthorizationToken")
    p.add_argument("--part-size", type=int, default=10 * MIB, help="partSize returned by InitiateLayerUpload")
    p.add_argument("--min-part-size", type=int, default=5 * MIB)
    p.add_argument("--max-part-size", type=int, default=20 * MIB)
    p.add_argument("--fault-truncate-part", type=int, default=0,
                   help="fault injection: the Nth UploadLayerPart (1-based, once) keeps only the first half of its "
                        "bytes and answers InvalidLayerPartException, as if the rest were lost in transit")
    p.add_argument("--fault", action="append", default=[], metavar="ACTION:KIND:N[:SECONDS]",
                   help="fault injection: the first N calls of ACTION (e.g. UploadLayerPart, PutImage) answer KIND: "
                        "throttle (400 ThrottlingException) or 5xx (503 ServiceUnavailable), as ECR's own API does "
                        "under load, or slow (answered as usual after 3 s or SECONDS, as a distant endpoint); "
                        "counted in /_motoworld/counts like any call")
    p.add_argument("--work-dir", help="where layer uploads are assembled (default: a new temp dir)")
    p.add_argument("--exit-with-parent", action="store_true", help="stop when the parent process exits")
    return p.parse_args()


# ---------------------------------------------------------------- blob stores

class RegistryError(Exception):
    def __init__(self, status, body):
        super().__init__(f"registry answered {status}: {body[:500]!r}")
        self.status = status
        self.codes = []
        try:
            self.codes = [e.get("code") for e in json.loads(body).get("errors", [])]
        except (ValueError, AttributeError):
            pass


class RegistryStore:
    """Blobs and manifests in a real distribution registry, over its HTTP API with basic auth."""

    def __init__(self, base_url, user, password):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port or 80
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.auth = {"Authorization": f"Basic {token}"}

    def _request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=300, blocksize=MIB)
        try:
            conn.request(method, path, body=body, headers={**self.auth, **(headers or {})})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def blob_size(self, repo, digest):
        """Size of the blob in repo, or None when the registry doesn't have it there."""
        status, headers, body = self._request("HEAD", f"/v2/{repo}/blobs/{digest}")
        if status == 404:
            return None
        if status != 200:
            raise RegistryError(status, body)
        return int(headers.get("Content-Length", 0))

    def put_blob(self, repo, digest, path, size):
        """Monolithic upload: POST opens the session, PUT streams the file and names the digest."""
        status, headers, body = self._request("POST", f"/v2/{repo}/blobs/uploads/")
        if status != 202:
            raise RegistryError(status, body)
        location = urlsplit(headers["Location"])
        target = f"{location.path}?{location.query + '&' if location.query else ''}digest={digest}"
        with open(path, "rb") as f:
            status, _, body = self._request("PUT", target, body=f, headers={
                "Content-Type": "application/octet-stream", "Content-Length": str(size)})
        if status != 201:
            raise RegistryError(status, body)

    def put_manifest(self, repo, reference, manifest_bytes, media_type):
        status, _, body = self._request("PUT", f"/v2/{repo}/manifests/{reference}", body=manifest_bytes,
                                        headers={"Content-Type": media_type})
        if status != 201:
            raise RegistryError(status, body)

    def get_manifest(self, repo, reference, accept):
        """(bytes, media type, digest) of the manifest `reference` names in repo, or None."""
        status, headers, body = self._request("GET", f"/v2/{repo}/manifests/{reference}", headers={"Accept": accept})
        if status == 404:
            return None
        if status != 200:
            raise RegistryError(status, body)
        headers = {k.lower(): v for k, v in headers.items()}
        return body, headers.get("content-type"), headers.get("docker-content-digest")

    def open_blob(self, repo, digest, byte_range=None):
        """The blob's response from the registry, unread (the caller streams and closes it)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=300, blocksize=MIB)
        headers = dict(self.auth)
        if byte_range:
            headers["Range"] = byte_range
        conn.request("GET", f"/v2/{repo}/blobs/{digest}", headers=headers)
        return conn, conn.getresponse()


class MemoryStore:
    """Without a registry: remember which blobs were completed (and their size), drop the bytes."""

    def __init__(self):
        self.sizes = {}
        self.lock = threading.Lock()

    def blob_size(self, repo, digest):
        with self.lock:
            return self.sizes.get((repo, digest))

    def put_blob(self, repo, digest, path, size):
        with self.lock:
            self.sizes[(repo, digest)] = size

    def put_manifest(self, repo, reference, manifest_bytes, media_type):
        pass


# ---------------------------------------------------------------- ECR layer operations

class Upload:
    def __init__(self, repo, registry_id, path):
        self.repo, self.registry_id, self.path = repo, registry_id, path
        self.received = 0
        self.part_sizes = []
        self.sha256 = hashlib.sha256()
        self.lock = threading.Lock()


def install_ecr_operations(store, opts, work_dir):
    from moto.core.exceptions import ServiceException
    from moto.ecr import exceptions as ecr_exc
    from moto.ecr.responses import ECRResponse

    class ECRError(ServiceException):
        """Serialized with ECR's error shapes (moto looks them up by the exception's module)."""

    def error(code, message, **fields):
        exc = ECRError(code, message)
        for key, value in fields.items():
            setattr(exc, key, value)
        return exc

    uploads = {}
    uploads_lock = threading.Lock()

    def ok(self, result):
        self.response_headers["Content-Type"] = "application/x-amz-json-1.1"
        return json.dumps(result)

    def params(self):
        # Parse the (possibly 27 MB) JSON body once, not once per _get_param.
        return json.loads(self.body or "{}")

    def repository(self, p):
        """The moto repository named in the request, or RepositoryNotFoundException."""
        return self.ecr_backend._get_repository(p.get("repositoryName"), p.get("registryId"))

    def find_upload(self, p, repo):
        with uploads_lock:
            upload = uploads.get(p.get("uploadId"))
        if upload is None or upload.repo != repo.name:
            raise error("UploadNotFoundException",
                        f"Upload with id '{p.get('uploadId')}' is not found in repository '{repo.name}'")
        return upload

    def batch_check_layer_availability(self):
        p = params(self)
        repo = repository(self, p)
        layers, failures = [], []
        for digest in p.get("layerDigests") or []:
            if not DIGEST_RE.match(digest or ""):
                failures.append({"layerDigest": digest, "failureCode": "InvalidLayerDigest",
                                 "failureReason": "Invalid layer digest"})
                continue
            size = store.blob_size(repo.name, digest)
            if size is None:
                failures.append({"layerDigest": digest, "failureCode": "MissingLayerDigest",
                                 "failureReason": "Could not find layer"})
            else:
                layers.append({"layerDigest": digest, "layerAvailability": "AVAILABLE", "layerSize": size})
        return ok(self, {"layers": layers, "failures": failures})

    def initiate_layer_upload(self):
        p = params(self)
        repo = repository(self, p)
        upload_id = str(uuid.uuid4())
        path = os.path.join(work_dir, upload_id)
        open(path, "wb").close()
        with uploads_lock:
            uploads[upload_id] = Upload(repo.name, repo.registry_id, path)
        return ok(self, {"uploadId": upload_id, "partSize": opts.part_size})

    def upload_layer_part(self):
        p = params(self)
        repo = repository(self, p)
        upload = find_upload(self, p, repo)
        try:
            blob = base64.b64decode(p.get("layerPartBlob") or "", validate=True)
        except (binascii.Error, ValueError):
            raise ecr_exc.InvalidParameterException("layerPartBlob is not valid base64")
        first, last = p.get("partFirstByte"), p.get("partLastByte")
        with upload.lock:
            def invalid(message):
                return error("InvalidLayerPartException", message, registryId=upload.registry_id,
                             repositoryName=repo.name, uploadId=p["uploadId"],
                             lastValidByteReceived=upload.received - 1)
            if not isinstance(first, int) or not isinstance(last, int) or last < first:
                raise invalid(f"partFirstByte {first} and partLastByte {last} are not a valid byte range")
            if first != upload.received:
                raise invalid(f"partFirstByte {first} does not follow the last byte received "
                              f"({upload.received - 1}); parts must be consecutive")
            if len(blob) != last - first + 1:
                raise invalid(f"the part holds {len(blob)} bytes but partFirstByte..partLastByte "
                              f"(inclusive) names {last - first + 1}")
            if len(blob) > opts.max_part_size:
                raise invalid(f"the part holds {len(blob)} bytes, more than the {opts.max_part_size} allowed")
            if len(upload.part_sizes) >= MAX_LAYER_PARTS:
                raise error("LimitExceededException", f"an upload has at most {MAX_LAYER_PARTS} parts")
            FAULTS["parts_seen"] += 1
            truncate = FAULTS["parts_seen"] == opts.fault_truncate_part
            if truncate:
                blob = blob[: len(blob) // 2]
            with open(upload.path, "ab") as f:
                f.write(blob)
            upload.sha256.update(blob)
            upload.received += len(blob)
            if getattr(upload, "continues_part", False):
                # The rest of a part cut short: together they count as one part for the size rule.
                upload.part_sizes[-1] += len(blob)
            else:
                upload.part_sizes.append(len(blob))
            upload.continues_part = truncate
            if truncate:
                raise invalid("fault injection: only part of the layer part arrived")
            return ok(self, {"registryId": upload.registry_id, "repositoryName": repo.name,
                             "uploadId": p["uploadId"], "lastByteReceived": upload.received - 1})

    def complete_layer_upload(self):
        p = params(self)
        repo = repository(self, p)
        upload = find_upload(self, p, repo)
        digests = p.get("layerDigests") or []
        with upload.lock:
            if not upload.part_sizes:
                raise error("EmptyUploadException", f"The upload with id '{p['uploadId']}' has no layer parts")
            if any(size < opts.min_part_size for size in upload.part_sizes[:-1]):
                raise error("LayerPartTooSmallException",
                            f"Layer parts must be at least {opts.min_part_size} bytes, except the last")
            actual = "sha256:" + upload.sha256.hexdigest()
            if len(digests) != 1 or digests[0] != actual:
                raise error("InvalidLayerException",
                            f"The layer digest calculated for the upload ({actual}) does not match "
                            f"the one given ({', '.join(digests) or 'none'})")
            if store.blob_size(repo.name, actual) is not None:
                raise error("LayerAlreadyExistsException",
                            f"The layer {actual} already exists in repository '{repo.name}'")
            store.put_blob(repo.name, actual, upload.path, upload.received)
            with uploads_lock:
                uploads.pop(p["uploadId"], None)
            os.remove(upload.path)
            return ok(self, {"registryId": upload.registry_id, "repositoryName": repo.name,
                             "uploadId": p["uploadId"], "layerDigest": actual})

    moto_put_image = ECRResponse.put_image

    def put_image(self):
        p = params(self)
        repo = repository(self, p)
        manifest = p.get("imageManifest") or ""
        manifest_bytes = manifest.encode("utf-8")
        digest = "sha256:" + hashlib.sha256(manifest_bytes).hexdigest()
        if p.get("imageDigest") and p["imageDigest"] != digest:
            raise error("ImageDigestDoesNotMatchException",
                        f"The digest given ({p['imageDigest']}) does not match the manifest's ({digest})")
        try:
            media_type = p.get("imageManifestMediaType") or json.loads(manifest).get("mediaType")
        except (ValueError, AttributeError):
            raise ecr_exc.InvalidParameterException("Invalid parameter at 'imageManifest': invalid JSON")
        if not media_type:
            raise ecr_exc.InvalidParameterException("image manifest mediatype not provided in manifest or parameter")
        # By digest first: the registry checks every referenced blob without moving any tag.
        try:
            store.put_manifest(repo.name, digest, manifest_bytes, media_type)
        except RegistryError as e:
            if "MANIFEST_BLOB_UNKNOWN" in e.codes or "BLOB_UNKNOWN" in e.codes:
                raise error("LayersNotFoundException", f"Layers referenced by the manifest are not in '{repo.name}'")
            if "MANIFEST_UNKNOWN" in e.codes:
                raise error("ReferencedImagesNotFoundException", "Images referenced by the index are not in the repository")
            raise ecr_exc.InvalidParameterException(f"The registry refused the manifest: {e}")
        # moto decides tag mutability and ImageAlreadyExists; give it the real (content) digest.
        body = json.loads(self.body)
        body["imageDigest"] = digest
        self.body = json.dumps(body)
        result = moto_put_image(self)
        if p.get("imageTag"):
            store.put_manifest(repo.name, p["imageTag"], manifest_bytes, media_type)
        if (repo.image_scanning_configuration or {}).get("scanOnPush"):
            # ECR's scan on push; moto has none. The scan "completes" at once (findings: moto's or a script's).
            for image in repo.images:
                if image.get_image_digest() == digest and image.last_scan is None:
                    image.last_scan = datetime.datetime.today()
        return result

    moto_batch_get_image = ECRResponse.batch_get_image
    manifest_types = ("application/vnd.docker.distribution.manifest.v2+json,application/vnd.oci.image.manifest.v1+json,"
                      "application/vnd.docker.distribution.manifest.list.v2+json,application/vnd.oci.image.index.v1+json")

    def batch_get_image(self):
        # ECR's API and its registry are one service: an image pushed to the registry directly (docker push here)
        # is one BatchGetImage returns too. moto knows only what its PutImage stored, so the rest is read there.
        p = params(self)
        repo = repository(self, p)
        ids = p.get("imageIds") or []
        in_moto = any(image.get_image_digest() == i.get("imageDigest") or i.get("imageTag") in image.image_tags
                      for i in ids for image in repo.images)
        if in_moto or not ids or not hasattr(store, "get_manifest"):
            return moto_batch_get_image(self)
        accept = ",".join(p.get("acceptedMediaTypes") or []) or manifest_types
        images, failures = [], []
        for image_id in ids:
            found = store.get_manifest(repo.name, image_id.get("imageDigest") or image_id.get("imageTag"), accept)
            if found is None:
                failures.append({"imageId": image_id, "failureCode": "ImageNotFound", "failureReason": "Requested image not found"})
                continue
            body, media_type, digest = found
            images.append({"registryId": repo.registry_id, "repositoryName": repo.name,
                           "imageId": {**image_id, "imageDigest": digest}, "imageManifest": body.decode("utf-8"),
                           "imageManifestMediaType": media_type})
        return ok(self, {"images": images, "failures": failures})

    moto_describe_image_scan_findings = ECRResponse.describe_image_scan_findings

    def describe_image_scan_findings(self):
        # moto first: ScanNotFoundException until StartImageScan (or a scan on push) made a scan.
        result = moto_describe_image_scan_findings(self)
        p = params(self)
        with SCAN_SCRIPTS_LOCK:
            script = SCAN_SCRIPTS.get(p.get("repositoryName"))
            if not script:
                return result
            answer = script[0] if len(script) == 1 else script.pop(0)
        answer = json.loads(json.dumps(answer))
        answer.setdefault("repositoryName", p.get("repositoryName"))
        answer.setdefault("registryId", self.current_account)
        answer.setdefault("imageId", p.get("imageId") or {})
        return ok(self, answer)

    def get_download_url_for_layer(self):
        p = params(self)
        repo = repository(self, p)
        digest = p.get("layerDigest") or ""
        if not DIGEST_RE.match(digest):
            raise ecr_exc.InvalidParameterException(f"Invalid parameter at 'layerDigest': {digest!r} is not a digest")
        if store.blob_size(repo.name, digest) is None:
            raise error("LayerNotFoundException", f"The layer {digest} does not exist in repository '{repo.name}'")
        token = uuid.uuid4().hex
        with DOWNLOADS_LOCK:
            DOWNLOADS[token] = (repo.name, digest, time.time() + 3600)
        host = self.headers.get("Host") or "127.0.0.1"
        return ok(self, {"downloadUrl": f"http://{host}/_motoworld/layers/{token}?X-Amz-Signature={uuid.uuid4().hex}",
                         "layerDigest": digest})

    def get_authorization_token(self):
        p = params(self)
        token = base64.b64encode(f"AWS:{opts.registry_password}".encode()).decode()
        with PROXY_ENDPOINTS_LOCK:
            by_host = PROXY_ENDPOINTS.get(self.headers.get("Host") or "")
        data = []
        for registry_id in p.get("registryIds") or [self.current_account]:
            data.append({
                "authorizationToken": token,
                "expiresAt": int(time.time()) + 12 * 3600,
                "proxyEndpoint": by_host or opts.proxy_endpoint
                or f"https://{registry_id}.dkr.ecr.{self.region}.amazonaws.com",
            })
        return ok(self, {"authorizationData": data})

    def registry_failures_as_server_errors(operation):
        @functools.wraps(operation)
        def wrapper(self):
            try:
                return operation(self)
            except (RegistryError, OSError) as e:
                raise error("ServerException", f"motoworld could not store the data: {e}")
        return wrapper

    for operation in (batch_check_layer_availability, initiate_layer_upload, upload_layer_part,
                      complete_layer_upload, put_image, get_authorization_token, describe_image_scan_findings,
                      get_download_url_for_layer, batch_get_image):
        setattr(ECRResponse, operation.__name__, registry_failures_as_server_errors(operation))


# ---------------------------------------------------------------- counts and auth errors

COUNTS = {}
COUNTS_LOCK = threading.Lock()
DOWNLOADS = {}  # GetDownloadUrlForLayer's token -> (repository, digest, expiry)
DOWNLOADS_LOCK = threading.Lock()
SCAN_SCRIPTS = {}  # repository -> DescribeImageScanFindings answers, one per call, the last repeated
SCAN_SCRIPTS_LOCK = threading.Lock()
# Host header -> proxyEndpoint: a client that reaches moto through another address (a relay that shapes the link)
# is named the registry as seen through the same relay.
PROXY_ENDPOINTS = {}
PROXY_ENDPOINTS_LOCK = threading.Lock()
INJECTED = {}  # action -> [kind, calls left, seconds a "slow" answer is held] (see --fault)
SLOW_SECONDS = 3.0  # how long a "slow" fault holds its answer unless its spec says

JSON_AUTH_ERRORS = {  # query-protocol code -> what JSON-protocol services (ECR) answer
    "SignatureDoesNotMatch": "InvalidSignatureException",
    "InvalidClientTokenId": "UnrecognizedClientException",
    "AccessDenied": "AccessDeniedException",
    "IncompleteSignature": "IncompleteSignatureException",
    "MissingAuthenticationToken": "MissingAuthenticationTokenException",
}


def is_json_protocol(headers):
    return bool(headers.get("X-Amz-Target")) or headers.get("Content-Type", "").startswith("application/x-amz-json")


def auth_error(json_protocol, code, message, status=403):
    """(status, headers, body) the way AWS words an authentication error for the protocol."""
    if json_protocol:
        code = JSON_AUTH_ERRORS.get(code, code)
        body = json.dumps({"__type": code, "message": message})
        return 400, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code}, body
    body = ("<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{code}</Code><Message>{xml_escape(message)}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>")
    return status, {"Content-Type": "text/xml"}, body


def install_unsigned_sts_actions():
    """moto would crash on these unsigned calls once auth is on (it reads the Authorization header)."""
    from moto.sts.responses import TokenResponse

    moto_authenticate = TokenResponse._authenticate_and_authorize_normal_action

    def authenticate(self, resource="*"):
        if self._get_action() in UNSIGNED_STS_ACTIONS and "Authorization" not in self.headers:
            return
        moto_authenticate(self, resource)

    TokenResponse._authenticate_and_authorize_normal_action = authenticate


def unsigned_sts_action(environ):
    """True for a form-encoded AssumeRoleWithWebIdentity/SAML call (the body is read and put back)."""
    query = environ.get("QUERY_STRING", "")
    body = b""
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if 0 < length <= MIB else b""
        environ["wsgi.input"] = io.BytesIO(body)
    fields = parse_qs(query) | parse_qs(body.decode("utf-8", "replace"))
    return fields.get("Action", [""])[0] in UNSIGNED_STS_ACTIONS


def install_counting_and_json_auth_errors():
    from moto.core.responses import BaseResponse

    moto_call_action = BaseResponse.call_action

    def call_action(self):
        action = self._get_action() or "Unknown"
        with COUNTS_LOCK:
            COUNTS[action] = COUNTS.get(action, 0) + 1
            fault = INJECTED.get(action)
            kind = None
            if fault and fault[1] > 0:
                fault[1] -= 1
                kind, held = fault[0], fault[2]
        if kind == "throttle":
            return 400, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": "ThrottlingException"}, \
                json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
        if kind == "slow":
            time.sleep(held)  # then answered as usual: a distant or loaded endpoint
        if kind == "5xx":
            return 503, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": "ServiceUnavailableException"}, \
                json.dumps({"__type": "ServiceUnavailableException", "message": "Service Unavailable"})
        status, headers, body = moto_call_action(self)
        # moto words authentication failures as XML without a content type, whatever the protocol.
        if status in (401, 403) and isinstance(body, str) and body.lstrip().startswith("<"):
            code = re.search(r"<Code>(.*?)</Code>", body)
            message = re.search(r"<Message>(.*?)</Message>", body, re.S)
            if code:
                status, extra, body = auth_error(is_json_protocol(self.headers), code.group(1),
                                                 html.unescape(message.group(1)) if message else "", status)
                headers = {**headers, **extra}
        return status, headers, body

    BaseResponse.call_action = call_action


def signing_problem(environ, now):
    """Why moto must not see this request (None when it may): checks moto itself doesn't make."""
    auth = environ.get("HTTP_AUTHORIZATION")
    if not auth:
        return "MissingAuthenticationToken", "Missing Authentication Token", 403
    if not re.match(r"^AWS4-HMAC-SHA256 Credential=[^/,]+/\d{8}/[^/,]+/[^/,]+/aws4_request, ?"
                    r"SignedHeaders=[^,]+, ?Signature=[0-9a-f]{64}$", auth):
        return "IncompleteSignature", "Authorization header is not a well-formed AWS4-HMAC-SHA256 header", 400
    amz_date = environ.get("HTTP_X_AMZ_DATE")
    if not amz_date:
        return "IncompleteSignature", "Authorization header requires existence of a 'X-Amz-Date' header", 400
    try:
        signed_at = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
    except ValueError:
        return "IncompleteSignature", f"X-Amz-Date '{amz_date}' is not in the form YYYYMMDDTHHMMSSZ", 400
    if abs(now - signed_at) > CLOCK_SKEW_SECONDS:
        server = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        return ("SignatureDoesNotMatch",
                f"Signature expired: {amz_date} is now earlier than or later than {server} +/- 15 min", 403)
    return None


ECR_PUBLIC_TARGET_PREFIX = "SpencerFrontendService."


def ecr_public(environ, opts):
    """(status, headers, body) for an ECR Public call, checked the way moto checks its own services."""
    from moto.iam.access_control import IAMRequest

    target = environ.get("HTTP_X_AMZ_TARGET", "")
    action = target[len(ECR_PUBLIC_TARGET_PREFIX):]
    with COUNTS_LOCK:
        key = f"ecr-public:{action}"
        COUNTS[key] = COUNTS.get(key, 0) + 1
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
    for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(name):
            headers[name.replace("_", "-").title()] = environ[name]
    scope = headers["Authorization"].partition("Credential=")[2].partition(",")[0].split("/")
    if scope[2:4] != ["us-east-1", "ecr-public"]:
        # What AWS says when the credential scope names another region or service.
        return auth_error(True, "InvalidSignatureException",
                          f"Credential should be scoped to a valid region and service ecr-public in us-east-1, "
                          f"not '{scope[2] if len(scope) > 2 else ''}/{scope[3] if len(scope) > 3 else ''}'.")
    if action != "GetAuthorizationToken":
        return auth_error(True, "UnknownOperationException", f"motoworld does not implement ECR Public {action}", 400)
    try:
        request = IAMRequest(account_id=ACCOUNT_ID, method=environ.get("REQUEST_METHOD", "POST"),
                             path=environ.get("PATH_INFO") or "/", data={}, body=body, headers=headers, action=action)
        request.check_signature()
        request.check_action_permitted("*")  # ecr-public:GetAuthorizationToken
        request._action = "sts:GetServiceBearerToken"  # the same principal, the second action AWS checks
        request.check_action_permitted("*")
    except Exception as e:  # moto's RESTError subclasses: SignatureDoesNotMatch, InvalidClientTokenId, AccessDenied
        code = getattr(e, "error_type", None)
        if not code:
            raise
        return auth_error(True, code, getattr(e, "message", str(e)))
    token = base64.b64encode(f"AWS:{opts.registry_password}".encode()).decode()
    answer = {"authorizationData": {"authorizationToken": token, "expiresAt": int(time.time()) + 12 * 3600}}
    return 200, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(answer)


class Front:
    """WSGI in front of moto: our endpoints, then refuse what moto would mis-route or crash on."""

    def __init__(self, moto_app, opts, store):
        self.moto_app = moto_app
        self.opts = opts
        self.store = store  # where GetDownloadUrlForLayer's URLs read the blobs

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_motoworld/"):
            return self.own_endpoint(environ, start_response, path)
        if path.startswith("/moto-api"):
            return self.respond(start_response, 403, {"Content-Type": "text/plain"},
                                "motoworld: /moto-api is disabled (it could reset the bootstrap)\n")
        problem = signing_problem(environ, time.time())
        if problem and problem[0] == "MissingAuthenticationToken" and unsigned_sts_action(environ):
            problem = None
        if problem:
            code, message, status = problem
            headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
            headers["Content-Type"] = environ.get("CONTENT_TYPE", "")
            return self.respond(start_response, *auth_error(is_json_protocol(headers), code, message, status))
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith(ECR_PUBLIC_TARGET_PREFIX):
            return self.respond(start_response, *ecr_public(environ, self.opts))
        return self.moto_app(environ, start_response)

    def own_endpoint(self, environ, start_response, path):
        method = environ.get("REQUEST_METHOD")
        if path == "/_motoworld/counts" and method == "GET":
            with COUNTS_LOCK:
                body = json.dumps(COUNTS, sort_keys=True)
            return self.respond(start_response, 200, {"Content-Type": "application/json"}, body)
        if path == "/_motoworld/scan-findings" and method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            script = json.loads(environ["wsgi.input"].read(length) or b"{}")
            with SCAN_SCRIPTS_LOCK:
                SCAN_SCRIPTS[script["repositoryName"]] = list(script["responses"])
            return self.respond(start_response, 200, {"Content-Type": "application/json"}, "{}")
        if path.startswith("/_motoworld/layers/") and method == "GET":
            return self.layer_download(environ, start_response, path.rsplit("/", 1)[-1])
        if path == "/_motoworld/proxy-endpoints" and method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            endpoints = json.loads(environ["wsgi.input"].read(length) or b"{}")
            with PROXY_ENDPOINTS_LOCK:
                PROXY_ENDPOINTS.update(endpoints)
            return self.respond(start_response, 200, {"Content-Type": "application/json"}, "{}")
        if path == "/_motoworld/counts/reset" and method == "POST":
            with COUNTS_LOCK:
                COUNTS.clear()
            return self.respond(start_response, 200, {"Content-Type": "application/json"}, "{}")
        return self.respond(start_response, 404, {"Content-Type": "text/plain"}, "not found\n")

    def layer_download(self, environ, start_response, token):
        """A GetDownloadUrlForLayer URL: the blob from the registry, streamed, with its Range honoured."""
        with DOWNLOADS_LOCK:
            found = DOWNLOADS.get(token)
        if found is None or found[2] < time.time():
            return self.respond(start_response, 403, {"Content-Type": "text/plain"}, "no such download (or expired)\n")
        byte_range = environ.get("HTTP_RANGE")
        if not hasattr(self.store, "open_blob"):
            return self.respond(start_response, 404, {"Content-Type": "text/plain"}, "no registry behind motoworld\n")
        conn, resp = self.store.open_blob(found[0], found[1], byte_range)
        if resp.status not in (200, 206):
            conn.close()
            return self.respond(start_response, resp.status, {"Content-Type": "text/plain"}, "the registry refused the read\n")
        with COUNTS_LOCK:
            key = "LayerDownloadPart" if resp.status == 206 else "LayerDownload"
            COUNTS[key] = COUNTS.get(key, 0) + 1
        headers = [(k, v) for k, v in resp.getheaders() if k.lower() in ("content-length", "content-range", "content-type")]
        start_response(f"{resp.status} {'OK' if resp.status == 200 else 'Partial Content'}", headers)

        def body():
            try:
                while chunk := resp.read(MIB):
                    yield chunk
            finally:
                conn.close()
        return body()

    @staticmethod
    def respond(start_response, status, headers, body):
        data = body.encode("utf-8")
        reasons = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found"}
        start_response(f"{status} {reasons.get(status, 'Error')}",
                       list(headers.items()) + [("Content-Length", str(len(data)))])
        return [data]


# ---------------------------------------------------------------- bootstrap

def bootstrap(region):
    from moto.iam.models import iam_backends

    iam = iam_backends[ACCOUNT_ID]["aws"]
    role_arn = f"arn:aws:iam::{ACCOUNT_ID}:role/ecr-pusher"
    user_arn = f"arn:aws:iam::{ACCOUNT_ID}:user/ci-user"
    admin_arn = f"arn:aws:iam::{ACCOUNT_ID}:user/admin"

    def policy(*statements):
        return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})

    iam.create_user(region, "ci-user")
    iam.put_user_policy("ci-user", "assume-ecr-pusher",
                        policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}))
    user_key = iam.create_access_key("ci-user")

    iam.create_user(region, "admin")
    iam.put_user_policy("admin", "administrator-access", policy({"Effect": "Allow", "Action": "*", "Resource": "*"}))
    admin_key = iam.create_access_key("admin")

    # AWS would accept the account root alone; moto compares principals literally, so name them too.
    trust = policy({"Effect": "Allow", "Action": "sts:AssumeRole",
                    "Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT_ID}:root", user_arn, admin_arn]}},
                   {"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
                    "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/token.actions.githubusercontent.com"}})
    iam.create_role("ecr-pusher", trust, "/", None, "pushes images to ECR", [], "3600")
    iam.put_role_policy("ecr-pusher", "ecr-push",
                        policy({"Effect": "Allow", "Action": ["ecr:*", "sts:GetCallerIdentity"], "Resource": "*"}))
    iam.put_role_policy("ecr-pusher", "ecr-public-login",
                        policy({"Effect": "Allow", "Action": ["ecr-public:GetAuthorizationToken",
                                                              "sts:GetServiceBearerToken"], "Resource": "*"}))

    # Half of what an ECR Public login needs: no sts:GetServiceBearerToken.
    iam.create_user(region, "public-half")
    iam.put_user_policy("public-half", "ecr-public-token-only",
                        policy({"Effect": "Allow", "Action": "ecr-public:GetAuthorizationToken", "Resource": "*"}))
    public_half_key = iam.create_access_key("public-half")

    return {
        "userAccessKeyId": user_key.access_key_id, "userSecretAccessKey": user_key.secret_access_key,
        "roleArn": role_arn,
        "adminAccessKeyId": admin_key.access_key_id, "adminSecretAccessKey": admin_key.secret_access_key,
        "publicHalfAccessKeyId": public_half_key.access_key_id,
        "publicHalfSecretAccessKey": public_half_key.secret_access_key,
    }


def enable_auth():
    """What INITIAL_NO_AUTH_ACTION_COUNT=0 does: moto checks signature and IAM on every request from now on."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0


# ---------------------------------------------------------------- main

def keep_connections():
    """werkzeug's server reads and drops whatever its socket holds after each response (10 ms select rounds), which
    on a kept-alive connection swallows the client's next request. It finds the socket through its module's
    `selectors`; a selector that never reports data turns that read off (the handler drains the body instead)."""
    import selectors
    import types
    import werkzeug.serving

    class NothingToRead:
        def register(self, *args):
            pass

        def select(self, timeout=None):
            return []

        def close(self):
            pass

    werkzeug.serving.selectors = types.SimpleNamespace(DefaultSelector=NothingToRead, EVENT_READ=selectors.EVENT_READ)


def main():
    parent = os.getppid()  # before the slow imports, so a parent that dies meanwhile is noticed
    opts = parse_args()
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import WSGIRequestHandler, make_server
    from werkzeug.wsgi import LimitedStream

    work_dir = opts.work_dir or tempfile.mkdtemp(prefix="motoworld-")
    os.makedirs(work_dir, exist_ok=True)
    store = RegistryStore(opts.registry, opts.registry_user, opts.registry_password) if opts.registry else MemoryStore()
    install_ecr_operations(store, opts, work_dir)
    for spec in opts.fault:
        action, kind, calls, *held = spec.split(":")
        if kind not in ("throttle", "5xx", "slow"):
            raise SystemExit(f"--fault {spec}: KIND must be throttle, 5xx or slow")
        if held and (kind != "slow" or len(held) > 1):
            raise SystemExit(f"--fault {spec}: only a slow fault takes SECONDS (ACTION:slow:N:SECONDS)")
        INJECTED[action] = [kind, int(calls), float(held[0]) if held else SLOW_SECONDS]
    install_counting_and_json_auth_errors()
    install_unsigned_sts_actions()
    keys = bootstrap(opts.region)
    enable_auth()

    keep_connections()

    class QuietHandler(WSGIRequestHandler):
        """Keeps connections alive between requests, as AWS's endpoints do (werkzeug's server closes each one after
        its response, which would make every call pay a new connection). werkzeug closes because http.server cannot
        find the next request line behind a body the application left unread, and after each response it reads
        whatever the socket holds (which on a kept connection is the client's next request). Here each body is read
        within its length (or its chunks) and drained to its end after the response, and werkzeug's read-all is off
        (`keep_connections`)."""
        protocol_version = "HTTP/1.1"
        # A response is written in two sends (head, body): with Nagle's algorithm the body waits for the client's
        # delayed ACK of the head, 40 ms on a kept connection (a closing one flushes it with its FIN).
        disable_nagle_algorithm = True

        def log_request(self, *args, **kwargs):
            pass

        def make_environ(self):
            environ = super().make_environ()
            if not environ.get("wsgi.input_terminated"):
                environ["wsgi.input"] = LimitedStream(self.rfile, int(environ.get("CONTENT_LENGTH") or 0))
            self.request_body = environ["wsgi.input"]
            return environ

        def run_wsgi(self):
            super().run_wsgi()
            try:
                while self.request_body.read(1 << 16):
                    pass
            except Exception:
                self.close_connection = True

        def send_header(self, keyword, value):
            if keyword.lower() == "connection" and value.lower() == "close":
                return
            super().send_header(keyword, value)

    server = make_server("127.0.0.1", opts.port, Front(DomainDispatcherApplication(create_backend_app), opts, store),
                         threaded=True, request_handler=QuietHandler)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    print(json.dumps({"endpoint": f"http://127.0.0.1:{server.server_port}", "region": opts.region,
                      "accountId": ACCOUNT_ID, **keys, "pid": os.getpid()}), flush=True)
    while not stop.wait(1.0):
        if opts.exit_with_parent and os.getppid() != parent:
            break
    server.shutdown()
    if not opts.work_dir:
        shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
