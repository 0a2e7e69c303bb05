//! Git triggers (`POST /webhooks/git/{source}`, Echo's SCM handlers and `GitEventHandler`): a
//! push or pull-request event from GitHub, GitLab, Bitbucket Cloud/Server or Stash becomes a
//! [`GitEvent`] (project, slug, branch, hash, action); it fires every valid `git` trigger whose
//! `source`/`project`/`slug` equal it ignoring case, whose `branch` regex fully matches, whose
//! `events` list its action (when set) and whose GitHub `secret` the request's `X-Hub-Signature`
//! proves.

use super::enabled_triggers;
use super::signature;
use crate::model::Object;
use regex::Regex;
use serde_json::Value;

/// The header GitHub names its event in (`push`, `pull_request`, `ping`, ...).
pub const GITHUB_EVENT_HEADER: &str = "X-GitHub-Event";
/// The header Bitbucket names its event in (`repo:push`, `pullrequest:fulfilled`, ...).
pub const EVENT_KEY_HEADER: &str = "X-Event-Key";
/// The header carrying GitHub's `sha1=<hex>` HMAC of the raw body, checked against a trigger's
/// `secret`.
pub const GITHUB_SIGNATURE_HEADER: &str = signature::LEGACY_SIGNATURE_HEADER;

/// The SCM a git webhook comes from: the `{source}` path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitSource {
    /// `github`
    Github,
    /// `gitlab`
    Gitlab,
    /// `bitbucket` (Bitbucket Cloud, and Bitbucket Server's `repo:refs_changed`)
    Bitbucket,
    /// `stash` (Bitbucket Server's older webhook plugin)
    Stash,
}

impl GitSource {
    /// The source named by a path segment, exactly as Echo's handlers spell it.
    pub fn from_path(segment: &str) -> Option<Self> {
        match segment {
            "github" => Some(Self::Github),
            "gitlab" => Some(Self::Gitlab),
            "bitbucket" => Some(Self::Bitbucket),
            "stash" => Some(Self::Stash),
            _ => None,
        }
    }

    /// The name triggers store in `source`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Github => "github",
            Self::Gitlab => "gitlab",
            Self::Bitbucket => "bitbucket",
            Self::Stash => "stash",
        }
    }
}

/// The request headers the git handlers read.
#[derive(Debug, Clone, Copy, Default)]
pub struct GitHeaders<'a> {
    /// `X-GitHub-Event`
    pub github_event: Option<&'a str>,
    /// `X-Event-Key`
    pub event_key: Option<&'a str>,
    /// `X-Hub-Signature` (`sha1=<hex>`)
    pub hub_signature: Option<&'a str>,
}

/// One parsed git event.
#[derive(Debug, Clone, PartialEq)]
pub struct GitEvent {
    /// Where it came from.
    pub source: GitSource,
    /// Organisation, owner, namespace or Bitbucket project key.
    pub project: String,
    /// Repository name.
    pub slug: String,
    /// Branch name without `refs/heads/`.
    pub branch: String,
    /// Commit the event points at.
    pub hash: String,
    /// `push`, `pull_request:opened`, `repo:push`, ... (empty when the source names none).
    pub action: String,
    /// Pull-request facts: `number`, `draft`, `state`, `title` where present.
    pub properties: Object,
}

/// Why the handler dropped an event (the endpoint answers `{"eventProcessed": false}`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Dropped {
    /// A GitHub `ping` (sent when a webhook is created).
    #[error("github ping (hook {0})")]
    Ping(String),
    /// The ref was deleted: the new hash is all zeros or absent.
    #[error("ref {0} was deleted")]
    RefDeleted(String),
    /// The event is of a kind no git trigger fires on.
    #[error("unsupported {scm} event {event:?}")]
    Unsupported {
        /// The SCM.
        scm: &'static str,
        /// The event name from the header, or the shape seen.
        event: String,
    },
    /// A field the event kind needs is absent or not a string.
    #[error("{scm} event lacks {field}")]
    MissingField {
        /// The SCM.
        scm: &'static str,
        /// The JSON path of the missing field.
        field: &'static str,
    },
}

