//! The provider block: its schema, environment fallbacks, validation with
//! attribute-path diagnostics, and the `gate::Config` it produces.

use std::time::Duration;

use crate::diag::{AttributePath, Diagnostics};
use crate::schema::{Attribute, Block, Schema};
use crate::value::{Type, Value};

/// Where environment variables come from; tests pass a fixed map.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The provider configuration schema.
pub fn schema() -> Schema {
    Schema::new(
        0,
        Block::new("Manages Spinnaker applications (and, in later releases, pipelines) through Spinnaker's Gate API.")
            .attribute(Attribute::optional(
                "endpoint",
                Type::String,
                "Gate's base URL, e.g. `https://gate.example.com` or `http://127.0.0.1:8084`. Falls back to the `SPINNAKER_ENDPOINT` environment variable.",
            ))
            .attribute(
                Attribute::optional(
                    "token",
                    Type::String,
                    "Bearer token sent as `Authorization: Bearer` (OAuth 2.0 access token or IAP OIDC token). Falls back to `SPINNAKER_TOKEN`. Conflicts with `username`.",
                )
                .sensitive(),
            )
            .attribute(Attribute::optional(
                "username",
                Type::String,
                "User name for Gate's basic or LDAP login (the `SESSION` cookie). Falls back to `SPINNAKER_USERNAME`. Requires `password`.",
            ))
            .attribute(
                Attribute::optional("password", Type::String, "Password for `username`. Falls back to `SPINNAKER_PASSWORD`.")
                    .sensitive(),
            )
            .attribute(Attribute::optional(
                "client_certificate",
                Type::String,
                "x509 client certificate for Gate's x509 mode: a PEM string or the path of a PEM file. Falls back to `SPINNAKER_CLIENT_CERTIFICATE`. Requires `client_key`.",
            ))
            .attribute(
                Attribute::optional(
                    "client_key",
                    Type::String,
                    "Private key of `client_certificate`: a PEM string or the path of a PEM file. Falls back to `SPINNAKER_CLIENT_KEY`.",
                )
                .sensitive(),
            )
            .attribute(Attribute::optional(
                "ca_bundle",
                Type::String,
                "Extra CA certificates to trust, as a PEM string or the path of a PEM file. Falls back to `SPINNAKER_CA_BUNDLE`.",
            ))
            .attribute(Attribute::optional(
                "insecure",
                Type::Bool,
                "Skip TLS certificate verification. Only for test setups; defaults to `false`.",
            ))
            .attribute(
                Attribute::optional("headers", Type::map(Type::String), "Extra HTTP headers sent with every request to Gate.")
                    .sensitive(),
            )
            .attribute(Attribute::optional(
                "request_timeout",
                Type::String,
                "Bound for one HTTP request, as a duration such as `30s` or `2m`. Defaults to `30s`.",
            ))
            .attribute(Attribute::optional(
                "task_timeout",
                Type::String,
                "Bound for waiting on a Spinnaker task (application create, update, delete), as a duration. Defaults to `5m`.",
            ))
            .attribute(Attribute::optional(
                "max_retries",
                Type::Number,
                "Retries after a failed request (connection errors; 502, 503 and 504 on idempotent calls; 429 honouring `Retry-After`). Defaults to `4`.",
            ))
            .attribute(Attribute::optional(
                "requests_per_second",
                Type::Number,
                "Client-side rate limit for requests to Gate. Unlimited by default.",
            ))
            .attribute(Attribute::optional(
                "max_parallel_requests",
                Type::Number,
                "Requests to Gate in flight at once. Defaults to `8`.",
            ))
            .block(crate::aws::schema_block()),
    )
}

/// A string setting: from configuration, else from the environment.
fn setting(config: &Value, name: &str, env_var: Option<&str>, env: Env<'_>) -> Setting {
    match config.attr(name) {
        Some(Value::Unknown) => Setting::Unknown,
        Some(Value::String(s)) => Setting::Set(s.clone()),
        _ => match env_var.and_then(env).filter(|s| !s.is_empty()) {
            Some(s) => Setting::Env(s),
            None => Setting::Unset,
        },
    }
}

enum Setting {
    Set(String),
    Env(String),
    Unknown,
    Unset,
}

impl Setting {
    fn value(&self) -> Option<&str> {
        match self {
            Setting::Set(s) | Setting::Env(s) => Some(s),
            _ => None,
        }
    }
}

/// Parses `30s`, `1500ms`, `2m`, `1h` (or a bare number of seconds).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs))
}

