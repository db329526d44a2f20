//! The policies this process's command line knows: the shipped ones plus those the embedding
//! binary added through [`crate::Cli::with_policy`]. Installed once, before any command runs,
//! and read by every run of a sweep (from any rayon thread), so a name means one policy
//! everywhere in the process.

use flexsim_policies::{Built, PolicyError, Registry};
use std::sync::OnceLock;

static REGISTRY: OnceLock<Registry> = OnceLock::new();

/// Installs the registry; the first call wins (one `Cli::run` per process).
pub(crate) fn install(registry: Registry) {
    let _ = REGISTRY.set(registry);
}

/// The installed registry, or the shipped policies when none was installed (unit tests).
pub(crate) fn get() -> &'static Registry {
    REGISTRY.get_or_init(Registry::shipped)
}

/// Builds the policy a request (`name[key=value,...]`) names from the installed registry.
pub(crate) fn build(spec: &str) -> Result<Built, PolicyError> {
    get().build(spec)
}