fn text<'v>(value: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .and_then(Value::as_str)
}

fn required<'v>(
    value: &'v Value,
    path: &[&str],
    source: GitSource,
    field: &'static str,
) -> Result<&'v str, Dropped> {
    text(value, path).ok_or(Dropped::MissingField {
        scm: source.as_str(),
        field,
    })
}

fn branch_of(reference: &str) -> String {
    reference
        .strip_prefix("refs/heads/")
        .unwrap_or(reference)
        .to_owned()
}

fn deleted(hash: &str) -> bool {
    hash.is_empty() || hash.starts_with("000000000")
}

/// Parses a webhook body from `source` into a [`GitEvent`].
///
/// # Errors
/// [`Dropped`] when the handler ignores the event: pings, ref deletions, other event kinds, and
/// bodies missing a field the kind needs.
pub fn parse(
    source: GitSource,
    body: &Value,
    headers: &GitHeaders<'_>,
) -> Result<GitEvent, Dropped> {
    match source {
        GitSource::Github => parse_github(body, headers),
        GitSource::Gitlab => parse_gitlab(body),
        GitSource::Bitbucket => parse_bitbucket(body, headers),
        GitSource::Stash => parse_stash(body),
    }
}

fn parse_github(body: &Value, headers: &GitHeaders<'_>) -> Result<GitEvent, Dropped> {
    const S: GitSource = GitSource::Github;
    if headers.github_event == Some("ping") || body.get("hook_id").is_some() {
        let hook = body
            .get("hook_id")
            .map(Value::to_string)
            .unwrap_or_default();
        return Err(Dropped::Ping(hook));
    }
    let event = match headers.github_event {
        Some(event) => event,
        None if body.get("pull_request").is_some() => "pull_request",
        None if body.get("commits").is_some() || body.get("ref").is_some() => "push",
        None => "",
    };
    let owner = body.get("repository").and_then(|r| r.get("owner"));
    let project = owner
        .and_then(|o| text(o, &["name"]).or_else(|| text(o, &["login"])))
        .ok_or(Dropped::MissingField {
            scm: S.as_str(),
            field: "repository.owner.login",
        })?;
    let slug = required(body, &["repository", "name"], S, "repository.name")?;
    match event {
        "push" => {
            let reference = required(body, &["ref"], S, "ref")?;
            let hash = required(body, &["after"], S, "after")?;
            Ok(GitEvent {
                source: S,
                project: project.to_owned(),
                slug: slug.to_owned(),
                branch: branch_of(reference),
                hash: hash.to_owned(),
                action: "push".to_owned(),
                properties: Object::new(),
            })
        }
        "pull_request" => {
            let pull = body.get("pull_request").ok_or(Dropped::MissingField {
                scm: S.as_str(),
                field: "pull_request",
            })?;
            let action = required(body, &["action"], S, "action")?;
            let branch = required(pull, &["head", "ref"], S, "pull_request.head.ref")?;
            let hash = required(pull, &["head", "sha"], S, "pull_request.head.sha")?;
            let mut properties = Object::new();
            if let Some(number) = body.get("number").or_else(|| pull.get("number")) {
                properties.insert("number".to_owned(), number.clone());
            }
            for key in ["draft", "state", "title"] {
                if let Some(value) = pull.get(key).filter(|v| !v.is_null()) {
                    properties.insert(key.to_owned(), value.clone());
                }
            }
            Ok(GitEvent {
                source: S,
                project: project.to_owned(),
                slug: slug.to_owned(),
                branch: branch.to_owned(),
                hash: hash.to_owned(),
                action: format!("pull_request:{action}"),
                properties,
            })
        }
        other => Err(Dropped::Unsupported {
            scm: S.as_str(),
            event: other.to_owned(),
        }),
    }
}

