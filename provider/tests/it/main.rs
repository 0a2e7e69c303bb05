//! Integration tests of the provider crate: the schema snapshot, the docs
//! freshness check, and the plugin binary's handshake behaviour.

mod docs;
mod handshake;
mod schema;
