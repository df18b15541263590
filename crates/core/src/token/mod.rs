//! The token path: from a server string to a token, the same for every front end and for
//! the daemon. [`host`] parses, [`config`] says how the registry is to be reached,
//! [`identity`] names who asks, [`cache`] (with [`lock`]) keeps tokens, [`policy`] says
//! when one may be served and when it should be renewed, [`fetch`] gets new ones, and
//! [`resolve`] strings them together.

pub mod cache;
pub mod config;
pub mod fetch;
pub mod host;
pub mod identity;
pub mod lock;
pub mod policy;
pub mod resolve;
