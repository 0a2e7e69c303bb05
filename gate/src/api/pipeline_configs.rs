//! Pipeline configs: a per-client cache of each application's pipeline list (one `GET`
//! serves every read of that application; writes invalidate it, or patch it when the client
//! knows what was stored), saves, updates, deletes, history, and the bounded waits after a save.

use std::sync::Arc;
use std::time::Duration;

use http::Method;
use serde_json::Value;
use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::request::{Call, Idempotency, optional, segment};
use crate::{Client, Error};

/// First pause while waiting for a saved pipeline to become visible.
const VISIBLE_FIRST: Duration = Duration::from_millis(100);
/// Longest pause while waiting for a saved pipeline to become visible.
const VISIBLE_MAX: Duration = Duration::from_secs(2);

fn cache_key(application: &str) -> String {
    application.trim().to_lowercase()
}

fn application_of(pipeline: &Value) -> Result<&str, Error> {
    pipeline
        .get("application")
        .and_then(Value::as_str)
        .filter(|a| !a.trim().is_empty())
        .ok_or_else(|| Error::InvalidRequest {
            field: "application",
            message: "the pipeline has no `application`".into(),
        })
}

fn id_of(pipeline: &Value) -> Option<&str> {
    pipeline
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
}

impl Client {
    /// `GET /applications/{app}/pipelineConfigs`, fetched once per application for the
    /// life of this client (concurrent callers share one request) until a write through
    /// this client invalidates it.
    pub async fn list_pipeline_configs(&self, application: &str) -> Result<Arc<Vec<Value>>, Error> {
        let key = cache_key(application);
        let cell = {
            let mut cache = self
                .inner
                .pipeline_cache
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(
                cache
                    .entry(key)
                    .or_insert_with(|| Arc::new(OnceCell::new())),
            )
        };
        let list = cell
            .get_or_try_init(|| async {
                let call = Call::get(
                    "/applications/{app}/pipelineConfigs",
                    format!("/applications/{}/pipelineConfigs", segment(application)),
                );
                let reply = self.send(call).await?;
                let list: Vec<Value> = reply.json_opt()?.unwrap_or_default();
                Ok::<_, Error>(Arc::new(list))
            })
            .await?;
        Ok(Arc::clone(list))
    }

    /// Drops the cached pipeline list of `application`; the next read fetches it again.
    pub fn invalidate_pipeline_configs(&self, application: &str) {
        let mut cache = self
            .inner
            .pipeline_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.remove(&cache_key(application));
    }

    /// The pipeline named exactly `name` (case-sensitive, as Gate matches), from the cached
    /// list; `None` when it is missing or Gate does not know the application.
    pub async fn get_pipeline_config(
        &self,
        application: &str,
        name: &str,
    ) -> Result<Option<Value>, Error> {
        let Some(list) = optional(self.list_pipeline_configs(application).await)? else {
            return Ok(None);
        };
        Ok(list
            .iter()
            .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
            .cloned())
    }

    /// The pipeline with id `id`, from the cached list; `None` when it is missing or Gate
    /// does not know the application.
    pub async fn get_pipeline_config_by_id(
        &self,
        application: &str,
        id: &str,
    ) -> Result<Option<Value>, Error> {
        let Some(list) = optional(self.list_pipeline_configs(application).await)? else {
            return Ok(None);
        };
        Ok(list.iter().find(|p| id_of(p) == Some(id)).cloned())
    }

    /// `POST /pipelines[?staleCheck=true]`: Gate saves synchronously and answers 200 with an
    /// empty body. Give the pipeline an `id` (a UUID) so you know it afterwards; with an `id`
    /// the save is create-or-replace and therefore retried on 502/503/504, without one it is not.
    pub async fn save_pipeline(&self, pipeline: &Value, stale_check: bool) -> Result<(), Error> {
        let application = application_of(pipeline)?;
        let idempotency = if id_of(pipeline).is_some() {
            Idempotency::Idempotent
        } else {
            Idempotency::NotIdempotent
        };
        let mut call =
            Call::new(Method::POST, "/pipelines", "/pipelines".into(), idempotency).json(pipeline);
        if stale_check {
            call = call.query("staleCheck", "true");
        }
        let result = self.send(call).await;
        self.invalidate_pipeline_configs(application);
        result.map(drop)
    }

    /// `PUT /pipelines/{id}`; the body must carry the same `id`. Returns the stored pipeline
    /// Gate re-reads, or `None` when Gate answers with an empty body.
    pub async fn update_pipeline(
        &self,
        id: &str,
        pipeline: &Value,
    ) -> Result<Option<Value>, Error> {
        let application = application_of(pipeline)?;
        if id_of(pipeline) != Some(id) {
            return Err(Error::InvalidRequest {
                field: "id",
                message: format!("the pipeline body must carry the id `{id}` it is updated under"),
            });
        }
        let call = Call::new(
            Method::PUT,
            "/pipelines/{id}",
            format!("/pipelines/{}", segment(id)),
            Idempotency::Idempotent,
        )
        .json(pipeline);
        let result = self.send(call).await;
        self.invalidate_pipeline_configs(application);
        result?.json_opt()
    }

