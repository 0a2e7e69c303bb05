//! `Secret`: the credentials in [`crate::Config`] (token, password, client key), redacted in
//! `Debug` and `Display`. The type is the workspace's one redacting string, `pipeline::secret`.

pub use pipeline::secret::Secret;
