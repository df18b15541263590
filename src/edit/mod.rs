//! Editing the files that belong to the user and to other programs, byte for byte: Docker's
//! `config.json` (its `credHelpers` and `credsStore`, JSON edited as text so every other byte
//! stays) and our `config.toml`, written atomically through the user's links, replaced only
//! if unchanged. `configure` edits with it, the daemon's Docker Desktop repair, and `doctor`
//! reads with its parsers; none of them holds an editor of its own.

pub(crate) mod creds_store;
pub(crate) mod docker_config;
pub(crate) mod ecr_config;
pub(crate) mod json_text;
pub(crate) mod user_file;