fn parse_gitlab(body: &Value) -> Result<GitEvent, Dropped> {
    const S: GitSource = GitSource::Gitlab;
    let reference = required(body, &["ref"], S, "ref")?;
    let hash = required(body, &["after"], S, "after")?;
    let project = required(body, &["project", "namespace"], S, "project.namespace")?;
    let slug = required(body, &["project", "name"], S, "project.name")?;
    Ok(GitEvent {
        source: S,
        project: project.to_owned(),
        slug: slug.to_owned(),
        branch: branch_of(reference),
        hash: hash.to_owned(),
        action: text(body, &["object_kind"]).unwrap_or_default().to_owned(),
        properties: Object::new(),
    })
}

fn parse_bitbucket(body: &Value, headers: &GitHeaders<'_>) -> Result<GitEvent, Dropped> {
    const S: GitSource = GitSource::Bitbucket;
    let key = headers
        .event_key
        .or_else(|| text(body, &["eventKey"]))
        .unwrap_or_default();
    match key {
        "repo:push" => {
            let full_name = required(
                body,
                &["repository", "full_name"],
                S,
                "repository.full_name",
            )?;
            let (project, slug) = full_name.split_once('/').ok_or(Dropped::MissingField {
                scm: S.as_str(),
                field: "repository.full_name (project/slug)",
            })?;
            let change = body
                .get("push")
                .and_then(|p| p.get("changes"))
                .and_then(|c| c.get(0))
                .ok_or(Dropped::MissingField {
                    scm: S.as_str(),
                    field: "push.changes[0]",
                })?;
            let Some(new) = change.get("new").filter(|n| !n.is_null()) else {
                let old = text(change, &["old", "name"]).unwrap_or_default();
                return Err(Dropped::RefDeleted(old.to_owned()));
            };
            let branch = required(new, &["name"], S, "push.changes[0].new.name")?;
            let hash = required(
                new,
                &["target", "hash"],
                S,
                "push.changes[0].new.target.hash",
            )?;
            Ok(GitEvent {
                source: S,
                project: project.to_owned(),
                slug: slug.to_owned(),
                branch: branch.to_owned(),
                hash: hash.to_owned(),
                action: key.to_owned(),
                properties: Object::new(),
            })
        }
        "pullrequest:fulfilled" => {
            let full_name = required(
                body,
                &["repository", "full_name"],
                S,
                "repository.full_name",
            )?;
            let (project, slug) = full_name.split_once('/').ok_or(Dropped::MissingField {
                scm: S.as_str(),
                field: "repository.full_name (project/slug)",
            })?;
            let pull = body.get("pullrequest").ok_or(Dropped::MissingField {
                scm: S.as_str(),
                field: "pullrequest",
            })?;
            let branch = required(
                pull,
                &["destination", "branch", "name"],
                S,
                "pullrequest.destination.branch.name",
            )?;
            let hash = required(
                pull,
                &["merge_commit", "hash"],
                S,
                "pullrequest.merge_commit.hash",
            )?;
            Ok(GitEvent {
                source: S,
                project: project.to_owned(),
                slug: slug.to_owned(),
                branch: branch.to_owned(),
                hash: hash.to_owned(),
                action: key.to_owned(),
                properties: Object::new(),
            })
        }
        "repo:refs_changed" => {
            // Bitbucket Server's own webhooks, posted to the bitbucket source.
            let change =
                body.get("changes")
                    .and_then(|c| c.get(0))
                    .ok_or(Dropped::MissingField {
                        scm: S.as_str(),
                        field: "changes[0]",
                    })?;
            ref_change(
                S,
                body,
                change,
                ["changes[0].refId", "changes[0].toHash"],
                key,
            )
        }
        other => Err(Dropped::Unsupported {
            scm: S.as_str(),
            event: other.to_owned(),
        }),
    }
}

fn parse_stash(body: &Value) -> Result<GitEvent, Dropped> {
    const S: GitSource = GitSource::Stash;
    let change = body
        .get("refChanges")
        .and_then(|c| c.get(0))
        .ok_or(Dropped::MissingField {
            scm: S.as_str(),
            field: "refChanges[0]",
        })?;
    let action = text(body, &["eventKey"]).unwrap_or_default();
    ref_change(
        S,
        body,
        change,
        ["refChanges[0].refId", "refChanges[0].toHash"],
        action,
    )
}

