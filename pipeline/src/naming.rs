//! Frigga naming: `<app>[-<stack>[-<detail>]][-v<NNN>]` for clusters and server groups (§7).
//!
//! Parsing follows Frigga's `Names`: first the push suffix `-v` + 3 to 6 digits is split off, then
//! the cluster is split into app (no hyphen), stack (no hyphen, may be empty) and detail (may hold
//! hyphens, `~` and `^`). A name that does not fit parses to all-`None` fields, as
//! `Names.parseName` does. Building and the next server-group name follow Frigga's `NameBuilder`
//! and Clouddriver's `AbstractServerGroupNameResolver`.

use std::collections::HashSet;
use std::sync::LazyLock;

use jiff::Timestamp;
use regex::Regex;

const NAME_CHARS: &str = "a-zA-Z0-9._";
const NAME_HYPHEN_CHARS: &str = "-a-zA-Z0-9._~^";

#[allow(clippy::expect_used)] // constant patterns, checked by every test
fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("constant pattern")
}

static PUSH: LazyLock<Regex> =
    LazyLock::new(|| regex(&format!("^([{NAME_HYPHEN_CHARS}]*)-(v([0-9]{{3,6}}))$")));
static NAME: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        "^([{NAME_CHARS}]+)(?:-([{NAME_CHARS}]*)(?:-([{NAME_HYPHEN_CHARS}]*?))?)?$"
    ))
});
static ONLY_NAME_CHARS: LazyLock<Regex> = LazyLock::new(|| regex(&format!("^[{NAME_CHARS}]*$")));
static ONLY_HYPHEN_CHARS: LazyLock<Regex> =
    LazyLock::new(|| regex(&format!("^[{NAME_HYPHEN_CHARS}]*$")));
static PUSH_VERSION: LazyLock<Regex> = LazyLock::new(|| regex("(^|-)v[0-9]{3,6}($|-)"));
static LABELED_VARIABLE: LazyLock<Regex> =
    LazyLock::new(|| regex("(^|-)[cdhprwuz]0[a-zA-Z0-9]+($|-)"));

/// An invalid name part or an exhausted cluster.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NamingError {
    /// A part holds characters Frigga does not allow.
    #[error("invalid {part} {value:?}: may only contain {allowed} characters")]
    InvalidChars {
        /// `"app"`, `"stack"` or `"detail"`.
        part: &'static str,
        /// The value received.
        value: String,
        /// The allowed character class.
        allowed: &'static str,
    },
    /// The app name is empty.
    #[error("invalid app \"\": the app name must not be empty")]
    EmptyApp,
    /// A stack or detail looks like a push version (`v000`).
    #[error("{part} cannot contain a push version, got {value:?}")]
    PushVersion {
        /// `"stack"` or `"detail"`.
        part: &'static str,
        /// The value received.
        value: String,
    },
    /// The sequence is outside 0..=999.
    #[error("sequence must be 0..=999, got {0}")]
    Sequence(u32),
    /// The name is not a Frigga name.
    #[error("{0:?} is not a valid Frigga name (<app>[-<stack>[-<detail>]][-vNNN])")]
    Unparseable(String),
    /// All 1000 sequence numbers of the cluster are in use.
    #[error("all server group names for cluster {0} are taken")]
    AllTaken(String),
}

/// A parsed Frigga name. Empty stack or detail strings are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Names {
    /// The whole name.
    pub group: String,
    /// The name without the push suffix.
    pub cluster: Option<String>,
    /// Application (never contains `-`).
    pub app: Option<String>,
    /// Stack.
    pub stack: Option<String>,
    /// Detail (may contain `-`).
    pub detail: Option<String>,
    /// The push suffix, e.g. `v003`.
    pub push: Option<String>,
    /// The push sequence number, e.g. 3.
    pub sequence: Option<u32>,
}

