import AWSCore
import Hashing
import SigV4

/// Where the credentials come from, as data. People read its `description`; the login cache keys on
/// `cacheIdentity`, so rewording a message never changes which login is reused.
package indirect enum CredentialSource: Sendable, Hashable, CustomStringConvertible {
    /// Keys in environment variables: `AWS_ACCESS_KEY_ID`, or containerise.py's `AWS_IAM_USER_ACCESS_KEY_ID`.
    case environmentKeys(variable: String, key: KeyIdentity)
    /// `aws_access_key_id` / `aws_secret_access_key` of a profile, and the file that holds them.
    case profileKeys(profile: String, file: String, key: KeyIdentity)
    /// A profile's `credential_process`.
    case credentialProcess(profile: String)
    /// An OIDC token file exchanged for a role (`AWS_WEB_IDENTITY_TOKEN_FILE`, or a profile's
    /// `web_identity_token_file`).
    case webIdentity(tokenFile: String, roleArn: String, profile: String?)
    /// A role assumed with the credentials of `base`.
    case assumedRole(roleArn: String, origin: RoleOrigin, base: CredentialSource)
    /// The ECS (or EKS Pod Identity) container endpoint.
    case containerEndpoint(url: String)
    /// The EC2 instance role through IMDSv2.
    case instanceMetadata(endpoint: String)

    /// Who asked for a role to be assumed.
    package enum RoleOrigin: Sendable, Hashable {
        /// containerise.py's `AWS_IAM_ROLE_ARN`.
        case containeriseVariable
        /// `--role-arn`.
        case flag
        /// A profile's `role_arn`, with `source_profile` or `credential_source` (`via`, as written there).
        case profile(name: String, via: String)
    }

    /// Whether the credentials take a request to some endpoint before the first call can be signed (a role to
    /// assume, a token to exchange, a metadata endpoint to ask), rather than being read from where they are kept.
    package var isFetchedOverNetwork: Bool {
        switch self {
        case .environmentKeys, .profileKeys, .credentialProcess: false
        case .webIdentity, .assumedRole, .containerEndpoint, .instanceMetadata: true
        }
    }

    package var description: String {
        switch self {
        case .environmentKeys(let variable, _):
            return "environment variables (\(variable))"
        case .profileKeys(let profile, let file, _):
            return "profile '\(profile)' (static keys in \(file))"
        case .credentialProcess(let profile):
            return "profile '\(profile)' (credential_process)"
        case .webIdentity(let tokenFile, let roleArn, let profile?):
            return "profile '\(profile)' (web identity token file \(tokenFile), role \(roleArn))"
        case .webIdentity(let tokenFile, let roleArn, nil):
            return "web identity token file \(tokenFile) (role \(roleArn))"
        case .assumedRole(let roleArn, .containeriseVariable, .environmentKeys(let variable, _)):
            return "environment variables (\(variable), role \(roleArn) via AWS_IAM_ROLE_ARN)"
        case .assumedRole(let roleArn, .containeriseVariable, let base):
            return "role \(roleArn) (AWS_IAM_ROLE_ARN) assumed with \(base)"
        case .assumedRole(let roleArn, .flag, let base):
            return "role \(roleArn) (--role-arn) assumed with \(base)"
        case .assumedRole(let roleArn, .profile(let name, let via), _):
            return "profile '\(name)' (role \(roleArn) via \(via))"
        case .containerEndpoint(let url):
            return "ECS container credentials (\(url))"
        case .instanceMetadata(let endpoint):
            return "EC2 instance metadata (IMDSv2) at \(endpoint)"
        }
    }

    /// A stable name for the principal these credentials stand for, without asking AWS; nil when only AWS can
    /// say (temporary keys, credential_process, container and instance roles: STS GetCallerIdentity names them).
    /// Keys at hand are named by their `KeyIdentity`, so another key, or the same key id with a wrong secret, is
    /// another principal. A role is named by its ARN and by what assumes it.
    package var cacheIdentity: String? {
        switch self {
        case .environmentKeys(_, let key), .profileKeys(_, _, let key):
            return key.isLongTerm ? key.name : nil
        case .webIdentity(let tokenFile, let roleArn, _):
            return "role \(roleArn) with web identity token file \(tokenFile)"
        case .assumedRole(let roleArn, _, let base):
            return "role \(roleArn) assumed with \(base.baseIdentity)"
        case .credentialProcess, .containerEndpoint, .instanceMetadata:
            return nil
        }
    }

    /// What assumes a role, named without AWS: keys by their identity (temporary ones too: a new session is a
    /// new base), the other sources by kind and place, since they stand for this machine or profile.
    private var baseIdentity: String {
        switch self {
        case .environmentKeys(_, let key), .profileKeys(_, _, let key): return key.name
        case .credentialProcess(let profile): return "credential_process of profile '\(profile)'"
        case .containerEndpoint(let url): return "container credentials \(url)"
        case .instanceMetadata(let endpoint): return "instance metadata \(endpoint)"
        case .webIdentity, .assumedRole: return "(\(cacheIdentity ?? ""))"
        }
    }

    /// The OIDC token file these credentials depend on, if any: the file's content names the workload, so the
    /// login cache also keys on a digest of it (a replaced token never reuses the previous one's login).
    package var webIdentityTokenFile: String? {
        switch self {
        case .webIdentity(let tokenFile, _, _): return tokenFile
        case .assumedRole(_, _, let base): return base.webIdentityTokenFile
        default: return nil
        }
    }
}

/// Names a set of keys without showing them: an HMAC of the key id (and session token) under the secret.
/// Neither the id nor the secret can be read back from it, and a wrong secret gives another name.
package struct KeyIdentity: Sendable, Hashable {
    package let name: String
    /// An IAM user's access key (no session token): it always stands for the same user.
    package let isLongTerm: Bool

    package init(_ credentials: Credentials) {
        let token = credentials.sessionToken ?? ""
        // Long-term keys hash the id alone, as the cache has always named them, so existing logins stay valid.
        let data = token.isEmpty ? credentials.accessKeyId : credentials.accessKeyId + "\n" + token
        let mac = HMACSHA256.authenticationCode(key: Array(credentials.secretAccessKey.utf8), data: data)
        isLongTerm = token.isEmpty
        name = (isLongTerm ? "long-term key " : "session key ") + Hex.encode(mac)
    }
}