/// Reads a PEM value given inline or as a file path.
fn pem(value: &str, path: AttributePath, what: &str, diags: &mut Diagnostics) -> Option<Vec<u8>> {
    if value.contains("-----BEGIN") {
        return Some(value.as_bytes().to_vec());
    }
    match std::fs::read(value) {
        Ok(bytes) if bytes.windows(10).any(|w| w == b"-----BEGIN") => Some(bytes),
        Ok(_) => {
            diags.attribute_error(
                path.clone(),
                "Invalid PEM File",
                format!("Attribute {path} must be PEM text or the path of a PEM file; the file {value:?} holds no PEM block ({what})."),
            );
            None
        }
        Err(e) => {
            diags.attribute_error(
                path.clone(),
                "Cannot Read PEM File",
                format!("Attribute {path} names the file {value:?}, which cannot be read: {e}. Give PEM text or a readable file ({what})."),
            );
            None
        }
    }
}

/// Checks the configuration and, when every value is known and valid, builds
/// the Gate client configuration. Unknown values are skipped during
/// validation (`Ok(None)`) and are an error at configure time.
pub fn build(config: &Value, env: Env<'_>, diags: &mut Diagnostics) -> Option<gate::Config> {
    let get = |name: &str, var: Option<&str>| setting(config, name, var, env);
    let endpoint = get("endpoint", Some("SPINNAKER_ENDPOINT"));
    let token = get("token", Some("SPINNAKER_TOKEN"));
    let username = get("username", Some("SPINNAKER_USERNAME"));
    let password = get("password", Some("SPINNAKER_PASSWORD"));
    let cert = get("client_certificate", Some("SPINNAKER_CLIENT_CERTIFICATE"));
    let key = get("client_key", Some("SPINNAKER_CLIENT_KEY"));
    let ca = get("ca_bundle", Some("SPINNAKER_CA_BUNDLE"));
    let request_timeout = get("request_timeout", None);
    let task_timeout = get("task_timeout", None);
    let mut unknown = false;

    let url = match &endpoint {
        Setting::Unknown => {
            unknown = true;
            None
        }
        Setting::Unset => {
            diags.attribute_error(
                AttributePath::root("endpoint"),
                "Missing Spinnaker Endpoint",
                "Attribute endpoint is required: set it in the provider block or export SPINNAKER_ENDPOINT, e.g. https://gate.example.com.",
            );
            None
        }
        Setting::Set(s) | Setting::Env(s) => match url::Url::parse(s) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Some(u),
            Ok(_) | Err(_) => {
                let from = if matches!(endpoint, Setting::Env(_)) {
                    " (from SPINNAKER_ENDPOINT)"
                } else {
                    ""
                };
                diags.attribute_error(
                    AttributePath::root("endpoint"),
                    "Invalid Spinnaker Endpoint",
                    format!("Attribute endpoint must be an http or https URL such as https://gate.example.com, got: {s:?}{from}."),
                );
                None
            }
        },
    };

    if token.value().is_some() && username.value().is_some() {
        diags.attribute_error(
            AttributePath::root("username"),
            "Conflicting Authentication Settings",
            "Attributes token and username cannot both be set (including through SPINNAKER_TOKEN / SPINNAKER_USERNAME); choose one way to log in.",
        );
    }
    if username.value().is_some() && matches!(password, Setting::Unset) {
        diags.attribute_error(
            AttributePath::root("password"),
            "Missing Password",
            "Attribute password is required when username is set; set it or export SPINNAKER_PASSWORD.",
        );
    }
    if cert.value().is_some() != key.value().is_some()
        && !matches!(cert, Setting::Unknown)
        && !matches!(key, Setting::Unknown)
    {
        let missing = if cert.value().is_some() {
            "client_key"
        } else {
            "client_certificate"
        };
        diags.attribute_error(
            AttributePath::root(missing),
            "Incomplete Client Certificate",
            format!("Attribute {missing} is required: client_certificate and client_key must be set together."),
        );
    }
    for (name, setting) in [
        ("request_timeout", &request_timeout),
        ("task_timeout", &task_timeout),
    ] {
        if let Some(text) = setting.value()
            && parse_duration(text).is_none()
        {
            diags.attribute_error(
                AttributePath::root(name),
                "Invalid Duration",
                format!("Attribute {name} must be a positive duration such as \"30s\", \"1500ms\" or \"5m\", got: {text:?}."),
            );
        }
    }
    let number = |name: &str, min: f64, diags: &mut Diagnostics| -> Option<f64> {
        let v = config.attr(name)?;
        let n = v.as_number()?.as_f64()?;
        if n < min || (name != "requests_per_second" && n.fract() != 0.0) {
            diags.attribute_error(
                AttributePath::root(name),
                "Invalid Number",
                format!(
                    "Attribute {name} must be a whole number of at least {min}, got: {}.",
                    v.as_number().map_or("", |n| n.as_str())
                ),
            );
            return None;
        }
        Some(n)
    };
    // The aws block: checked here, installed for the aws_* data sources and plan checks.
    if !config.attr("aws").is_some_and(Value::contains_unknown) {
        crate::aws::install(crate::aws::parse_block(config.attr("aws"), env, diags));
    }
    let max_retries = number("max_retries", 0.0, diags);
    let max_parallel = number("max_parallel_requests", 1.0, diags);
    let rps = config
        .attr("requests_per_second")
        .and_then(Value::as_number)
        .and_then(|n| n.as_f64());
    if let Some(r) = rps
        && r <= 0.0
    {
        diags.attribute_error(
            AttributePath::root("requests_per_second"),
            "Invalid Number",
            format!("Attribute requests_per_second must be greater than 0, got: {r}."),
        );
    }

    for name in [
        "endpoint",
        "token",
        "username",
        "password",
        "client_certificate",
        "client_key",
        "ca_bundle",
        "insecure",
        "headers",
    ] {
        if config.attr(name).is_some_and(Value::contains_unknown) {
            unknown = true;
        }
    }
    if unknown || diags.has_errors() {
        return None;
    }
    let mut out = gate::Config::new(url?);
    if let Some(t) = token.value() {
        out.auth = gate::Auth::Token(gate::Secret::new(t));
    } else if let (Some(u), Some(p)) = (username.value(), password.value()) {
        out.auth = gate::Auth::Basic {
            username: u.to_owned(),
            password: gate::Secret::new(p),
        };
    } else if let (Some(c), Some(k)) = (cert.value(), key.value()) {
        let cert_pem = pem(
            c,
            AttributePath::root("client_certificate"),
            "the client certificate",
            diags,
        );
        let key_pem = pem(
            k,
            AttributePath::root("client_key"),
            "the client key",
            diags,
        );
        if let (Some(cert_pem), Some(key_pem)) = (cert_pem, key_pem) {
            let key_pem = String::from_utf8(key_pem).unwrap_or_default();
            out.auth = gate::Auth::ClientCertificate {
                cert_pem,
                key_pem: gate::Secret::new(key_pem),
            };
        }
    }
    if let Some(c) = ca.value() {
        out.ca_bundle_pem = pem(c, AttributePath::root("ca_bundle"), "the CA bundle", diags);
    }
    out.insecure = config
        .attr("insecure")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if let Some(Value::Map(headers)) = config.attr("headers") {
        out.headers = headers
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect();
    }
    if let Some(d) = request_timeout.value().and_then(parse_duration) {
        out.request_timeout = d;
    }
    if let Some(d) = task_timeout.value().and_then(parse_duration) {
        out.task_timeout = d;
    }
    if let Some(n) = max_retries {
        out.max_retries = n as u32;
    }
    if let Some(n) = max_parallel {
        out.max_parallel_requests = n as usize;
    }
    out.requests_per_second = rps;
    out.user_agent = format!("terraform-provider-spinnaker/{}", env!("CARGO_PKG_VERSION"));
    if diags.has_errors() { None } else { Some(out) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, Value)]) -> Value {
        schema().block.object_with(pairs)
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn paths(d: &Diagnostics) -> Vec<String> {
        d.0.iter()
            .filter_map(|d| d.path.as_ref().map(ToString::to_string))
            .collect()
    }

    #[test]
    fn missing_endpoint_names_the_attribute() {
        let mut d = Diagnostics::new();
        assert!(build(&config(&[]), &no_env, &mut d).is_none());
        assert_eq!(paths(&d), vec!["endpoint"]);
        assert_eq!(d.0[0].summary, "Missing Spinnaker Endpoint");
    }

    #[test]
    fn env_fallbacks_fill_endpoint_and_token() {
        let env = |k: &str| match k {
            "SPINNAKER_ENDPOINT" => Some("http://127.0.0.1:8084".to_owned()),
            "SPINNAKER_TOKEN" => Some("s3cret".to_owned()),
            _ => None,
        };
        let mut d = Diagnostics::new();
        let c = build(&config(&[]), &env, &mut d).unwrap();
        assert!(d.is_empty(), "{d}");
        assert_eq!(c.endpoint.as_str(), "http://127.0.0.1:8084/");
        assert!(matches!(c.auth, gate::Auth::Token(ref t) if t.expose() == "s3cret"));
    }

    #[test]
    fn bad_values_each_get_their_path() {
        let mut d = Diagnostics::new();
        let c = config(&[
            ("endpoint", Value::string("gate.example.com")),
            ("username", Value::string("me")),
            ("token", Value::string("t")),
            (
                "client_certificate",
                Value::string("-----BEGIN CERTIFICATE-----"),
            ),
            ("request_timeout", Value::string("soon")),
            ("max_retries", Value::Number(crate::value::Number::from(-1))),
        ]);
        assert!(build(&c, &no_env, &mut d).is_none());
        assert_eq!(
            paths(&d),
            vec![
                "endpoint",
                "username",
                "password",
                "client_key",
                "request_timeout",
                "max_retries"
            ]
        );
    }

    #[test]
    fn unknown_values_skip_checks() {
        let mut d = Diagnostics::new();
        assert!(build(&config(&[("endpoint", Value::Unknown)]), &no_env, &mut d).is_none());
        assert!(d.is_empty(), "{d}");
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("1500ms"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("soon"), None);
    }
}