/// A Bitbucket Server ref change: `{refId, toHash}` with `repository.project.key` and
/// `repository.slug`.
fn ref_change(
    source: GitSource,
    body: &Value,
    change: &Value,
    [ref_field, hash_field]: [&'static str; 2],
    action: &str,
) -> Result<GitEvent, Dropped> {
    let field = |name: &'static str| Dropped::MissingField {
        scm: source.as_str(),
        field: name,
    };
    let reference = text(change, &["refId"])
        .or_else(|| text(change, &["ref", "id"]))
        .ok_or_else(|| field(ref_field))?;
    let hash = text(change, &["toHash"]).ok_or_else(|| field(hash_field))?;
    if deleted(hash) {
        return Err(Dropped::RefDeleted(reference.to_owned()));
    }
    let project = required(
        body,
        &["repository", "project", "key"],
        source,
        "repository.project.key",
    )?;
    let slug = required(body, &["repository", "slug"], source, "repository.slug")?;
    Ok(GitEvent {
        source,
        project: project.to_owned(),
        slug: slug.to_owned(),
        branch: branch_of(reference),
        hash: hash.to_owned(),
        action: action.to_owned(),
        properties: Object::new(),
    })
}

fn non_empty<'t>(trigger: &'t Value, key: &str) -> Option<&'t str> {
    trigger
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// Whether a `git` trigger is usable at all: `source`, `project` and `slug` set.
pub fn valid(trigger: &Value) -> bool {
    ["source", "project", "slug"]
        .iter()
        .all(|key| non_empty(trigger, key).is_some())
}

/// Whether `branch` fully matches the trigger's `branch` regex (empty or absent matches any; an
/// invalid regex matches nothing).
pub fn branch_matches(pattern: Option<&str>, branch: &str) -> bool {
    match pattern.filter(|p| !p.is_empty()) {
        None => true,
        Some(pattern) => Regex::new(&format!("^(?:{pattern})$")).is_ok_and(|r| r.is_match(branch)),
    }
}

/// Whether the trigger's `events` (when a non-empty list) include `action`.
pub fn events_match(events: Option<&Value>, action: &str) -> bool {
    match events.and_then(Value::as_array) {
        Some(events) if !events.is_empty() => events.iter().any(|e| e.as_str() == Some(action)),
        _ => true,
    }
}

/// Echo's GitHub secret rule: a trigger `secret` needs an `X-Hub-Signature: sha1=<hex>` equal to
/// HMAC-SHA1(secret, raw body); a signature sent to a trigger without a secret is refused too.
pub fn signature_passes(secret: Option<&str>, raw_body: &[u8], header: Option<&str>) -> bool {
    match (secret.filter(|s| !s.is_empty()), header) {
        (None, None) => true,
        (None, Some(_)) => {
            tracing::warn!("git event carries X-Hub-Signature but the trigger has no secret");
            false
        }
        (Some(_), None) => {
            tracing::warn!("git event lacks X-Hub-Signature for a trigger with a secret");
            false
        }
        (Some(secret), Some(header)) => {
            let header = header.trim();
            let sha1 = header
                .get(..5)
                .is_some_and(|prefix| prefix.eq_ignore_ascii_case("sha1="));
            let verified =
                sha1 && signature::verify(secret.as_bytes(), raw_body, Some(header)).is_ok();
            if !verified {
                tracing::warn!("git event signature does not match the trigger's secret");
            }
            verified
        }
    }
}

/// The `X-Hub-Signature` value GitHub sends for `body` under `secret`: `sha1=<hex HMAC-SHA1>`
/// (for clients and tests).
pub fn sign_github(secret: &[u8], body: &[u8]) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    match <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(body);
            format!("sha1={}", hex::encode(mac.finalize().into_bytes()))
        }
        Err(_) => String::new(),
    }
}

