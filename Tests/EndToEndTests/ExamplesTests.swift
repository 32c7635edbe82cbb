import Foundation
import TestWorld
import Testing

/// Every file under examples/ is checked: policies are IAM-shaped JSON, CI files are YAML, and every `ecrpush …`
/// command line in them gets past the real argument parser (exit 1 for the missing daemon or credentials, never 64).
@Suite struct ExamplesTests {
    static let examples = Repo.root.appendingPathComponent("examples")

    static func files(withExtensions extensions: Set<String>) -> [URL] {
        let all = FileManager.default.enumerator(at: examples, includingPropertiesForKeys: nil)?.allObjects as? [URL] ?? []
        let found = all.filter { extensions.contains($0.pathExtension) }
        return found.sorted { $0.path < $1.path }
    }

    @Test func policiesAreIAMPolicyDocuments() throws {
        let policies = Self.files(withExtensions: ["json"])
        #expect(policies.count >= 6)
        for file in policies {
            let document = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any],
                "\(file.lastPathComponent) is not a JSON object")
            #expect(document["Version"] as? String == "2012-10-17", "\(file.lastPathComponent)")
            let statements = try #require(document["Statement"] as? [[String: Any]], "\(file.lastPathComponent): Statement array")
            #expect(!statements.isEmpty)
            for statement in statements {
                #expect(["Allow", "Deny"].contains(statement["Effect"] as? String ?? ""), "\(file.lastPathComponent)")
                let actions = (statement["Action"] as? [String]) ?? (statement["Action"] as? String).map { [$0] } ?? []
                #expect(!actions.isEmpty, "\(file.lastPathComponent): Action")
                for action in actions {
                    #expect(
                        action.hasPrefix("ecr:") || action.hasPrefix("ecr-public:") || action.hasPrefix("sts:"),
                        "\(file.lastPathComponent): \(action)")
                }
                // Identity policies name resources; resource (repository) and trust policies name principals.
                #expect(statement["Resource"] != nil || statement["Principal"] != nil, "\(file.lastPathComponent)")
            }
        }
    }

    @Test func policiesGrantWhatTheTransportsCall() throws {
        func actions(_ name: String) throws -> Set<String> {
            let data = try Data(contentsOf: Self.examples.appendingPathComponent("iam/\(name)"))
            let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let statements = try #require(document["Statement"] as? [[String: Any]])
            return Set(
                statements.filter { $0["Effect"] as? String == "Allow" }.flatMap {
                    ($0["Action"] as? [String]) ?? [$0["Action"] as? String ?? ""]
                })
        }
        let upload: Set = [
            "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
            "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:DescribeRepositories"
        ]
        let daemon = try actions("push-policy.json")
        #expect(daemon.isSuperset(of: upload.union(["ecr:GetAuthorizationToken"])))
        let ecrAPI = try actions("push-policy-ecr-api.json")
        #expect(ecrAPI == upload, "the ecr-api transport needs no registry password")
        #expect(
            try actions("promote-tag-policy.json") == ["ecr:DescribeRepositories", "ecr:BatchGetImage", "ecr:DescribeImages", "ecr:PutImage"],
            "what `ecrpush tag` calls, and nothing that moves layers")
        #expect(
            try actions("scan-gate-policy.json")
                == ["ecr:DescribeRepositories", "ecr:DescribeImages", "ecr:StartImageScan", "ecr:DescribeImageScanFindings"])
        #expect(try actions("login-policy.json") == ["ecr:GetAuthorizationToken"])
        #expect(try actions("ecr-public-login-policy.json") == ["ecr-public:GetAuthorizationToken", "sts:GetServiceBearerToken"])

        let trust = try String(contentsOf: Self.examples.appendingPathComponent("iam/github-oidc-trust-policy.json"), encoding: .utf8)
        for needle in [
            "token.actions.githubusercontent.com", "sts.amazonaws.com", "repo:ORG/REPO:ref:refs/heads/main",
            "sts:AssumeRoleWithWebIdentity"
        ] {
            #expect(trust.contains(needle))
        }
        let repository = try String(contentsOf: Self.examples.appendingPathComponent("iam/repository-policy-ci-only.json"), encoding: .utf8)
        #expect(repository.contains("\"Deny\"") && repository.contains("aws:PrincipalArn"))
    }

    @Test func ciFilesAreYAMLAndSayWhatTheyPromise() async throws {
        let yamlFiles = Self.files(withExtensions: ["yml", "yaml"])
        #expect(yamlFiles.count >= 3)
        for file in yamlFiles {
            let parsed = try await runPython(
                "import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); assert isinstance(d, dict), 'not a mapping'",
                arguments: [file.path])
            #expect(parsed.status == 0, "\(file.lastPathComponent): \(parsed.combinedText)")
        }
        let github = try await runPython(
            """
            import sys, yaml, json; d = yaml.safe_load(open(sys.argv[1]))
            print(json.dumps({"idToken": d["permissions"]["id-token"], "outputs": sorted(d["jobs"]["push"]["outputs"])}))
            """, arguments: [Self.examples.appendingPathComponent("github-actions/ecr-push.yml").path])
        try #require(github.status == 0, "\(github.combinedText)")
        let facts = try #require(try JSONSerialization.jsonObject(with: github.stdout) as? [String: Any])
        #expect(facts["idToken"] as? String == "write")
        #expect(facts["outputs"] as? [String] == ["digest", "image"])

        let circle = try String(contentsOf: Self.examples.appendingPathComponent("circleci/config.yml"), encoding: .utf8)
        for name in ["AWS_IAM_USER_ACCESS_KEY_ID", "AWS_IAM_USER_SECRET_ACCESS_KEY", "AWS_IAM_ROLE_ARN", "AWS_REGION"] {
            #expect(circle.contains(name))
        }
        let gitlab = try String(contentsOf: Self.examples.appendingPathComponent("gitlab-ci/gitlab-ci.yml"), encoding: .utf8)
        #expect(gitlab.contains("credHelpers") && gitlab.contains("docker-credential-ecrpush") && gitlab.contains("DOCKER_CONFIG"))
    }

    /// Values for the shell variables the examples use; a variable missing here fails the test (add it).
    static let shellVariables: [String: String] = [
        "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567", "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "org/app", "CIRCLE_SHA1": "89abcdef0123456789abcdef0123456789abcdef",
        "CIRCLE_BUILD_NUM": "42", "context": ".", "repository": "team/app", "tag": "v1.2.3",
        "registry": "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "ECR_REGISTRY": "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    ]

    /// Finds `ecrpush …` in command position (start of a line, after `|`, `&&`, `;`, inside `$(…)`) in YAML strings
    /// and shell scripts, and prints each as a JSON argv with the variables substituted.
    static let extractor = #"""
        import json, re, shlex, sys, yaml
        variables = json.loads(sys.argv[1])
        def strings(node):
            if isinstance(node, str): yield node
            elif isinstance(node, dict):
                for v in node.values(): yield from strings(v)
            elif isinstance(node, list):
                for v in node: yield from strings(v)
        def expand(token):
            def one(m):
                name = m.group(1) or m.group(2)
                if name not in variables: raise SystemExit("no test value for $" + name + " (add it to shellVariables)")
                return variables[name]
            if "${{" in token: raise SystemExit("GitHub expression in an ecrpush line: " + token)
            return re.sub(r"\$\{(\w+)\}|\$(\w+)", one, token)
        found = []
        for path in sys.argv[2:]:
            text = open(path).read()
            scripts = list(strings(yaml.safe_load(text))) if path.endswith((".yml", ".yaml")) else [text]
            for script in scripts:
                script = script.replace("\\\n", " ")
                pieces = [script] + re.findall(r"\$\(([^()]*)\)", script)
                for piece in (line for p in pieces for line in p.split("\n")):
                    lexer = shlex.shlex(piece, posix=True, punctuation_chars=True)
                    lexer.whitespace_split = True
                    tokens = list(lexer)
                    for i, token in enumerate(tokens):
                        if token != "ecrpush" or (i > 0 and not re.fullmatch(r"[();<>|&]+", tokens[i - 1])): continue
                        argv = []
                        for t in tokens[i + 1:]:
                            if re.fullmatch(r"[();<>|&]+", t): break
                            argv.append(expand(t))
                        found.append({"file": path, "argv": argv})
        print(json.dumps(found))
        """#

    @Test func everyEcrpushCommandLineParses() async throws {
        let sources = Self.files(withExtensions: ["yml", "yaml", "sh"])
        let variables = String(decoding: try JSONSerialization.data(withJSONObject: Self.shellVariables), as: UTF8.self)
        let extracted = try await runPython(Self.extractor, arguments: [variables] + sources.map(\.path))
        try #require(extracted.status == 0, "\(extracted.combinedText)")
        let commands = try #require(try JSONSerialization.jsonObject(with: extracted.stdout) as? [[String: Any]])
        // At least one command from each CI file and script.
        let filesWithCommands = Set(commands.compactMap { $0["file"] as? String })
        #expect(
            filesWithCommands == Set(sources.map(\.path)), "files without an ecrpush line: \(Set(sources.map(\.path)).subtracting(filesWithCommands))"
        )
        #expect(commands.count >= 7)

        // A context directory for `build-and-push .`, a GITHUB_OUTPUT file, no credentials and no daemon: each
        // command passes argument parsing and validation, then fails for want of the daemon or credentials.
        let workspace = TemporaryDirectory()
        try "FROM scratch\n".write(toFile: workspace.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let githubOutput = workspace.path + "/github-output"
        _ = FileManager.default.createFile(atPath: githubOutput, contents: nil)
        for command in commands {
            let argv = try #require(command["argv"] as? [String])
            let result = try await ECRPushCLI.run(
                argv, environment: ["GITHUB_OUTPUT": githubOutput, "AWS_MAX_ATTEMPTS": "1"],
                currentDirectory: workspace.url)
            let label = "ecrpush \(argv.joined(separator: " ")) (\(URL(fileURLWithPath: command["file"] as? String ?? "").lastPathComponent))"
            #expect(result.status == 1, "\(label): exit \(result.status)\n\(result.combinedText)")
            #expect(result.stderrText.contains("ecrpush: error:"), "\(label): \(result.combinedText)")
            #expect(!result.stderrText.contains("Usage:"), "\(label): \(result.combinedText)")
        }
    }

    /// The checker itself: a line with a usage error is caught (exit 64), so the test above can fail.
    @Test func aMisspelledOptionIsAUsageError() async throws {
        let result = try await ECRPushCLI.run(["build-and-push", ".", "--repositori", "team/app"], environment: [:])
        #expect(result.status == 64)
    }
}

/// What `make install` puts beside the binary: completion scripts and the man page, made from the command definitions.
@Suite struct CompletionsAndManPageTests {
    static let subcommands = ["login", "whoami", "build", "push", "build-and-push", "cache"]

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptNamesEverySubcommand(shell: String) async throws {
        let result = try await ECRPushCLI.run(["--generate-completion-script", shell], environment: [:])
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stdout.count > 2_000, "a real script, not a stub")
        for subcommand in Self.subcommands {
            #expect(result.stdoutText.contains(subcommand), "\(shell): \(subcommand)")
        }
        #expect(result.stdoutText.contains("transport"), "\(shell): options of subcommands")
        if shell == "bash" {
            let script = TemporaryDirectory()
            try result.stdout.write(to: script.appending("ecrpush.bash"))
            let syntax = try await runProcess("bash", ["-n", script.appending("ecrpush.bash").path])
            #expect(syntax.status == 0, "\(syntax.combinedText)")
        }
    }

    /// The bash completion completes subcommands and their options as a user at a prompt would see.
    @Test func bashCompletesSubcommandsAndOptions() async throws {
        let generated = try await ECRPushCLI.run(["--generate-completion-script", "bash"], environment: [:])
        let script = TemporaryDirectory()
        let path = script.appending("ecrpush.bash").path
        try generated.stdout.write(to: URL(fileURLWithPath: path))
        func complete(_ words: [String]) async throws -> [String] {
            let line = words.joined(separator: " ")
            let program = """
                source "$1"; shift
                COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
                _ecrpush ecrpush "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
                printf '%s\\n' "${COMPREPLY[@]}"
                """
            let result = try await runProcess("bash", ["-c", program, "bash", path] + words)
            #expect(result.status == 0, "\(line): \(result.combinedText)")
            return result.stdoutText.split(separator: "\n").map(String.init)
        }
        #expect(try await complete(["ecrpush", "bu"]) == ["build", "build-and-push"])
        #expect(try await complete(["ecrpush", "push", "--trans"]) == ["--transport"])
    }

    @Test func manPageRendersWithEveryCommand() async throws {
        let directory = TemporaryDirectory()
        let page = directory.appending("ecrpush.1").path
        let generated = try await runProcess(
            "python3",
            [
                Repo.tools.appendingPathComponent("gen-manpage.py").path,
                ECRPushCLI.binary, page
            ],
            environment: ["SOURCE_DATE_EPOCH": "1795000000"])
        try #require(generated.status == 0, "\(generated.combinedText)")
        let roff = try String(contentsOfFile: page, encoding: .utf8)
        #expect(roff.contains(".TH ECRPUSH 1 \"2026-11-18\""), "SOURCE_DATE_EPOCH fixes the date")
        for section in [".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", ".SH COMMANDS", ".SH EXIT STATUS"] {
            #expect(roff.contains(section))
        }
        // groff with every warning on: no complaint about the roff.
        let checked = try await runProcess("groff", ["-man", "-Tutf8", "-ww", "-z", page])
        #expect(checked.status == 0 && checked.stderrText.isEmpty, "\(checked.combinedText)")
        let rendered = try await runProcess("man", ["-l", page], environment: ["MANWIDTH": "100", "MANPAGER": "cat", "PAGER": "cat"])
        try #require(rendered.status == 0, "\(rendered.combinedText)")
        // man may use backspace overstrikes for bold: drop them before reading the text.
        let text = rendered.stdoutText.replacingOccurrences(of: "\u{8}", with: "")
        for subcommand in Self.subcommands {
            #expect(text.contains("ecrpush \(subcommand)"), "\(subcommand)")
        }
        #expect(text.contains("--repository"))
        #expect(text.contains("--transport"))
    }
}
