//! The token path: from a server string to a token, the same for every front end and for
//! the daemon. [`host`] parses, [`config`] says how the registry is to be reached,
//! [`identity`] names who asks, [`cache`] (with [`lock`]) keeps tokens, [`policy`] says
//! when one may be served and when it should be renewed, [`fetch`] gets new ones, and
//! [`resolve`] strings them together.

pub(crate) mod cache;
pub(crate) mod config;
pub(crate) mod fetch;
pub(crate) mod host;
pub(crate) mod identity;
pub(crate) mod lock;
pub(crate) mod policy;
pub(crate) mod resolve;
