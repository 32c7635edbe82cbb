import Foundation
import TestWorld
import Testing

/// Proves the loopback world the integration tests stand on: moto with real SigV4/IAM checks and the
/// ECR layer-upload operations, a real registry behind them, and a private dockerd.
@Suite struct WorldSmokeTests {
    @Test func motoChecksSignaturesAndPermissions() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        let result = try await runPython(
            Self.authProbe,
            environment: moto.awsEnvironment(.user).merging(
                ["ROLE_ARN": moto.roleArn]) { $1 })
        try #require(result.status == 0, "\(result.combinedText)\n\(moto.logPath)")
        let report = try JSONDecoder().decode([String: String].self, from: result.stdout)

        #expect(report["callerArn"] == "arn:aws:iam::\(moto.accountId):user/ci-user")
        #expect(report["userCallsECR"] == "AccessDeniedException")
        // The added layer operations are authorized like moto's own, as ecr:<Operation>.
        #expect(report["userInitiatesUpload"]?.hasSuffix("is not authorized to perform: ecr:InitiateLayerUpload") == true)
        #expect(report["assumedArn"] == "arn:aws:sts::\(moto.accountId):assumed-role/ecr-pusher/smoke")
        #expect(report["token"] == "AWS:motoworld-password")
        #expect(report["unsignedECR"] == "400 MissingAuthenticationTokenException")
        #expect(report["unsignedSTS"] == "403 MissingAuthenticationToken")
        #expect(report["wrongSecretECR"] == "InvalidSignatureException")
        #expect(report["wrongSecretSTS"] == "SignatureDoesNotMatch")
        #expect(report["unknownKeyECR"] == "UnrecognizedClientException")
        #expect(report["staleDateSTS"] == "403 SignatureDoesNotMatch")
        // Unsigned in AWS too: a web identity token alone gets the role.
        #expect(report["webIdentityArn"] == "arn:aws:sts::\(moto.accountId):assumed-role/ecr-pusher/oidc")
    }

    @Test func registryAcceptsOnlyTheAWSLogin() async throws {
        let registry = try await LoopbackRegistry.shared()
        // The credentials go to curl on stdin (-K -), never in argv.
        func status(login: String?) async throws -> String {
            let probe = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "\(registry.url)/v2/"]
            guard let login else { return try await runProcess("curl", probe).stdoutText }
            return try await runProcess("curl", ["-K", "-"] + probe, stdin: Data("user = \"\(login)\"\n".utf8)).stdoutText
        }
        #expect(registry.username == "AWS")
        #expect(try await status(login: nil) == "401")
        #expect(try await status(login: "AWS:not-\(registry.password)") == "401")
        #expect(try await status(login: "AWS:\(registry.password)") == "200")
    }

    @Test func dockerDaemonRunsBusybox() async throws {
        let docker = try await DockerDaemon.shared()
        let ping = try await runProcess("curl", ["-sS", "--unix-socket", docker.socketPath, "http://localhost/_ping"])
        #expect(ping.stdoutText == "OK")
        let run = try await docker.docker(["run", "--rm", "--network", "none", DockerDaemon.baseImage, "echo", "hello"])
        #expect(run.status == 0, "\(run.combinedText)")
        #expect(run.stdoutText == "hello\n")
    }

    /// Pushes an image through ECR's layer-upload API (boto3, as the ci-user's assumed role),
    /// then pulls and runs it with the real docker CLI from the registry moto stored it in.
    @Test func layerUploadThroughECRCanBePulledAndRun() async throws {
        async let sharedRegistry = LoopbackRegistry.shared()
        async let sharedDocker = DockerDaemon.shared()
        let (registry, docker) = try await (sharedRegistry, sharedDocker)
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }

        let scratch = TemporaryDirectory()
        defer { scratch.remove() }
        let savedTar = scratch.appending("busybox.tar").path
        let save = try await docker.docker(["save", "-o", savedTar, DockerDaemon.baseImage])
        try #require(save.status == 0, "\(save.combinedText)")

        let repository = "smoke/busybox-\(UUID().uuidString.prefix(8).lowercased())"
        var environment = moto.awsEnvironment(.user)
        environment["ROLE_ARN"] = moto.roleArn
        environment["ADMIN_KEY"] = moto.adminAccessKeyId
        environment["ADMIN_SECRET"] = moto.adminSecretAccessKey
        environment["REPO"] = repository
        environment["SAVED_TAR"] = savedTar
        let push = try await runPython(Self.pushThroughECR, environment: environment)
        try #require(push.status == 0, "\(push.combinedText)\nmoto log: \(moto.logPath)")
        let report = try JSONDecoder().decode(PushReport.self, from: push.stdout)

        #expect(report.missingBeforePush == ["MissingLayerDigest"])
        #expect(report.nonConsecutive == "InvalidLayerPartException")
        #expect(report.lastValidByteReceived == 5 * 1024 * 1024 - 1)
        #expect(report.wrongDigest == "InvalidLayerException")
        #expect(report.availableAfterPush == "AVAILABLE")
        #expect(report.layerAlreadyExists == "LayerAlreadyExistsException")
        #expect(report.bigLayerParts.count == 2)
        #expect(report.bigLayerParts.first == 5 * 1024 * 1024)
        #expect(report.imageDigest == report.manifestDigest)
        // The ECR token logs in to the loopback registry that holds the pushed blobs.
        #expect(report.proxyEndpoint == registry.url)
        #expect(report.token == "\(registry.username):\(registry.password)")

        let counts = try await moto.counts()
        #expect(counts["InitiateLayerUpload"] == report.initiated)
        #expect(counts["UploadLayerPart"] == report.partsSent)
        #expect(counts["CompleteLayerUpload"] == report.completeCalls)
        #expect(counts["BatchCheckLayerAvailability"] == report.batchChecks)
        #expect(counts["PutImage"] == 1)

        let image = "\(registry.hostPort)/\(repository):v1"
        let login = try await docker.docker(
            ["login", "-u", registry.username, "--password-stdin", registry.hostPort],
            stdin: Data(registry.password.utf8))
        try #require(login.status == 0, "\(login.combinedText)")
        let pull = try await docker.docker(["pull", image])
        try #require(pull.status == 0, "\(pull.combinedText)")
        #expect(pull.stdoutText.contains(report.manifestDigest))
        let run = try await docker.docker([
            "run", "--rm", "--network", "none", image,
            "sh", "-c", "cat /smoke/hello.txt; wc -c < /smoke/random.bin"
        ])
        #expect(run.status == 0, "\(run.combinedText)")
        #expect(
            run.stdoutText.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                == ["hello from ECR", "9437184"])
    }

    struct PushReport: Decodable {
        let missingBeforePush: [String]
        let nonConsecutive: String
        let lastValidByteReceived: Int
        let wrongDigest: String
        let availableAfterPush: String
        let layerAlreadyExists: String
        let bigLayerParts: [Int]
        let imageDigest: String
        let manifestDigest: String
        let initiated: Int
        let partsSent: Int
        let completeCalls: Int
        let batchChecks: Int
        let proxyEndpoint: String
        let token: String
    }

    /// Prints a JSON object of outcomes; the Swift test asserts on them.
    static let authProbe = #"""
        import base64, calendar, json, os, re, time, urllib.error, urllib.request
        import boto3, botocore
        from botocore import UNSIGNED
        from botocore.config import Config

        no_retries = Config(retries={"max_attempts": 1})
        endpoint = os.environ["AWS_ENDPOINT_URL"]
        key = os.environ["AWS_ACCESS_KEY_ID"]

        def code(call):
            try:
                call()
                return "OK"
            except botocore.exceptions.ClientError as e:
                return e.response["Error"]["Code"]

        def raw(headers, body):
            request = urllib.request.Request(endpoint + "/", data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request) as response:
                    return f"{response.status} accepted"
            except urllib.error.HTTPError as e:
                text = e.read().decode()
                found = re.search(r'"__type": ?"([^"]+)"|<Code>([^<]+)</Code>', text)
                return f"{e.code} {found and (found.group(1) or found.group(2))}"

        sts = boto3.client("sts", config=no_retries)
        report = {"callerArn": sts.get_caller_identity()["Arn"]}
        report["userCallsECR"] = code(lambda: boto3.client("ecr", config=no_retries).get_authorization_token())
        try:
            boto3.client("ecr", config=no_retries).initiate_layer_upload(repositoryName="any-repo")
            report["userInitiatesUpload"] = "allowed"
        except botocore.exceptions.ClientError as e:
            report["userInitiatesUpload"] = e.response["Error"]["Code"] + ": " + e.response["Error"]["Message"]
        creds = sts.assume_role(RoleArn=os.environ["ROLE_ARN"], RoleSessionName="smoke")["Credentials"]
        role = dict(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                    aws_session_token=creds["SessionToken"], config=no_retries)
        report["assumedArn"] = boto3.client("sts", **role).get_caller_identity()["Arn"]
        data = boto3.client("ecr", **role).get_authorization_token()["authorizationData"][0]
        report["token"] = base64.b64decode(data["authorizationToken"]).decode()

        wrong = dict(aws_access_key_id=key, aws_secret_access_key="x" * 40, config=no_retries)
        report["wrongSecretECR"] = code(lambda: boto3.client("ecr", **wrong).describe_repositories())
        report["wrongSecretSTS"] = code(lambda: boto3.client("sts", **wrong).get_caller_identity())
        unknown = dict(aws_access_key_id="AKIAUNKNOWNUNKNOWN00", aws_secret_access_key="x" * 40, config=no_retries)
        report["unknownKeyECR"] = code(lambda: boto3.client("ecr", **unknown).describe_repositories())

        report["unsignedECR"] = raw({"X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken",
                                     "Content-Type": "application/x-amz-json-1.1"}, b"{}")
        report["unsignedSTS"] = raw({"Content-Type": "application/x-www-form-urlencoded"},
                                    b"Action=GetCallerIdentity&Version=2011-06-15")
        # A well-formed header dated an hour ago: refused before the signature is even checked.
        stale = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 3600))
        report["staleDateSTS"] = raw({"Content-Type": "application/x-www-form-urlencoded", "X-Amz-Date": stale,
                                      "Authorization": f"AWS4-HMAC-SHA256 Credential={key}/{stale[:8]}/us-east-1/sts/aws4_request, "
                                                       f"SignedHeaders=host;x-amz-date, Signature={'0' * 64}"},
                                     b"Action=GetCallerIdentity&Version=2011-06-15")
        anonymous = boto3.client("sts", config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))
        web = anonymous.assume_role_with_web_identity(RoleArn=os.environ["ROLE_ARN"], RoleSessionName="oidc",
                                                      WebIdentityToken="eyJhbGciOiJSUzI1NiJ9.e30.c2ln")["Credentials"]
        report["webIdentityArn"] = boto3.client("sts", aws_access_key_id=web["AccessKeyId"], aws_secret_access_key=web["SecretAccessKey"],
                                                aws_session_token=web["SessionToken"], config=no_retries).get_caller_identity()["Arn"]
        print(json.dumps(report))
        """#

    /// Builds an image from `docker save busybox:local` plus a layer with a hello file and 9 MiB of
    /// random bytes, and pushes it with the ECR layer API, probing the error cases on the way.
    static let pushThroughECR = #"""
        import base64, gzip, hashlib, io, json, os, tarfile
        import boto3, botocore
        from botocore.config import Config

        PART = 5 * 1024 * 1024
        no_retries = Config(retries={"max_attempts": 1})
        repo = os.environ["REPO"]
        admin = boto3.client("ecr", aws_access_key_id=os.environ["ADMIN_KEY"],
                             aws_secret_access_key=os.environ["ADMIN_SECRET"], config=no_retries)
        admin.create_repository(repositoryName=repo)
        creds = boto3.client("sts", config=no_retries).assume_role(
            RoleArn=os.environ["ROLE_ARN"], RoleSessionName="smoke-push")["Credentials"]
        ecr = boto3.client("ecr", aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                           aws_session_token=creds["SessionToken"], config=no_retries)
        calls = {"initiated": 0, "partsSent": 0, "completeCalls": 0, "batchChecks": 0}
        report = {}

        def sha(data):
            return "sha256:" + hashlib.sha256(data).hexdigest()

        def error_code(call):
            try:
                call()
                return "OK", {}
            except botocore.exceptions.ClientError as e:
                return e.response["Error"]["Code"], e.response

        def check(digest):
            calls["batchChecks"] += 1
            return ecr.batch_check_layer_availability(repositoryName=repo, layerDigests=[digest])

        def initiate():
            calls["initiated"] += 1
            return ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]

        def send(upload, first, part):
            calls["partsSent"] += 1
            return ecr.upload_layer_part(repositoryName=repo, uploadId=upload, partFirstByte=first,
                                         partLastByte=first + len(part) - 1, layerPartBlob=part)

        def complete(upload, digest):
            calls["completeCalls"] += 1
            return ecr.complete_layer_upload(repositoryName=repo, uploadId=upload, layerDigests=[digest])

        def push(blob):
            digest, upload, sizes = sha(blob), initiate(), []
            for first in range(0, len(blob), PART):
                part = blob[first:first + PART]
                assert send(upload, first, part)["lastByteReceived"] == first + len(part) - 1
                sizes.append(len(part))
            assert complete(upload, digest)["layerDigest"] == digest
            return digest, sizes

        with tarfile.open(os.environ["SAVED_TAR"]) as saved:
            saved_manifest = json.load(saved.extractfile("manifest.json"))[0]
            base_layer = saved.extractfile(saved_manifest["Layers"][0]).read()
            config = json.load(saved.extractfile(saved_manifest["Config"]))

        extra = io.BytesIO()
        with tarfile.open(fileobj=extra, mode="w") as tar:
            directory = tarfile.TarInfo("smoke")
            directory.type, directory.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(directory)
            for name, data in [("smoke/hello.txt", b"hello from ECR\n"), ("smoke/random.bin", os.urandom(9 * 1024 * 1024))]:
                info = tarfile.TarInfo(name)
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
        raw_layers = [base_layer, extra.getvalue()]
        layers = [gzip.compress(raw, mtime=0) for raw in raw_layers]
        big = layers[1]

        report["missingBeforePush"] = [f["failureCode"] for f in check(sha(big))["failures"]]

        # A part that skips bytes is refused, saying where the upload stands.
        probe = initiate()
        send(probe, 0, big[:PART])
        code, response = error_code(lambda: send(probe, PART + 1, big[PART + 1:2 * PART]))
        report["nonConsecutive"], report["lastValidByteReceived"] = code, response.get("lastValidByteReceived", -1)
        # Finishing it under the wrong digest is refused too.
        send(probe, PART, big[PART:])
        report["wrongDigest"] = error_code(lambda: complete(probe, sha(b"not this layer")))[0]

        digests = []
        for blob in layers:
            digest, sizes = push(blob)
            digests.append(digest)
            if blob is big:
                report["bigLayerParts"] = sizes
        report["availableAfterPush"] = check(digests[1])["layers"][0]["layerAvailability"]

        again = initiate()
        send(again, 0, layers[0])
        report["layerAlreadyExists"] = error_code(lambda: complete(again, digests[0]))[0]

        config["rootfs"]["diff_ids"] = [sha(raw) for raw in raw_layers]
        config.pop("history", None)
        config_bytes = json.dumps(config).encode()
        config_digest, _ = push(config_bytes)
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                       "size": len(config_bytes), "digest": config_digest},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(blob), "digest": d}
                       for blob, d in zip(layers, digests)],
        })
        image = ecr.put_image(repositoryName=repo, imageManifest=manifest, imageTag="v1")["image"]
        report["imageDigest"] = image["imageId"]["imageDigest"]
        report["manifestDigest"] = sha(manifest.encode())
        authorization = ecr.get_authorization_token()["authorizationData"][0]
        report["proxyEndpoint"] = authorization["proxyEndpoint"]
        report["token"] = base64.b64decode(authorization["authorizationToken"]).decode()
        print(json.dumps({**report, **calls}))
        """#
}