/// Whether one `git` trigger config fires for `event`. `raw_body` and `hub_signature` serve the
/// secret check.
pub fn matches(
    trigger: &Value,
    event: &GitEvent,
    raw_body: &[u8],
    hub_signature: Option<&str>,
) -> bool {
    let same = |key: &str, value: &str| {
        non_empty(trigger, key).is_some_and(|configured| configured.eq_ignore_ascii_case(value))
    };
    trigger.get("type").and_then(Value::as_str) == Some("git")
        && super::trigger_enabled(trigger)
        && valid(trigger)
        && same("source", event.source.as_str())
        && same("project", &event.project)
        && same("slug", &event.slug)
        && branch_matches(trigger.get("branch").and_then(Value::as_str), &event.branch)
        && events_match(trigger.get("events"), &event.action)
        && signature_passes(
            trigger.get("secret").and_then(Value::as_str),
            raw_body,
            hub_signature,
        )
}

/// The run-time trigger for a fired git trigger: the stored trigger (its `secret` left out) with
/// the event's `hash`, `branch`, `action`, `properties` and `eventId`.
pub fn runtime_trigger(trigger: &Value, event: &GitEvent, event_id: &str) -> Value {
    let mut out = trigger.as_object().cloned().unwrap_or_default();
    out.remove("secret");
    out.insert("hash".to_owned(), Value::from(event.hash.as_str()));
    out.insert("branch".to_owned(), Value::from(event.branch.as_str()));
    out.insert("action".to_owned(), Value::from(event.action.as_str()));
    if !event.properties.is_empty() {
        out.insert(
            "properties".to_owned(),
            Value::Object(event.properties.clone()),
        );
    }
    out.insert("eventId".to_owned(), Value::from(event_id));
    out.insert("user".to_owned(), Value::from("[anonymous]"));
    Value::Object(out)
}

