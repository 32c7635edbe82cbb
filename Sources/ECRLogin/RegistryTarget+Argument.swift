import AWSCore

extension RegistryTarget {
    /// A `--registry` value (or `--public`'s host): a section of ecrpush's config named exactly so (an alias or a
    /// host), else a well-formed host[:port]. Anything else is refused here, before any request; whether a
    /// host is one ecrpush can log in to is the caller's to say.
    package static func argument(_ text: String, in profiles: RegistryProfiles, flag: String = "--registry") throws(ECRLoginError) -> RegistryTarget {
        if profiles.profile(named: text) == nil, let problem = RegistryAddress.problem(with: text) {
            throw .invalidArgument(
                "\(flag) \(InputEcho.quoted(text)) is not a registry: \(problem). Expected a registry host[:port] (such as "
                    + "123456789012.dkr.ecr.us-east-1.amazonaws.com or registry.example.com:5000) or an alias, a [registry NAME] section of "
                    + "\(profiles.path)")
        }
        return resolve(text, in: profiles)
    }
}
