//! Applications: read through `/applications`, write through `createApplication`,
//! `updateApplication` and `deleteApplication` tasks.

use serde_json::{Map, Value, json};

use crate::request::{Call, optional, segment};
use crate::{Application, ApplicationSpec, Client, Error, TaskOutcome};

impl Client {
    /// `GET /applications/{app}?expand=false`; `None` when Gate answers 404.
    pub async fn get_application(&self, name: &str) -> Result<Option<Application>, Error> {
        let call = Call::get(
            "/applications/{app}",
            format!("/applications/{}", segment(name)),
        )
        .query("expand", "false");
        let Some(reply) = optional(self.send(call).await)? else {
            return Ok(None);
        };
        let detail: Map<String, Value> = reply.json()?;
        Application::from_detail(detail)
            .map(Some)
            .ok_or_else(|| Error::Http {
                status: reply.status.as_u16(),
                operation: reply.operation.clone(),
                message: "the application document has no `name`".into(),
            })
    }

    /// `GET /applications`: every application the caller can read (Gate serves it from a
    /// cache refreshed every few seconds, so a new application can be missing briefly).
    pub async fn list_applications(&self) -> Result<Vec<Application>, Error> {
        let reply = self
            .send(Call::get("/applications", "/applications".into()))
            .await?;
        let items: Vec<Map<String, Value>> = reply.json()?;
        Ok(items
            .into_iter()
            .filter_map(Application::from_flat)
            .collect())
    }

    /// Creates an application with a `createApplication` task and waits for it. Orca's
    /// task is an upsert: an existing application is updated, not rejected.
    pub async fn create_application(&self, spec: &ApplicationSpec) -> Result<TaskOutcome, Error> {
        self.application_task(spec, "createApplication", "Create")
            .await
    }

    /// Updates an application with an `updateApplication` task and waits for it. Orca merges
    /// attributes: keys left out keep their values; set a key to `null` in `spec.extra` to clear it.
    pub async fn update_application(&self, spec: &ApplicationSpec) -> Result<TaskOutcome, Error> {
        self.application_task(spec, "updateApplication", "Update")
            .await
    }

    /// Reads the application first, then runs [`Client::update_application`] when it exists
    /// and [`Client::create_application`] otherwise.
    pub async fn upsert_application(&self, spec: &ApplicationSpec) -> Result<TaskOutcome, Error> {
        check_name(spec)?;
        if self.get_application(&spec.name).await?.is_some() {
            self.update_application(spec).await
        } else {
            self.create_application(spec).await
        }
    }

    async fn application_task(
        &self,
        spec: &ApplicationSpec,
        job_type: &str,
        verb: &str,
    ) -> Result<TaskOutcome, Error> {
        check_name(spec)?;
        let name = spec.name.to_lowercase();
        let task = json!({
            "application": name,
            "description": format!("{verb} Application: {name}"),
            "job": [{ "type": job_type, "application": spec.to_attributes() }],
        });
        let task_ref = self.submit_task(&task).await?;
        Ok(self.wait_for_task(&task_ref).await?.into_outcome())
    }

    /// Deletes an application with a `deleteApplication` task and waits for it.
    /// Orca counts deleting an unknown application as success.
    pub async fn delete_application(&self, name: &str) -> Result<TaskOutcome, Error> {
        let name = name.to_lowercase();
        let task = json!({
            "application": name,
            "description": format!("Delete Application: {name}"),
            "job": [{ "type": "deleteApplication", "application": { "name": name } }],
        });
        let task_ref = self.submit_task(&task).await?;
        let outcome = self.wait_for_task(&task_ref).await;
        self.invalidate_pipeline_configs(&name);
        Ok(outcome?.into_outcome())
    }
}

fn check_name(spec: &ApplicationSpec) -> Result<(), Error> {
    if spec.name.trim().is_empty() {
        return Err(Error::InvalidRequest {
            field: "name",
            message: "the application name is empty".into(),
        });
    }
    Ok(())
}