/// Every (pipeline config, run-time trigger) `event` fires, in config order.
pub fn fired(
    configs: &[Value],
    event: &GitEvent,
    raw_body: &[u8],
    hub_signature: Option<&str>,
    event_id: &str,
) -> Vec<(Value, Value)> {
    enabled_triggers(configs, "git")
        .filter(|(config, trigger)| {
            // Names the pipeline in the signature warnings.
            let pipeline = config
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let _span = tracing::info_span!("git trigger", pipeline).entered();
            matches(trigger, event, raw_body, hub_signature)
        })
        .map(|(config, trigger)| (config.clone(), runtime_trigger(trigger, event, event_id)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn github(event: &str) -> GitHeaders<'_> {
        GitHeaders {
            github_event: Some(event),
            ..GitHeaders::default()
        }
    }

    fn push_body() -> Value {
        json!({"ref": "refs/heads/release/1.2", "after": "abc123", "commits": [],
            "repository": {"name": "Shop-API", "full_name": "Acme/Shop-API",
                "owner": {"name": "Acme", "login": "acme-login"}}})
    }

    fn push_event() -> GitEvent {
        parse(GitSource::Github, &push_body(), &github("push")).unwrap()
    }

    fn trigger(extra: Value) -> Value {
        let mut t = json!({"type": "git", "enabled": true, "source": "github",
            "project": "acme", "slug": "shop-api"});
        if let (Some(t), Value::Object(extra)) = (t.as_object_mut(), extra) {
            t.extend(extra);
        }
        t
    }

    #[test]
    fn github_push_takes_branch_hash_owner_name_and_repository() {
        let event = push_event();
        assert_eq!(event.source, GitSource::Github);
        assert_eq!(event.project, "Acme");
        assert_eq!(event.slug, "Shop-API");
        assert_eq!(event.branch, "release/1.2");
        assert_eq!(event.hash, "abc123");
        assert_eq!(event.action, "push");
        assert!(event.properties.is_empty());
    }

    #[test]
    fn github_push_falls_back_to_the_owner_login_and_infers_the_event_from_the_body() {
        let mut body = push_body();
        body["repository"]["owner"] = json!({"login": "octo"});
        let event = parse(GitSource::Github, &body, &GitHeaders::default()).unwrap();
        assert_eq!(event.project, "octo");
        assert_eq!(event.action, "push");
    }

    #[test]
    fn github_pull_request_takes_head_and_properties() {
        let body = json!({"action": "opened", "number": 42,
            "pull_request": {"number": 42, "draft": false, "state": "open", "title": "Add cart",
                "head": {"ref": "feature/cart", "sha": "def456"}},
            "repository": {"name": "shop-api", "owner": {"login": "acme"}}});
        let event = parse(GitSource::Github, &body, &github("pull_request")).unwrap();
        assert_eq!(event.action, "pull_request:opened");
        assert_eq!(event.branch, "feature/cart");
        assert_eq!(event.hash, "def456");
        assert_eq!(event.project, "acme");
        assert_eq!(
            Value::Object(event.properties),
            json!({"number": 42, "draft": false, "state": "open", "title": "Add cart"})
        );
    }

    #[test]
    fn github_pings_and_other_events_are_dropped() {
        let ping = json!({"zen": "Keep it simple.", "hook_id": 7,
            "repository": {"name": "shop-api", "owner": {"login": "acme"}}});
        assert_eq!(
            parse(GitSource::Github, &ping, &github("ping")),
            Err(Dropped::Ping("7".to_owned()))
        );
        assert!(matches!(
            parse(GitSource::Github, &ping, &GitHeaders::default()),
            Err(Dropped::Ping(_))
        ));
        assert!(matches!(
            parse(GitSource::Github, &push_body(), &github("issues")),
            Err(Dropped::Unsupported { event, .. }) if event == "issues"
        ));
    }

    #[test]
    fn a_missing_field_is_named() {
        let mut body = push_body();
        body.as_object_mut().unwrap().remove("after");
        let dropped = parse(GitSource::Github, &body, &github("push")).unwrap_err();
        assert_eq!(dropped.to_string(), "github event lacks after");
        let dropped = parse(
            GitSource::Gitlab,
            &json!({"ref": "refs/heads/main", "after": "1"}),
            &GitHeaders::default(),
        )
        .unwrap_err();
        assert_eq!(dropped.to_string(), "gitlab event lacks project.namespace");
    }

    #[test]
    fn gitlab_push_takes_namespace_and_name() {
        let body = json!({"object_kind": "push", "ref": "refs/heads/main", "after": "aa11",
            "project": {"namespace": "Platform", "name": "billing"}});
        let event = parse(GitSource::Gitlab, &body, &GitHeaders::default()).unwrap();
        assert_eq!(
            (
                event.project.as_str(),
                event.slug.as_str(),
                event.branch.as_str()
            ),
            ("Platform", "billing", "main")
        );
        assert_eq!(event.hash, "aa11");
        assert_eq!(event.action, "push");
    }

    #[test]
    fn bitbucket_cloud_push_splits_the_full_name_and_reads_the_first_change() {
        let body = json!({"repository": {"full_name": "team/web-app"},
            "push": {"changes": [{"new": {"name": "develop", "target": {"hash": "bb22"}}}]}});
        let headers = GitHeaders {
            event_key: Some("repo:push"),
            ..GitHeaders::default()
        };
        let event = parse(GitSource::Bitbucket, &body, &headers).unwrap();
        assert_eq!(
            (event.project.as_str(), event.slug.as_str()),
            ("team", "web-app")
        );
        assert_eq!(
            (event.branch.as_str(), event.hash.as_str()),
            ("develop", "bb22")
        );
        assert_eq!(event.action, "repo:push");

        let deleted = json!({"repository": {"full_name": "team/web-app"},
            "push": {"changes": [{"new": null, "old": {"name": "develop"}}]}});
        assert_eq!(
            parse(GitSource::Bitbucket, &deleted, &headers),
            Err(Dropped::RefDeleted("develop".to_owned()))
        );
        assert!(matches!(
            parse(GitSource::Bitbucket, &body, &GitHeaders::default()),
            Err(Dropped::Unsupported { .. })
        ));
    }

    #[test]
    fn bitbucket_server_refs_changed_reads_project_key_and_slug() {
        let body = json!({"eventKey": "repo:refs_changed",
            "repository": {"slug": "core", "project": {"key": "PLAT"}},
            "changes": [{"ref": {"id": "refs/heads/main"}, "refId": "refs/heads/main",
                "toHash": "cc33"}]});
        let event = parse(GitSource::Bitbucket, &body, &GitHeaders::default()).unwrap();
        assert_eq!(
            (event.project.as_str(), event.slug.as_str()),
            ("PLAT", "core")
        );
        assert_eq!(
            (event.branch.as_str(), event.hash.as_str()),
            ("main", "cc33")
        );
    }

    #[test]
    fn stash_reads_the_first_ref_change_and_drops_deletions() {
        let body = json!({"repository": {"slug": "core", "project": {"key": "PLAT"}},
            "refChanges": [{"refId": "refs/heads/hotfix", "toHash": "dd44"}]});
        let event = parse(GitSource::Stash, &body, &GitHeaders::default()).unwrap();
        assert_eq!(
            (event.project.as_str(), event.slug.as_str()),
            ("PLAT", "core")
        );
        assert_eq!(
            (event.branch.as_str(), event.hash.as_str()),
            ("hotfix", "dd44")
        );
        let gone = json!({"repository": {"slug": "core", "project": {"key": "PLAT"}},
            "refChanges": [{"refId": "refs/heads/hotfix",
                "toHash": "0000000000000000000000000000000000000000"}]});
        assert_eq!(
            parse(GitSource::Stash, &gone, &GitHeaders::default()),
            Err(Dropped::RefDeleted("refs/heads/hotfix".to_owned()))
        );
    }

    #[test]
    fn project_and_slug_match_ignoring_case_and_source_must_agree() {
        let event = push_event();
        assert!(matches(&trigger(json!({})), &event, b"", None));
        assert!(matches(
            &trigger(json!({"project": "ACME", "slug": "SHOP-api", "source": "GitHub"})),
            &event,
            b"",
            None
        ));
        assert!(!matches(
            &trigger(json!({"slug": "shop"})),
            &event,
            b"",
            None
        ));
        assert!(!matches(
            &trigger(json!({"source": "gitlab"})),
            &event,
            b"",
            None
        ));
        assert!(!matches(
            &trigger(json!({"enabled": false})),
            &event,
            b"",
            None
        ));
    }

    #[test]
    fn a_trigger_without_source_project_or_slug_is_invalid() {
        let event = push_event();
        for key in ["source", "project", "slug"] {
            let mut t = trigger(json!({}));
            t[key] = json!("");
            assert!(!valid(&t), "{key} empty");
            assert!(!matches(&t, &event, b"", None), "{key} empty");
            t.as_object_mut().unwrap().remove(key);
            assert!(!matches(&t, &event, b"", None), "{key} absent");
        }
    }

    #[test]
    fn branch_is_a_full_match_regex_and_empty_matches_anything() {
        assert!(branch_matches(None, "main"));
        assert!(branch_matches(Some(""), "main"));
        assert!(branch_matches(Some("release/.*"), "release/1.2"));
        assert!(
            !branch_matches(Some("release"), "release/1.2"),
            "a find is not enough"
        );
        assert!(!branch_matches(Some("main"), "main-old"));
        assert!(branch_matches(Some("main|develop"), "develop"));
        assert!(
            !branch_matches(Some("("), "("),
            "an invalid regex matches nothing"
        );
        let event = push_event();
        assert!(matches(
            &trigger(json!({"branch": "release/\\d+\\.\\d+"})),
            &event,
            b"",
            None
        ));
        assert!(!matches(
            &trigger(json!({"branch": "main"})),
            &event,
            b"",
            None
        ));
    }

    #[test]
    fn events_must_list_the_action_when_set() {
        let event = push_event();
        assert!(events_match(None, "push"));
        assert!(events_match(Some(&json!([])), "push"));
        assert!(matches(
            &trigger(json!({"events": ["push"]})),
            &event,
            b"",
            None
        ));
        assert!(!matches(
            &trigger(json!({"events": ["pull_request:opened"]})),
            &event,
            b"",
            None
        ));
    }

    #[test]
    fn sign_github_is_hmac_sha1_hex() {
        assert_eq!(
            sign_github(b"key", b"The quick brown fox jumps over the lazy dog"),
            "sha1=de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9"
        );
    }

    #[test]
    fn github_secret_needs_a_matching_sha1_signature() {
        let event = push_event();
        let body = br#"{"ref": "refs/heads/main"}"#;
        let with_secret = trigger(json!({"secret": "s3cret"}));
        let good = sign_github(b"s3cret", body);
        assert!(matches(&with_secret, &event, body, Some(&good)));
        assert!(
            matches(
                &with_secret,
                &event,
                body,
                Some(&good.to_ascii_uppercase().replace("SHA1=", "sha1="))
            ),
            "hex compared ignoring case"
        );
        let forged = sign_github(b"other", body);
        assert!(
            !matches(&with_secret, &event, body, Some(&forged)),
            "wrong key"
        );
        assert!(
            !matches(&with_secret, &event, b"{}", Some(&good)),
            "other body"
        );
        assert!(
            !matches(&with_secret, &event, body, None),
            "missing signature"
        );
        assert!(
            !matches(
                &with_secret,
                &event,
                body,
                Some(&signature::sign_sha256(b"s3cret", body))
            ),
            "X-Hub-Signature carries sha1 only"
        );
        assert!(
            !matches(&trigger(json!({})), &event, body, Some(&good)),
            "a signature for a trigger without a secret (Echo's rule)"
        );
    }

    #[test]
    fn the_runtime_trigger_carries_the_event_and_the_stored_fields_but_not_the_secret() {
        let body = json!({"action": "closed", "number": 3,
            "pull_request": {"state": "closed", "title": "t",
                "head": {"ref": "main", "sha": "ff"}},
            "repository": {"name": "shop-api", "owner": {"login": "acme"}}});
        let event = parse(GitSource::Github, &body, &github("pull_request")).unwrap();
        let configs = vec![
            json!({"id": "p1", "triggers": [trigger(json!({"secret": "x", "branch": "main"}))]}),
            json!({"id": "p2", "disabled": true, "triggers": [trigger(json!({}))]}),
            json!({"id": "p3", "triggers": [trigger(json!({"events": ["pull_request:closed"]})),
                {"type": "webhook", "enabled": true, "source": "github"}]}),
        ];
        let raw = body.to_string();
        let signature = sign_github(b"x", raw.as_bytes());
        let fired = fired(&configs, &event, raw.as_bytes(), Some(&signature), "e-1");
        let ids: Vec<&str> = fired
            .iter()
            .map(|(c, _)| c["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            ["p1"],
            "p3 has no secret so the signed request skips it"
        );
        let run = &fired[0].1;
        assert_eq!(run["type"], "git");
        assert_eq!(run["source"], "github");
        assert_eq!(run["project"], "acme");
        assert_eq!(run["branch"], "main");
        assert_eq!(run["hash"], "ff");
        assert_eq!(run["action"], "pull_request:closed");
        assert_eq!(run["eventId"], "e-1");
        assert_eq!(
            run["properties"],
            json!({"number": 3, "state": "closed", "title": "t"})
        );
        assert!(run.get("secret").is_none());

        let unsigned = fired_unsigned(&configs, &event);
        let ids: Vec<&str> = unsigned
            .iter()
            .map(|(c, _)| c["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["p3"]);
    }

    fn fired_unsigned(configs: &[Value], event: &GitEvent) -> Vec<(Value, Value)> {
        fired(configs, event, b"{}", None, "e-2")
    }
}
