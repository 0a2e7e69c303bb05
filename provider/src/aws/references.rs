//! Plan-time cross checks: the clusters and server groups a pipeline names in `clusterSize`
//! preconditions and in canary scopes must exist in AWS. Findings are errors, or warnings when
//! `strict_aws_references = false`, each on the attribute that holds the name. One listing per
//! region serves every pipeline of a plan for 30 seconds.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pipeline::naming::Names;
use pipeline::validate::JsonPath;
use serde_json::{Map, Value as Json};

use super::error::AwsError;
use super::server_groups;
use crate::diag::{AttributePath, Diagnostics};

/// What kind of name a reference holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReferenceKind {
    /// A cluster (`app[-stack[-detail]]`): it must have at least one server group.
    Cluster,
    /// A server group (`cluster-vNNN`): it must exist.
    ServerGroup,
}

/// One name a pipeline uses, where it is, and the region it must exist in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub kind: ReferenceKind,
    pub name: String,
    /// `None`: the provider's region.
    pub region: Option<String>,
    /// Where the name is in the pipeline JSON.
    pub path: JsonPath,
    /// What uses it, for messages ("clusterSize precondition", "canary control scope").
    pub used_by: &'static str,
}

fn text(v: Option<&Json>) -> Option<&str> {
    v.and_then(Json::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Whether a scope value looks like a Frigga name (not an expression or a metric selector).
fn frigga_like(name: &str) -> bool {
    !name.contains("${")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '~' | '^'))
        && Names::parse(name).app.is_some()
}

fn kind_of(name: &str) -> ReferenceKind {
    if Names::parse(name).sequence.is_some() {
        ReferenceKind::ServerGroup
    } else {
        ReferenceKind::Cluster
    }
}