    /// `DELETE /pipelines/{app}/{name}`. Gate matches the name ignoring case and answers 200
    /// when nothing matches. On success the first cached entry Gate would have matched is
    /// removed from the cached list (deleting N pipelines costs no list request).
    pub async fn delete_pipeline(&self, application: &str, name: &str) -> Result<(), Error> {
        let call = Call::new(
            Method::DELETE,
            "/pipelines/{app}/{name}",
            format!("/pipelines/{}/{}", segment(application), segment(name)),
            Idempotency::Idempotent,
        );
        match self.send(call).await {
            Ok(_) => {
                let wanted = name.trim();
                self.patch_pipeline_configs(application, |list| {
                    if let Some(i) = list.iter().position(|p| {
                        p.get("name")
                            .and_then(Value::as_str)
                            .is_some_and(|n| n.trim().eq_ignore_ascii_case(wanted))
                    }) {
                        list.remove(i);
                    }
                });
                Ok(())
            }
            Err(e) => {
                self.invalidate_pipeline_configs(application);
                Err(e)
            }
        }
    }

    /// Applies `change` to the cached list of `application` when one is cached; when a fetch
    /// is still in flight the entry is dropped instead, so the next read fetches again.
    fn patch_pipeline_configs(&self, application: &str, change: impl FnOnce(&mut Vec<Value>)) {
        let key = cache_key(application);
        let mut cache = self
            .inner
            .pipeline_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(current) = cache.get(&key).and_then(|cell| cell.get()) else {
            cache.remove(&key);
            return;
        };
        let mut list = Vec::clone(current);
        change(&mut list);
        cache.insert(key, Arc::new(OnceCell::new_with(Some(Arc::new(list)))));
    }

    /// `POST /pipelines` for a pipeline that carries its `id`, then the stored pipeline as
    /// Front50 wrote it (with its `updateTs`), read from the pipeline's newest revision
    /// (`GET /pipelineConfigs/{id}/history?limit=1`, served from storage rather than from
    /// Front50's list cache). A missing revision right after the save is retried with backoff
    /// from 100 ms to 2 s for up to `visibility_timeout`. The cached list of the application is
    /// patched with the stored pipeline instead of being dropped, so saving N pipelines of one
    /// application costs no list request.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when the pipeline has no `application` or no `id`;
    /// [`Error::NotFound`] when no revision appears before the deadline; the save's own error.
    pub async fn save_and_read_pipeline(&self, pipeline: &Value) -> Result<Value, Error> {
        let application = application_of(pipeline)?;
        let Some(id) = id_of(pipeline) else {
            return Err(Error::InvalidRequest {
                field: "id",
                message: "the pipeline needs an `id` to be read back after the save".into(),
            });
        };
        let call = Call::new(
            Method::POST,
            "/pipelines",
            "/pipelines".into(),
            Idempotency::Idempotent,
        )
        .json(pipeline);
        let stored = match self.send(call).await {
            Ok(_) => self.newest_revision(application, id).await,
            Err(e) => Err(e),
        };
        match &stored {
            Ok(stored) => self.patch_pipeline_configs(application, |list| {
                match list.iter_mut().find(|p| id_of(p) == Some(id)) {
                    Some(entry) => *entry = stored.clone(),
                    None => list.push(stored.clone()),
                }
            }),
            Err(_) => self.invalidate_pipeline_configs(application),
        }
        stored
    }

    /// The newest stored revision of pipeline `id`, waiting for it as
    /// [`Client::save_and_read_pipeline`] describes.
    async fn newest_revision(&self, application: &str, id: &str) -> Result<Value, Error> {
        let timeout = self.config().visibility_timeout;
        let deadline = Instant::now() + timeout;
        let mut pause = VISIBLE_FIRST;
        loop {
            let revisions = optional(self.pipeline_history(id, 1).await)?.unwrap_or_default();
            if let Some(stored) = revisions.into_iter().find(Value::is_object) {
                return Ok(stored);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::NotFound {
                    message: format!(
                        "pipeline {id} of application {application} has no stored revision {timeout:?} after it was saved"
                    ),
                });
            }
            tracing::debug!(application, id, "saved pipeline has no revision yet");
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(VISIBLE_MAX);
        }
    }

    /// `GET /pipelineConfigs/{id}/history?limit=N`: stored revisions, newest first.
    pub async fn pipeline_history(&self, id: &str, limit: u32) -> Result<Vec<Value>, Error> {
        let call = Call::get(
            "/pipelineConfigs/{id}/history",
            format!("/pipelineConfigs/{}/history", segment(id)),
        )
        .query("limit", limit.to_string());
        Ok(self.send(call).await?.json_opt()?.unwrap_or_default())
    }

    /// Waits until the pipeline `id` appears in the application's list (Front50 serves reads
    /// from a cache that can lag a save), re-fetching with backoff from 100 ms to 2 s for up
    /// to `visibility_timeout`. A 404 for the list counts as "not visible yet".
    ///
    /// # Errors
    /// [`Error::NotFound`] when the pipeline is still missing at the deadline.
    pub async fn wait_until_visible(&self, application: &str, id: &str) -> Result<Value, Error> {
        let timeout = self.config().visibility_timeout;
        let deadline = Instant::now() + timeout;
        let mut pause = VISIBLE_FIRST;
        loop {
            self.invalidate_pipeline_configs(application);
            if let Some(pipeline) = self.get_pipeline_config_by_id(application, id).await? {
                return Ok(pipeline);
            }
            let now = Instant::now();
            if now >= deadline {
                self.invalidate_pipeline_configs(application);
                return Err(Error::NotFound {
                    message: format!(
                        "pipeline {id} of application {application} did not become visible within {timeout:?}"
                    ),
                });
            }
            tracing::debug!(application, id, "saved pipeline not visible yet");
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(VISIBLE_MAX);
        }
    }
}