fn non_empty(s: Option<regex::Match<'_>>) -> Option<String> {
    s.map(|m| m.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl Names {
    /// Parses a name; a name that does not fit Frigga's pattern gives all-`None` fields
    /// (only `group` is set). Never panics.
    pub fn parse(name: &str) -> Names {
        let mut out = Names {
            group: name.to_owned(),
            ..Names::default()
        };
        let (cluster, push, sequence) = match PUSH.captures(name) {
            Some(c) => (
                c.get(1).map_or("", |m| m.as_str()),
                c.get(2).map(|m| m.as_str().to_owned()),
                c.get(3).and_then(|m| m.as_str().parse::<u32>().ok()),
            ),
            None => (name, None, None),
        };
        let Some(c) = NAME.captures(cluster) else {
            return out;
        };
        out.cluster = Some(cluster.to_owned());
        out.app = non_empty(c.get(1));
        out.stack = non_empty(c.get(2));
        out.detail = non_empty(c.get(3));
        out.push = push;
        out.sequence = sequence;
        out
    }

    /// Like [`Names::parse`] but fails on names that do not fit.
    ///
    /// # Errors
    ///
    /// [`NamingError::Unparseable`].
    pub fn parse_strict(name: &str) -> Result<Names, NamingError> {
        let names = Self::parse(name);
        if names.app.is_none() {
            return Err(NamingError::Unparseable(name.to_owned()));
        }
        Ok(names)
    }
}

/// True if the name contains a push version or labeled variables (Frigga's
/// `NameValidation.usesReservedFormat`).
pub fn uses_reserved_format(name: &str) -> bool {
    PUSH_VERSION.is_match(name) || LABELED_VARIABLE.is_match(name)
}

/// Checks an app name: non-empty, only `a-zA-Z0-9._`.
///
/// # Errors
///
/// [`NamingError::EmptyApp`] or [`NamingError::InvalidChars`].
pub fn validate_app(app: &str) -> Result<(), NamingError> {
    if app.is_empty() {
        return Err(NamingError::EmptyApp);
    }
    if !ONLY_NAME_CHARS.is_match(app) {
        return Err(NamingError::InvalidChars {
            part: "app",
            value: app.to_owned(),
            allowed: NAME_CHARS,
        });
    }
    Ok(())
}

/// Checks a stack: only `a-zA-Z0-9._`, no push version.
///
/// # Errors
///
/// [`NamingError::InvalidChars`] or [`NamingError::PushVersion`].
pub fn validate_stack(stack: &str) -> Result<(), NamingError> {
    if !ONLY_NAME_CHARS.is_match(stack) {
        return Err(NamingError::InvalidChars {
            part: "stack",
            value: stack.to_owned(),
            allowed: NAME_CHARS,
        });
    }
    if PUSH_VERSION.is_match(stack) {
        return Err(NamingError::PushVersion {
            part: "stack",
            value: stack.to_owned(),
        });
    }
    Ok(())
}

/// Checks a detail: only `-a-zA-Z0-9._~^`, no push version.
///
/// # Errors
///
/// [`NamingError::InvalidChars`] or [`NamingError::PushVersion`].
pub fn validate_detail(detail: &str) -> Result<(), NamingError> {
    if !ONLY_HYPHEN_CHARS.is_match(detail) {
        return Err(NamingError::InvalidChars {
            part: "detail",
            value: detail.to_owned(),
            allowed: NAME_HYPHEN_CHARS,
        });
    }
    if PUSH_VERSION.is_match(detail) {
        return Err(NamingError::PushVersion {
            part: "detail",
            value: detail.to_owned(),
        });
    }
    Ok(())
}

/// Builds a cluster name: `app`, `app-stack` or `app-stack-detail` (`app--detail` when only a
/// detail is given), after validating each part.
///
/// # Errors
///
/// The validation errors of the parts.
pub fn cluster_name(
    app: &str,
    stack: Option<&str>,
    detail: Option<&str>,
) -> Result<String, NamingError> {
    validate_app(app)?;
    let stack = stack.unwrap_or("");
    let detail = detail.unwrap_or("");
    validate_stack(stack)?;
    validate_detail(detail)?;
    Ok(if !detail.is_empty() {
        format!("{app}-{stack}-{detail}")
    } else if !stack.is_empty() {
        format!("{app}-{stack}")
    } else {
        app.to_owned()
    })
}

/// Builds a server group name `<cluster>-v%03d`.
///
/// # Errors
///
/// [`NamingError::Sequence`] for sequences above 999.
pub fn server_group_name(cluster: &str, sequence: u32) -> Result<String, NamingError> {
    if sequence > 999 {
        return Err(NamingError::Sequence(sequence));
    }
    Ok(format!("{cluster}-v{sequence:03}"))
}

/// The next server group name of a cluster given the existing server groups
/// `(name, created_at)` (Clouddriver's resolver): the newest one's sequence + 1 modulo 1000,
/// skipping taken numbers; `v000` for an empty cluster. Names of other clusters are ignored.
///
/// # Errors
///
/// [`NamingError::AllTaken`] when all 1000 numbers are in use, [`NamingError::Unparseable`]
/// when `cluster` is not a Frigga cluster name.
pub fn next_server_group_name(
    cluster: &str,
    existing: &[(String, Timestamp)],
) -> Result<String, NamingError> {
    let parsed = Names::parse(cluster);
    if parsed.app.is_none() || parsed.push.is_some() {
        return Err(NamingError::Unparseable(cluster.to_owned()));
    }
    let taken: Vec<(u32, Timestamp)> = existing
        .iter()
        .filter_map(|(name, created)| {
            let n = Names::parse(name);
            (n.cluster.as_deref() == Some(cluster)).then_some(())?;
            Some((n.sequence?, *created))
        })
        .collect();
    let slots: HashSet<u32> = taken.iter().map(|(s, _)| *s).collect();
    let mut next = taken
        .iter()
        .max_by_key(|(_, created)| *created)
        .map_or(0, |(seq, _)| (seq + 1) % 1000);
    for _ in 0..1000 {
        if !slots.contains(&next) {
            return server_group_name(cluster, next);
        }
        next = (next + 1) % 1000;
    }
    Err(NamingError::AllTaken(cluster.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_reference_examples() {
        let n = Names::parse("myapp--canary-v002");
        assert_eq!(n.app.as_deref(), Some("myapp"));
        assert_eq!(n.stack, None);
        assert_eq!(n.detail.as_deref(), Some("canary"));
        assert_eq!(n.sequence, Some(2));
        assert_eq!(n.cluster.as_deref(), Some("myapp--canary"));

        let n = Names::parse("myapp-prod-blue-green-v010");
        assert_eq!(
            (n.stack.as_deref(), n.detail.as_deref(), n.sequence),
            (Some("prod"), Some("blue-green"), Some(10))
        );
        assert_eq!(n.push.as_deref(), Some("v010"));

        let n = Names::parse("app-v123456");
        assert_eq!((n.app.as_deref(), n.sequence), (Some("app"), Some(123456)));
        let n = Names::parse("app-stack");
        assert_eq!((n.stack.as_deref(), n.sequence), (Some("stack"), None));
    }

    #[test]
    fn bad_names_parse_to_nothing() {
        for bad in ["", "-app", "my app", "app!-x"] {
            let n = Names::parse(bad);
            assert_eq!((n.app, n.cluster), (None, None), "{bad}");
            assert!(Names::parse_strict(bad).is_err());
        }
    }

    #[test]
    fn builds_and_validates() {
        assert_eq!(
            cluster_name("app", None, Some("canary")).unwrap(),
            "app--canary"
        );
        assert_eq!(cluster_name("app", Some("prod"), None).unwrap(), "app-prod");
        assert_eq!(cluster_name("app", None, None).unwrap(), "app");
        assert!(matches!(
            cluster_name("my-app", None, None),
            Err(NamingError::InvalidChars { part: "app", .. })
        ));
        assert!(matches!(
            cluster_name("app", Some("v001"), None),
            Err(NamingError::PushVersion { part: "stack", .. })
        ));
        assert!(matches!(
            cluster_name("app", None, Some("x y")),
            Err(NamingError::InvalidChars { part: "detail", .. })
        ));
        assert_eq!(server_group_name("app-prod", 7).unwrap(), "app-prod-v007");
        assert_eq!(
            server_group_name("app", 1000).unwrap_err(),
            NamingError::Sequence(1000)
        );
        assert!(uses_reserved_format("app-v001"));
        assert!(uses_reserved_format("app-prod-c0us"));
        assert!(!uses_reserved_format("app-prod"));
    }

    #[test]
    fn next_name_follows_newest_and_wraps() {
        let t = |s: i64| Timestamp::from_second(s).unwrap();
        assert_eq!(
            next_server_group_name("app-prod", &[]).unwrap(),
            "app-prod-v000"
        );
        let existing = vec![
            ("app-prod-v004".to_string(), t(100)),
            ("app-prod-v002".to_string(), t(200)),
            ("app-prod-v003".to_string(), t(50)),
            ("app-staging-v009".to_string(), t(999)),
        ];
        // newest is v002 -> v003 is taken -> v004 is taken -> v005
        assert_eq!(
            next_server_group_name("app-prod", &existing).unwrap(),
            "app-prod-v005"
        );
        let wrap = vec![("app-v999".to_string(), t(1))];
        assert_eq!(next_server_group_name("app", &wrap).unwrap(), "app-v000");
        let full: Vec<_> = (0..1000).map(|i| (format!("app-v{i:03}"), t(i))).collect();
        assert_eq!(
            next_server_group_name("app", &full).unwrap_err(),
            NamingError::AllTaken("app".into())
        );
        assert!(next_server_group_name("bad name", &[]).is_err());
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(
            app in "[a-zA-Z0-9._]{1,8}",
            stack in proptest::option::of("[a-zA-Z._]{1,6}"),
            detail in proptest::option::of("[a-zA-Z.~^_]{1,5}(-[a-zA-Z.~^_]{1,5}){0,2}"),
            seq in proptest::option::of(0u32..1000),
        ) {
            let cluster = cluster_name(&app, stack.as_deref(), detail.as_deref()).unwrap();
            let name = match seq { Some(s) => server_group_name(&cluster, s).unwrap(), None => cluster.clone() };
            let n = Names::parse(&name);
            prop_assert_eq!(n.app.as_deref(), Some(app.as_str()));
            prop_assert_eq!(n.stack, stack);
            prop_assert_eq!(n.detail, detail);
            prop_assert_eq!(n.sequence, seq);
            prop_assert_eq!(n.cluster.as_deref(), Some(cluster.as_str()));
        }

        #[test]
        fn parse_never_panics(name in "\\PC{0,40}") {
            let n = Names::parse(&name);
            prop_assert_eq!(n.group, name);
        }
    }
}