/// Every checkable reference of a pipeline (expressions are skipped: they resolve at run time).
pub fn references(pipeline: &Map<String, Json>) -> Vec<Reference> {
    let mut out = Vec::new();
    let Some(stages) = pipeline.get("stages").and_then(Json::as_array) else {
        return out;
    };
    let root = JsonPath::root().key("stages");
    for (i, stage) in stages.iter().enumerate() {
        let at = root.index(i);
        match stage.get("type").and_then(Json::as_str) {
            Some("checkPreconditions") => {
                let preconditions = stage.get("preconditions").and_then(Json::as_array);
                for (j, p) in preconditions.into_iter().flatten().enumerate() {
                    if p.get("type").and_then(Json::as_str) != Some("clusterSize") {
                        continue;
                    }
                    let context = p.get("context");
                    let Some(cluster) = text(context.and_then(|c| c.get("cluster"))) else {
                        continue;
                    };
                    if !frigga_like(cluster) {
                        continue;
                    }
                    let path = at
                        .key("preconditions")
                        .index(j)
                        .key("context")
                        .key("cluster");
                    let regions: Vec<String> = context
                        .and_then(|c| c.get("regions"))
                        .and_then(Json::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|r| text(Some(r)))
                        .filter(|r| !r.contains("${"))
                        .map(str::to_owned)
                        .collect();
                    let regions = if regions.is_empty() {
                        vec![None]
                    } else {
                        regions.into_iter().map(Some).collect()
                    };
                    for region in regions {
                        out.push(Reference {
                            kind: ReferenceKind::Cluster,
                            name: cluster.to_owned(),
                            region,
                            path: path.clone(),
                            used_by: "clusterSize precondition",
                        });
                    }
                }
            }
            Some("kayentaCanary") => {
                let scopes = stage
                    .get("canaryConfig")
                    .and_then(|c| c.get("scopes"))
                    .and_then(Json::as_array);
                for (j, scope) in scopes.into_iter().flatten().enumerate() {
                    for (key, location, used_by) in [
                        ("controlScope", "controlLocation", "canary control scope"),
                        (
                            "experimentScope",
                            "experimentLocation",
                            "canary experiment scope",
                        ),
                    ] {
                        let Some(name) = text(scope.get(key)) else {
                            continue;
                        };
                        if !frigga_like(name) {
                            continue;
                        }
                        let region = text(scope.get(location))
                            .filter(|r| !r.contains("${"))
                            .map(str::to_owned);
                        out.push(Reference {
                            kind: kind_of(name),
                            name: name.to_owned(),
                            region,
                            path: JsonPath::root()
                                .key("stages")
                                .index(i)
                                .key("canaryConfig")
                                .key("scopes")
                                .index(j)
                                .key(key),
                            used_by,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// What exists in one region: server group names and cluster names.
#[derive(Default)]
struct Inventory {
    server_groups: BTreeSet<String>,
    clusters: BTreeSet<String>,
}

/// How long one region's inventory answers the checks of every pipeline in a plan.
const INVENTORY_TTL: Duration = Duration::from_secs(30);

/// Inventories by region, shared by the pipelines of one plan (one provider process).
static INVENTORIES: Mutex<BTreeMap<String, (Instant, Arc<Inventory>)>> =
    Mutex::new(BTreeMap::new());

async fn inventory(clients: &super::AwsClients) -> Result<Arc<Inventory>, AwsError> {
    if let Ok(cache) = INVENTORIES.lock()
        && let Some((at, inventory)) = cache.get(&clients.region)
        && at.elapsed() < INVENTORY_TTL
    {
        return Ok(Arc::clone(inventory));
    }
    let mut inventory = Inventory::default();
    for g in server_groups::list(clients, &[]).await? {
        if let Some(c) = &g.cluster {
            inventory.clusters.insert(c.clone());
        }
        inventory.server_groups.insert(g.name);
    }
    let inventory = Arc::new(inventory);
    if let Ok(mut cache) = INVENTORIES.lock() {
        cache.insert(
            clients.region.clone(),
            (Instant::now(), Arc::clone(&inventory)),
        );
    }
    Ok(inventory)
}

/// Checks a pipeline's references against AWS when the provider has an `aws` block; `path_of`
/// maps a JSON path to the configuration attribute that produced it.
pub fn check_references(
    pipeline: &Map<String, Json>,
    path_of: &dyn Fn(&JsonPath) -> Option<AttributePath>,
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let Some(settings) = super::settings() else {
        return diags;
    };
    let refs = references(pipeline);
    if refs.is_empty() {
        return diags;
    }
    let regions: BTreeSet<Option<String>> = refs.iter().map(|r| r.region.clone()).collect();
    let looked_up = super::call_blocking(move |clients| async move {
        let mut out: BTreeMap<Option<String>, (String, Arc<Inventory>)> = BTreeMap::new();
        for region in regions {
            let regional = match &region {
                Some(r) => clients.for_region(r),
                None => (*clients).clone(),
            };
            let found = inventory(&regional).await?;
            out.insert(region, (regional.region.clone(), found));
        }
        Ok(out)
    });
    let strict = settings.strict_references;
    let inventories = match looked_up {
        Ok(i) => i,
        Err(e) => {
            report_lookup_failure(&mut diags, &e, strict);
            return diags;
        }
    };
    for r in refs {
        let Some((region, inventory)) = inventories.get(&r.region) else {
            continue;
        };
        let exists = match r.kind {
            ReferenceKind::Cluster => inventory.clusters.contains(&r.name),
            ReferenceKind::ServerGroup => inventory.server_groups.contains(&r.name),
        };
        if exists {
            continue;
        }
        let path = path_of(&r.path);
        let (summary, what) = match r.kind {
            ReferenceKind::Cluster => ("Cluster Not Found", "cluster"),
            ReferenceKind::ServerGroup => ("Server Group Not Found", "server group"),
        };
        let mut detail = format!(
            "The {} names the {what} {:?}, which has no autoscaling group in {region}.",
            r.used_by, r.name
        );
        if let Some(p) = &path {
            detail = format!("Attribute {p}: {detail}");
        }
        if strict {
            detail.push_str(" Create it first (e.g. with aws_autoscaling_group), fix the name, or set strict_aws_references = false in the provider's aws block to make this a warning.");
            match path {
                Some(p) => diags.attribute_error(p, summary, detail),
                None => diags.error(summary, detail),
            };
        } else {
            diags.warning(path, summary, detail);
        }
    }
    diags
}

fn report_lookup_failure(diags: &mut Diagnostics, e: &AwsError, strict: bool) {
    let found = e.to_diagnostics(None);
    for d in found.0 {
        let detail = format!(
            "Cannot check the pipeline's cluster references against AWS: {}",
            d.detail
        );
        if strict {
            diags.error(d.summary, detail);
        } else {
            diags.warning(None, d.summary, detail);
        }
    }
}
