//! Shared-secret signatures for webhook sources: `X-Hub-Signature-256: sha256=<hex>` (HMAC-SHA256
//! of the raw body) or GitHub's older `X-Hub-Signature: sha1=<hex>`. Compared in constant time.

use hmac::{Hmac, KeyInit, Mac};

/// The header carrying `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";
/// GitHub's older header carrying `sha1=<hex>`.
pub const LEGACY_SIGNATURE_HEADER: &str = "X-Hub-Signature";

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// A secret is configured but the request carries no signature.
    #[error("the webhook source requires a signature header (X-Hub-Signature-256: sha256=<hex>)")]
    Missing,
    /// The header is not `sha256=<hex>` or `sha1=<hex>`.
    #[error("the webhook signature header is not of the form sha256=<hex> or sha1=<hex>")]
    Malformed,
    /// The signature does not match the body.
    #[error("the webhook signature does not match the request body")]
    Mismatch,
}

/// Checks `header` (the signature header's value, if any) against HMAC(`secret`, `body`).
///
/// # Errors
/// Missing, malformed or mismatching signatures.
pub fn verify(secret: &[u8], body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim();
    let (algorithm, hex_digest) = header.split_once('=').ok_or(SignatureError::Malformed)?;
    let expected = hex::decode(hex_digest.trim()).map_err(|_| SignatureError::Malformed)?;
    let verified = match algorithm.trim().to_ascii_lowercase().as_str() {
        "sha256" => {
            let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret)
                .map_err(|_| SignatureError::Malformed)?;
            mac.update(body);
            mac.verify_slice(&expected).is_ok()
        }
        "sha1" => {
            let mut mac = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(secret)
                .map_err(|_| SignatureError::Malformed)?;
            mac.update(body);
            mac.verify_slice(&expected).is_ok()
        }
        _ => return Err(SignatureError::Malformed),
    };
    if verified {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The `sha256=<hex>` header value for `body` under `secret` (for clients and tests).
pub fn sign_sha256(secret: &[u8], body: &[u8]) -> String {
    match <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(body);
            format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        }
        Err(_) => String::new(),
    }
}
