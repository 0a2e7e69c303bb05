//! The SpEL evaluator behind [`ExpressionEngine`]: `pipeline::expr` with the execution helpers
//! of [`crate::functions`] plugged in as its `Functions`.

use crate::expressions::{ExpressionEngine, ExpressionError, Scope};
use pipeline::expr::{Context, Functions, evaluate_template};
use serde_json::Value;

/// `pipeline::expr` over an execution scope.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spel;

struct ScopeFunctions<'s, 'a>(&'s Scope<'a>);

impl Functions for ScopeFunctions<'_, '_> {
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        self.0.call_function(name, args)
    }
}

impl ExpressionEngine for Spel {
    fn evaluate_template(
        &self,
        template: &str,
        scope: &Scope<'_>,
    ) -> Result<Value, ExpressionError> {
        let root = scope.root(template);
        let functions = ScopeFunctions(scope);
        let context = Context::new(&root).with_functions(&functions);
        evaluate_template(template, &context).map_err(|error| ExpressionError {
            expression: template.to_owned(),
            message: error.to_string(),
        })
    }
}
