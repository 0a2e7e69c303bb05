//! The stage DAG built from `refId` and `requisiteStageRefIds`.
//!
//! A stage with no parents starts with the execution; a stage with several parents is a join.
//! Orca's rule for pipelines where *no* stage has a refId (`OperationsController.applyStageRefIds`)
//! is applied by [`StageGraph::from_pipeline`] and [`apply_default_ref_ids`]: refIds `0, 1, 2, ...`
//! in array order, each stage depending on the one before.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use crate::model::Pipeline;

/// Why a stage graph could not be built or ordered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// A stage has no `refId` while others have one.
    #[error("stage [{index}] has no refId")]
    MissingRefId {
        /// Index in the `stages` array.
        index: usize,
    },
    /// Two stages share a refId.
    #[error("refId {ref_id:?} is used by stages [{first}] and [{second}]")]
    DuplicateRefId {
        /// The repeated refId.
        ref_id: String,
        /// Index of the first stage using it.
        first: usize,
        /// Index of the later stage using it.
        second: usize,
    },
    /// A `requisiteStageRefIds` entry names no stage.
    #[error("stage {ref_id:?} depends on {parent:?}, which is not a stage refId")]
    UnknownParent {
        /// The stage with the bad entry.
        ref_id: String,
        /// The missing parent.
        parent: String,
    },
    /// The dependencies form a cycle.
    #[error("stages form a cycle: {}", .ref_ids.join(" -> "))]
    Cycle {
        /// The refIds along the cycle, the first repeated at the end.
        ref_ids: Vec<String>,
    },
}

/// A validated stage DAG: unique refIds, known parents. Cycles are detected on demand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageGraph {
    ref_ids: Vec<String>,
    index_of: HashMap<String, usize>,
    parents: Vec<Vec<usize>>,
    children: Vec<Vec<usize>>,
}

impl StageGraph {
    /// Builds the graph from `(refId, parents)` pairs given in stage array order.
    ///
    /// # Errors
    ///
    /// [`GraphError::DuplicateRefId`] or [`GraphError::UnknownParent`].
    pub fn new<I, P>(nodes: I) -> Result<Self, GraphError>
    where
        I: IntoIterator<Item = (String, P)>,
        P: IntoIterator<Item = String>,
    {
        let mut ref_ids = Vec::new();
        let mut index_of = HashMap::new();
        let mut raw_parents = Vec::new();
        for (i, (ref_id, parents)) in nodes.into_iter().enumerate() {
            if let Some(&first) = index_of.get(&ref_id) {
                return Err(GraphError::DuplicateRefId {
                    ref_id,
                    first,
                    second: i,
                });
            }
            index_of.insert(ref_id.clone(), i);
            ref_ids.push(ref_id);
            raw_parents.push(parents.into_iter().collect::<Vec<_>>());
        }
        let mut parents = vec![Vec::new(); ref_ids.len()];
        let mut children = vec![Vec::new(); ref_ids.len()];
        for (i, ps) in raw_parents.into_iter().enumerate() {
            for p in ps {
                let Some(&pi) = index_of.get(&p) else {
                    return Err(GraphError::UnknownParent {
                        ref_id: ref_ids[i].clone(),
                        parent: p,
                    });
                };
                if !parents[i].contains(&pi) {
                    parents[i].push(pi);
                    children[pi].push(i);
                }
            }
        }
        Ok(Self {
            ref_ids,
            index_of,
            parents,
            children,
        })
    }

    /// Builds the graph of a pipeline's stages, applying Orca's linear default when no stage
    /// has a refId.
    ///
    /// # Errors
    ///
    /// [`GraphError::MissingRefId`] when only some stages have a refId, and the errors of
    /// [`StageGraph::new`].
    pub fn from_pipeline(pipeline: &Pipeline) -> Result<Self, GraphError> {
        let stages = pipeline.stages();
        if stages.iter().all(|s| s.ref_id().is_none()) {
            return Self::new((0..stages.len()).map(|i| {
                let parents = if i == 0 {
                    vec![]
                } else {
                    vec![(i - 1).to_string()]
                };
                (i.to_string(), parents)
            }));
        }
        let mut nodes = Vec::with_capacity(stages.len());
        for s in &stages {
            let id = s
                .ref_id()
                .ok_or(GraphError::MissingRefId { index: s.index() })?;
            nodes.push((id, s.requisite_stage_ref_ids()));
        }
        Self::new(nodes)
    }

    /// Number of stages.
    pub fn len(&self) -> usize {
        self.ref_ids.len()
    }

