//! The AWS SDK's variables of one identity, kept apart so that every part of the identity
//! (its source text, its fingerprints) can use them without reaching back up.

use crate::env::is_secret_var;
use std::collections::BTreeMap;
use std::fmt;

/// The AWS SDK's variables for one identity: what the SDK sees when it fetches as it.
/// `Debug` shows the names of secrets, never their values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AwsEnv(pub(crate) BTreeMap<String, String>);

impl AwsEnv {
    /// A variable that is set and not blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// Every variable, as set (secrets included: for the SDK only).
    pub fn all(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// The variables that may be written down with an entry: everything but secrets.
    pub(crate) fn recordable(&self) -> BTreeMap<String, String> {
        self.0
            .iter()
            .filter(|(k, _)| !is_secret_var(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

impl fmt::Debug for AwsEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| {
                let shown = if is_secret_var(k) {
                    "<redacted>"
                } else {
                    v.as_str()
                };
                (k, shown)
            }))
            .finish()
    }
}
