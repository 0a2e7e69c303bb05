//! Request and answer types of the transport: one logical [`Call`] (method, route
//! template, encoded path, query, body, idempotency) and its [`Reply`], plus path encoding.

use http::{HeaderMap, Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::Error;

/// Whether a call may be repeated after a transient server failure (502/503/504, broken
/// connection). Every call is retried on 429 and when the connection could not be opened,
/// because Gate has then done nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idempotency {
    /// GET, PUT, DELETE, and POSTs known to be create-or-replace.
    Idempotent,
    /// Other POSTs and PATCH.
    NotIdempotent,
}

/// A request body.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Body<'a> {
    Empty,
    Json(&'a Value),
}

/// One logical call to Gate.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    /// Route template for stats and logs, e.g. `/applications/{app}`.
    pub(crate) route: &'static str,
    /// Percent-encoded path below the endpoint, e.g. `/applications/my%20app`.
    pub(crate) path: String,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) body: Body<'a>,
    pub(crate) idempotency: Idempotency,
}

impl<'a> Call<'a> {
    pub(crate) fn get(route: &'static str, path: String) -> Self {
        Self::new(Method::GET, route, path, Idempotency::Idempotent)
    }

    pub(crate) fn new(
        method: Method,
        route: &'static str,
        path: String,
        idempotency: Idempotency,
    ) -> Self {
        Self {
            method,
            route,
            path,
            query: Vec::new(),
            body: Body::Empty,
            idempotency,
        }
    }

    pub(crate) fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }

    pub(crate) fn json(mut self, body: &'a Value) -> Self {
        self.body = Body::Json(body);
        self
    }

    pub(crate) fn operation(&self) -> String {
        format!("{} {}", self.method, self.route)
    }
}

/// A received answer, body read in full.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    pub(crate) operation: String,
}

impl Reply {
    /// Decodes the body as JSON.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|source| Error::Decode {
            operation: self.operation.clone(),
            source,
        })
    }

    /// Decodes the body, treating an empty body as `None`.
    pub(crate) fn json_opt<T: DeserializeOwned>(&self) -> Result<Option<T>, Error> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        self.json().map(Some)
    }
}

/// Turns `Err(NotFound)` into `Ok(None)`.
pub(crate) fn optional<T>(result: Result<T, Error>) -> Result<Option<T>, Error> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(Error::NotFound { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

/// Percent-encodes one path segment (application, pipeline name, id).
pub(crate) fn segment(value: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(value, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::segment;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn segments_round_trip_and_never_split_the_path(name in "\\PC{0,40}") {
            let encoded = segment(&name);
            prop_assert!(!encoded.contains('/') && !encoded.contains('?') && !encoded.contains('#'));
            let decoded = percent_encoding::percent_decode_str(&encoded).decode_utf8();
            prop_assert_eq!(decoded.map(|d| d.into_owned()).ok(), Some(name));
        }
    }
}
