//! Applying a stage PATCH (`{judgmentStatus, judgmentInput}`, `skipRemainingWait`, …): the role
//! check for manual judgments and the merge into the stage context.

use crate::model::{LastModified, Object, StageExecution};
use serde_json::Value;

/// Who is acting through the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The user name (`anonymous` without auth).
    pub user: String,
    /// The user's groups/roles; `None` when authentication is off (no role checks).
    pub roles: Option<Vec<String>>,
}

impl Actor {
    /// An actor without authentication.
    pub fn anonymous() -> Self {
        Self {
            user: "anonymous".to_owned(),
            roles: None,
        }
    }
}

/// Why a PATCH was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatchError {
    /// `manualSkip` on a stage type that does not allow it (Orca's message).
    #[error("Cannot manually skip stage.")]
    CannotSkip,
    /// The user is in none of the roles allowed to judge.
    #[error("user {user} may not judge stage '{stage}': allowed roles are {roles:?}")]
    Forbidden {
        /// The user.
        user: String,
        /// The stage name.
        stage: String,
        /// The roles allowed.
        roles: Vec<String>,
    },
}

/// The roles allowed to judge: `requiredJudgmentRoles` if set, else `selectedStageRoles`.
pub fn judgment_roles(stage: &StageExecution) -> Vec<String> {
    let list = |key: &str| -> Vec<String> {
        stage
            .context
            .get(key)
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let required = list("requiredJudgmentRoles");
    if required.is_empty() {
        list("selectedStageRoles")
    } else {
        required
    }
}

/// Checks the PATCH against the stage's rules.
///
/// # Errors
/// [`PatchError::CannotSkip`] for `manualSkip`; [`PatchError::Forbidden`] when a judgment comes
/// from a user outside the allowed roles (only when authentication is on).
pub fn authorize(stage: &StageExecution, patch: &Object, actor: &Actor) -> Result<(), PatchError> {
    if crate::stages::flag(patch.get("manualSkip")) == Some(true) {
        return Err(PatchError::CannotSkip);
    }
    if stage.stage_type != "manualJudgment" || !patch.contains_key("judgmentStatus") {
        return Ok(());
    }
    let Some(groups) = &actor.roles else {
        return Ok(());
    };
    let roles = judgment_roles(stage);
    if roles.is_empty()
        || roles
            .iter()
            .any(|r| groups.iter().any(|g| g.eq_ignore_ascii_case(r)))
    {
        Ok(())
    } else {
        Err(PatchError::Forbidden {
            user: actor.user.clone(),
            stage: stage.name.clone(),
            roles,
        })
    }
}

/// Merges the PATCH into the context and stamps `lastModified`/`lastModifiedBy`.
pub fn apply(stage: &mut StageExecution, patch: Object, actor: &Actor, now_ms: i64) {
    for (k, v) in patch {
        stage.context.insert(k, v);
    }
    stage
        .context
        .insert("lastModifiedBy".to_owned(), Value::from(actor.user.clone()));
    stage.last_modified = Some(LastModified {
        user: actor.user.clone(),
        allowed_accounts: Vec::new(),
        last_modified_time: now_ms,
    });
}
