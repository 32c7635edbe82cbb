// Tests for RegistryClient live here.