    /// True when there are no stages.
    pub fn is_empty(&self) -> bool {
        self.ref_ids.is_empty()
    }

    /// All refIds in stage array order.
    pub fn ref_ids(&self) -> &[String] {
        &self.ref_ids
    }

    /// True when a stage has this refId.
    pub fn contains(&self, ref_id: &str) -> bool {
        self.index_of.contains_key(ref_id)
    }

    /// Stages without parents (they start with the execution), in array order.
    pub fn roots(&self) -> Vec<&str> {
        (0..self.len())
            .filter(|&i| self.parents[i].is_empty())
            .map(|i| self.ref_ids[i].as_str())
            .collect()
    }

    /// Direct parents of a stage (empty for unknown refIds).
    pub fn parents(&self, ref_id: &str) -> Vec<&str> {
        self.index_of
            .get(ref_id)
            .map(|&i| {
                self.parents[i]
                    .iter()
                    .map(|&p| self.ref_ids[p].as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Direct children of a stage (empty for unknown refIds).
    pub fn children(&self, ref_id: &str) -> Vec<&str> {
        self.index_of
            .get(ref_id)
            .map(|&i| {
                self.children[i]
                    .iter()
                    .map(|&c| self.ref_ids[c].as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every stage reachable by following parents, excluding the stage itself.
    pub fn ancestors(&self, ref_id: &str) -> BTreeSet<&str> {
        self.reach(ref_id, &self.parents)
    }

    /// Every stage reachable by following children, excluding the stage itself.
    pub fn descendants(&self, ref_id: &str) -> BTreeSet<&str> {
        self.reach(ref_id, &self.children)
    }

    fn reach<'a>(&'a self, ref_id: &str, edges: &[Vec<usize>]) -> BTreeSet<&'a str> {
        let mut out = BTreeSet::new();
        let Some(&start) = self.index_of.get(ref_id) else {
            return out;
        };
        let mut seen = vec![false; self.len()];
        let mut stack = edges[start].clone();
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            if i != start {
                out.insert(self.ref_ids[i].as_str());
            }
            stack.extend(&edges[i]);
        }
        out
    }

    /// A cycle, if any: refIds along the dependency direction, the first repeated at the end.
    pub fn find_cycle(&self) -> Option<Vec<String>> {
        // 0 = unvisited, 1 = on the current path, 2 = done.
        let mut state = vec![0u8; self.len()];
        for start in 0..self.len() {
            if state[start] != 0 {
                continue;
            }
            let mut path: Vec<(usize, usize)> = vec![(start, 0)];
            state[start] = 1;
            while let Some(top) = path.last_mut() {
                let node = top.0;
                if let Some(&child) = self.children[node].get(top.1) {
                    top.1 += 1;
                    match state[child] {
                        0 => {
                            state[child] = 1;
                            path.push((child, 0));
                        }
                        1 => {
                            let from = path.iter().position(|&(n, _)| n == child).unwrap_or(0);
                            let mut cycle: Vec<String> = path[from..]
                                .iter()
                                .map(|&(n, _)| self.ref_ids[n].clone())
                                .collect();
                            cycle.push(self.ref_ids[child].clone());
                            return Some(cycle);
                        }
                        _ => {}
                    }
                } else {
                    state[node] = 2;
                    path.pop();
                }
            }
        }
        None
    }

    /// A topological order (parents before children); ties follow the stage array order.
    ///
    /// # Errors
    ///
    /// [`GraphError::Cycle`] naming the refIds of one cycle.
    pub fn topological_order(&self) -> Result<Vec<&str>, GraphError> {
        let mut indegree: Vec<usize> = self.parents.iter().map(Vec::len).collect();
        let mut ready: BTreeSet<usize> = (0..self.len()).filter(|&i| indegree[i] == 0).collect();
        let mut order = Vec::with_capacity(self.len());
        while let Some(i) = ready.pop_first() {
            order.push(self.ref_ids[i].as_str());
            for &c in &self.children[i] {
                indegree[c] -= 1;
                if indegree[c] == 0 {
                    ready.insert(c);
                }
            }
        }
        if order.len() == self.len() {
            Ok(order)
        } else {
            Err(GraphError::Cycle {
                ref_ids: self.find_cycle().unwrap_or_default(),
            })
        }
    }
}

/// Orca's default for stage lists where no stage has a `refId`: sets `refId` to `"0"`, `"1"`, ...
/// and `requisiteStageRefIds` to the previous stage. Returns false (and changes nothing) when
/// any object stage already has a `refId`.
pub fn apply_default_ref_ids(stages: &mut [Value]) -> bool {
    if stages
        .iter()
        .any(|s| s.get("refId").is_some_and(|v| !v.is_null()))
    {
        return false;
    }
    for (i, stage) in stages.iter_mut().enumerate() {
        if let Value::Object(map) = stage {
            map.insert("refId".into(), Value::String(i.to_string()));
            let parents = if i == 0 {
                vec![]
            } else {
                vec![Value::String((i - 1).to_string())]
            };
            map.insert("requisiteStageRefIds".into(), Value::Array(parents));
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_pipelines;
    use serde_json::json;

    fn graph(edges: &[(&str, &[&str])]) -> Result<StageGraph, GraphError> {
        StageGraph::new(edges.iter().map(|(id, ps)| {
            (
                id.to_string(),
                ps.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            )
        }))
    }

    #[test]
    fn order_roots_children_ancestors() {
        // array order differs from DAG order, as in real exports
        let g = graph(&[("3", &["1", "2"]), ("1", &[]), ("4", &["3"]), ("2", &[])]).unwrap();
        assert_eq!(g.roots(), ["1", "2"]);
        assert_eq!(g.topological_order().unwrap(), ["1", "2", "3", "4"]);
        assert_eq!(g.children("1"), ["3"]);
        assert_eq!(g.parents("3"), ["1", "2"]);
        assert_eq!(
            g.ancestors("4").into_iter().collect::<Vec<_>>(),
            ["1", "2", "3"]
        );
        assert_eq!(
            g.descendants("2").into_iter().collect::<Vec<_>>(),
            ["3", "4"]
        );
        assert!(g.ancestors("nope").is_empty());
    }

    #[test]
    fn cycle_is_reported_with_its_ref_ids() {
        let g = graph(&[("a", &["c"]), ("b", &["a"]), ("c", &["b"]), ("d", &[])]).unwrap();
        let err = g.topological_order().unwrap_err();
        let GraphError::Cycle { ref_ids } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(ref_ids.first(), ref_ids.last());
        let mut members = ref_ids[..ref_ids.len() - 1].to_vec();
        members.sort();
        assert_eq!(members, ["a", "b", "c"]);
        assert!(err.to_string().starts_with("stages form a cycle: "));
        let self_loop = graph(&[("x", &["x"])]).unwrap();
        assert_eq!(
            self_loop.find_cycle(),
            Some(vec!["x".to_string(), "x".to_string()])
        );
    }

    #[test]
    fn duplicate_and_unknown_are_errors() {
        assert_eq!(
            graph(&[("1", &[]), ("1", &[])]).unwrap_err(),
            GraphError::DuplicateRefId {
                ref_id: "1".into(),
                first: 0,
                second: 1
            }
        );
        assert_eq!(
            graph(&[("1", &["9"])]).unwrap_err(),
            GraphError::UnknownParent {
                ref_id: "1".into(),
                parent: "9".into()
            }
        );
    }

    #[test]
    fn orca_linear_default_when_no_ref_ids() {
        let p =
            &parse_pipelines(br#"{"stages":[{"type":"wait"},{"type":"wait"},{"type":"wait"}]}"#)
                .unwrap()[0];
        let g = StageGraph::from_pipeline(p).unwrap();
        assert_eq!(g.topological_order().unwrap(), ["0", "1", "2"]);
        assert_eq!(g.parents("2"), ["1"]);

        let mut stages = vec![json!({"type":"wait"}), json!({"type":"wait"})];
        assert!(apply_default_ref_ids(&mut stages));
        assert_eq!(
            stages[1],
            json!({"type":"wait","refId":"1","requisiteStageRefIds":["0"]})
        );
        assert!(!apply_default_ref_ids(&mut stages));
    }

    #[test]
    fn partial_ref_ids_and_numeric_ids() {
        let p = &parse_pipelines(br#"{"stages":[{"refId":1},{"type":"wait"}]}"#).unwrap()[0];
        assert_eq!(
            StageGraph::from_pipeline(p).unwrap_err(),
            GraphError::MissingRefId { index: 1 }
        );
        let p = &parse_pipelines(
            br#"{"stages":[{"refId":1},{"refId":"2","requisiteStageRefIds":[1]}]}"#,
        )
        .unwrap()[0];
        assert_eq!(StageGraph::from_pipeline(p).unwrap().children("1"), ["2"]);
    }
}
