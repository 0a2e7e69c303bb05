//! Property tests: random DAGs of waits, variables and failing stages with random failure flags
//! always reach a final status that follows Orca's rules, and no stage ever starts before its
//! parents allow it.

use crate::support::Harness;
use execution::ExecutionStatus::{self, *};
use execution::executor::final_status;
use proptest::prelude::*;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
struct StagePlan {
    kind: u8,
    seconds: u8,
    parents: Vec<usize>,
    fail_pipeline: bool,
    continue_pipeline: bool,
    complete_others: bool,
}

fn plans() -> impl Strategy<Value = Vec<StagePlan>> {
    prop::collection::vec(
        (
            0u8..4,
            0u8..4,
            prop::collection::vec(0usize..8, 0..3),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        ),
        1..8,
    )
    .prop_map(|raw| {
        raw.into_iter()
            .enumerate()
            .map(
                |(
                    i,
                    (kind, seconds, parents, fail_pipeline, continue_pipeline, complete_others),
                )| StagePlan {
                    kind,
                    seconds,
                    // Only earlier stages can be parents, so the graph is a DAG.
                    parents: {
                        let mut p: Vec<usize> = parents.into_iter().filter(|p| *p < i).collect();
                        p.dedup();
                        p
                    },
                    fail_pipeline,
                    continue_pipeline,
                    complete_others,
                },
            )
            .collect()
    })
}

fn config(plan: &[StagePlan]) -> Value {
    let stages: Vec<Value> = plan
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let parents: Vec<String> = s.parents.iter().map(|p| format!("s{p}")).collect();
            let mut stage = match s.kind {
                0 | 1 => json!({"type": "wait", "waitTime": s.seconds}),
                2 => json!({"type": "evaluateVariables", "variables": [{"key": format!("v{i}"), "value": "${parameters.n}"}]}),
                _ => json!({"type": "deploy", "failPipeline": s.fail_pipeline, "continuePipeline": s.continue_pipeline,
                    "completeOtherBranchesThenFail": s.complete_others}),
            };
            stage["refId"] = json!(format!("s{i}"));
            stage["name"] = json!(format!("stage {i}"));
            stage["requisiteStageRefIds"] = json!(parents);
            stage
        })
        .collect();
    json!({"application": "prop", "name": "random", "id": "random", "stages": stages,
        "parameterConfig": [{"name": "n", "default": "7"}]})
}

fn lets_downstream_run(status: ExecutionStatus) -> bool {
    matches!(status, Succeeded | FailedContinue | Skipped)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_pipelines_end_by_orcas_rules(plan in plans()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async {
            let mut h = Harness::new();
            let id = h.run(config(&plan)).await;
            for _ in 0..10 {
                if h.status(&id).is_complete() {
                    break;
                }
                h.advance(1_000).await;
            }
            let execution = h.execution(&id).clone();
            assert!(execution.status.is_complete(), "{plan:?} -> {:?}", execution.status);
            assert_eq!(final_status(&execution), Some(execution.status), "{plan:?}");
            for stage in &execution.stages {
                let Some(start) = stage.start_time else { continue };
                for parent in &stage.requisite_stage_ref_ids {
                    let parent = execution.stage_by_ref_id(parent).expect("parent exists");
                    assert!(lets_downstream_run(parent.status), "{} started after {:?}", stage.name, parent.status);
                    assert!(parent.end_time.is_some_and(|end| end <= start));
                }
            }
            if execution.stages.iter().any(|s| s.status == Terminal) {
                assert_eq!(execution.status, Terminal);
            }
            if execution.status == Succeeded {
                assert!(execution.stages.iter().all(|s| s.status.is_successful() || s.status == FailedContinue || s.status == NotStarted));
            }
        });
    }
}
