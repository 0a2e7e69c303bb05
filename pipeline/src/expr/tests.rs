//! Tests of the expression module: corpus expressions, semantics, templates, round-trip property.

use super::*;
use proptest::prelude::*;
use serde_json::json;

/// Stands in for the engine: `#stage(name)` returns a stage object, `#judgment(name)` its input.
struct Stages;

impl Functions for Stages {
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        if name != "stage" && name != "judgment" {
            return None;
        }
        let stage_name = args
            .first()
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let stage = match stage_name.as_str() {
            "Evaluate Variables" => {
                json!({"name": stage_name, "status": "SUCCEEDED", "outputs": {"BRANCH": "main", "REVISION": "r1"}})
            }
            "Manual Judgment" => {
                json!({"name": stage_name, "status": "SUCCEEDED", "context": {"judgmentInput": "rollback"}})
            }
            _ => return Some(Err(format!("unable to locate stage {stage_name:?}"))),
        };
        match name {
            "stage" => Some(Ok(stage)),
            "judgment" => Some(Ok(stage["context"]["judgmentInput"].clone())),
            _ => None,
        }
    }
}

fn root() -> Value {
    json!({
        "trigger": {"type": "git", "tag": "v1.2", "hash": "abc123", "id": "t-1", "branch": "main",
                    "properties": {"tag": "1.0", "repository": "repo"}, "parameters": {"env": "prod"}},
        "parameters": {"jiraid": "J-1", "gitrepo": "svc", "successRate": "95", "account": "prod", "flag": "true"},
        "execution": {"id": "01H", "stages": [{"type": "bake", "name": "Bake"}, {"type": "wait", "name": "W1"}, {"type": "bake", "name": "Bake 2"}]},
        "commit_id": "deadbeef",
        "NAME_VAR": "name",
        "count": 3,
        "ratio": 0.5,
        "empty": "",
        "list": [1, 2, 3],
    })
}

fn eval_t(template: &str) -> Result<Value, ExprError> {
    let r = root();
    evaluate_template(template, &Context::new(&r).with_functions(&Stages))
}

fn eval_e(expr: &str) -> Result<Value, ExprError> {
    let r = root();
    evaluate_str(expr, &Context::new(&r).with_functions(&Stages))
}

/// Every `${...}` form found in `../shared/corpus`, with the value it gives on [`root`].
#[test]
fn corpus_expressions_evaluate() {
    let table: &[(&str, Value)] = &[
        ("${trigger['tag']}", json!("v1.2")),
        ("${ trigger['tag'] }", json!("v1.2")),
        (
            "${#stage('Evaluate Variables').outputs.BRANCH}",
            json!("main"),
        ),
        ("${trigger['hash']}", json!("abc123")),
        (
            "${#stage(\"Evaluate Variables\")['outputs']['REVISION']}",
            json!("r1"),
        ),
        (
            "${ #stage('Manual Judgment')['status'].toString() == 'SUCCEEDED'}",
            json!(true),
        ),
        ("${trigger[\"properties\"][\"tag\"]}", json!("1.0")),
        ("${trigger[\"properties\"][\"repository\"]}", json!("repo")),
        ("${trigger['id']}", json!("t-1")),
        ("${trigger['branch']}", json!("main")),
        ("${trigger.hash ?: \"latest\" }", json!("abc123")),
        ("${trigger.branch}", json!("main")),
        ("${trigger.branch ?: \"master\" }", json!("main")),
        ("${trigger.missing ?: \"master\" }", json!("master")),
        ("${parameters['jiraid']}", json!("J-1")),
        ("${parameters['gitrepo']}", json!("svc")),
        ("${commit_id}", json!("deadbeef")),
        ("${NAME_VAR}", json!("name")),
        (
            "${#stage('Evaluate Variables').outputs.REVISION}",
            json!("r1"),
        ),
        ("${ parameters.successRate }", json!("95")),
        ("${ parameters.account }", json!("prod")),
        ("gcr.io/p/app:${trigger['tag']}", json!("gcr.io/p/app:v1.2")),
        ("${#judgment('Manual Judgment') == 'rollback'}", json!(true)),
    ];
    for (template, expected) in table {
        assert_eq!(
            &eval_t(template).unwrap_or_else(|e| panic!("{template}: {e}")),
            expected,
            "{template}"
        );
    }
}

/// Every string holding `${` in the corpus parses (skips when `../shared` is absent).
#[test]
fn every_corpus_template_parses() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    if !dir.exists() {
        eprintln!("skip: corpus not found at {}", dir.display());
        return;
    }
    fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::String(s) if s.contains("${") => out.push(s),
            Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
            Value::Object(m) => m.values().for_each(|x| strings(x, out)),
            _ => {}
        }
    }
    let mut checked = 0;
    for sub in ["pipelines", "not-exports"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            let value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let mut found = Vec::new();
            strings(&value, &mut found);
            for s in found {
                check_template_syntax(s)
                    .unwrap_or_else(|e| panic!("{}: {s:?}: {e}", path.display()));
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "only {checked} templates found");
}

#[test]
fn template_shapes() {
    assert_eq!(eval_t("plain text").unwrap(), json!("plain text"));
    assert_eq!(
        eval_t("${count}").unwrap(),
        json!(3),
        "a lone expression keeps its type"
    );
    assert_eq!(eval_t("${list}").unwrap(), json!([1, 2, 3]));
    assert_eq!(
        eval_t("n=${count}, r=${ratio}, l=${list}, x=${nothing}.").unwrap(),
        json!("n=3, r=0.5, l=[1, 2, 3], x=.")
    );
    assert_eq!(
        eval_t("${'}'}${\"{\"}").unwrap(),
        json!("}{"),
        "braces inside quotes"
    );
    assert_eq!(
        eval_t("${{1,2}.size()}").unwrap(),
        json!(2),
        "nested braces"
    );
    assert_eq!(
        eval_t("cost: $5 and ${count}").unwrap(),
        json!("cost: $5 and 3")
    );
}

#[test]
fn template_errors_have_template_offsets() {
    assert_eq!(
        check_template_syntax("abc ${trigger['x'"),
        Err(ExprError::Unterminated { offset: 4 })
    );
    assert!(matches!(
        check_template_syntax("ab ${a +}"),
        Err(ExprError::Syntax { offset: 8, .. })
    ));
    assert!(matches!(
        check_template_syntax("${}"),
        Err(ExprError::Syntax { offset: 2, .. })
    ));
    let err = eval_t("x ${T(java.lang.Runtime).getRuntime()}").unwrap_err();
    assert_eq!(
        err,
        ExprError::Unsupported {
            construct: "type reference T(...)".into(),
            offset: 4
        }
    );
    let err = eval_t("xx${#nope(1)}").unwrap_err();
    assert_eq!(
        err,
        ExprError::UnknownFunction {
            name: "nope".into(),
            offset: 4
        }
    );
}

#[test]
fn navigation_and_null_safety() {
    assert_eq!(eval_e("trigger.parameters.env").unwrap(), json!("prod"));
    assert_eq!(eval_e("trigger.nothing").unwrap(), Value::Null);
    assert_eq!(eval_e("trigger.nothing?.deeper").unwrap(), Value::Null);
    assert!(matches!(
        eval_e("trigger.nothing.deeper"),
        Err(ExprError::Eval { offset: 15, .. })
    ));
    assert_eq!(
        eval_e("trigger[parameters]").unwrap(),
        json!({"env": "prod"}),
        "bare name in a map indexer is a key"
    );
    assert_eq!(eval_e("list[1]").unwrap(), json!(2));
    assert_eq!(eval_e("list['2']").unwrap(), json!(3));
    assert!(
        eval_e("list[3]")
            .unwrap_err()
            .to_string()
            .contains("out of bounds")
    );
    assert_eq!(eval_e("commit_id[0]").unwrap(), json!("d"));
    assert_eq!(eval_e("#root.count").unwrap(), json!(3));
    assert_eq!(eval_e("nothing?.size()").unwrap(), Value::Null);
    assert!(eval_e("nothing.size()").is_err());
    assert!(
        eval_e("nothing.toString()")
            .unwrap_err()
            .to_string()
            .contains("on null")
    );
    assert_eq!(eval_e("nothing?.toString()").unwrap(), Value::Null);
}

#[test]
fn selection_and_projection() {
    assert_eq!(
        eval_e("execution['stages'].?[type == 'bake'][0]['name']").unwrap(),
        json!("Bake")
    );
    assert_eq!(
        eval_e("execution.stages.?[type == 'bake'].size()").unwrap(),
        json!(2)
    );
    assert_eq!(
        eval_e("execution.stages.^[type == 'bake'].name").unwrap(),
        json!("Bake")
    );
    assert_eq!(
        eval_e("execution.stages.$[type == 'bake'].name").unwrap(),
        json!("Bake 2")
    );
    assert_eq!(
        eval_e("execution.stages.![name]").unwrap(),
        json!(["Bake", "W1", "Bake 2"])
    );
    assert_eq!(eval_e("list.?[#this > 1]").unwrap(), json!([2, 3]));
    assert_eq!(
        eval_e("trigger.properties.?[value == 'repo']").unwrap(),
        json!({"repository": "repo"})
    );
    assert_eq!(
        eval_e("trigger.properties.![key]").unwrap(),
        json!(["tag", "repository"])
    );
    assert!(
        eval_e("list.?[#this]")
            .unwrap_err()
            .to_string()
            .contains("must be a boolean")
    );
}

#[test]
fn operators() {
    assert_eq!(eval_e("1 + 2 * 3 - 4 / 2").unwrap(), json!(5));
    assert_eq!(
        eval_e("7 / 2").unwrap(),
        json!(3),
        "integer division like Java"
    );
    assert_eq!(eval_e("7 / 2.0").unwrap(), json!(3.5));
    assert_eq!(eval_e("7 % 3 + 2 ^ 3").unwrap(), json!(9));
    assert_eq!(eval_e("-count + +1").unwrap(), json!(-2));
    assert!(
        eval_e("1 / 0")
            .unwrap_err()
            .to_string()
            .contains("division by zero")
    );
    assert_eq!(eval_e("'a' + 1 + null").unwrap(), json!("a1null"));
    assert_eq!(
        eval_e("count == 3.0 and 'b' > 'a' and count ge 3 and not (count lt 3)").unwrap(),
        json!(true)
    );
    assert_eq!(
        eval_e("count != 3 or 1 eq 2 || false").unwrap(),
        json!(false)
    );
    assert_eq!(
        eval_e("parameters.flag && true").unwrap(),
        json!(true),
        "strings convert like Spring"
    );
    assert!(
        eval_e("commit_id && true")
            .unwrap_err()
            .to_string()
            .contains("cannot convert string")
    );
    assert_eq!(eval_e("count > 2 ? 'big' : 'small'").unwrap(), json!("big"));
    assert_eq!(eval_e("empty ?: 'fallback'").unwrap(), json!("fallback"));
    assert_eq!(eval_e("commit_id matches '[a-f]+'").unwrap(), json!(true));
    assert_eq!(
        eval_e("commit_id matches 'dead'").unwrap(),
        json!(false),
        "matches is a whole-string match"
    );
    assert_eq!(eval_e("null == nothing").unwrap(), json!(true));
    assert!(eval_e("list < 3").is_err());
}

#[test]
fn string_list_and_map_methods() {
    let cases: &[(&str, Value)] = &[
        ("'Hello'.toUpperCase()", json!("HELLO")),
        ("'Hello'.toLowerCase()", json!("hello")),
        ("'Hello'.contains('ell')", json!(true)),
        (
            "'Hello'.startsWith('He') && 'Hello'.endsWith('lo')",
            json!(true),
        ),
        ("'Hello'.equals('Hello')", json!(true)),
        ("'Hello'.equalsIgnoreCase('hELLO')", json!(true)),
        ("'Hello'.length()", json!(5)),
        ("'Hello'.substring(1)", json!("ello")),
        ("'Hello'.substring(1, 3)", json!("el")),
        ("'a-b-c'.replace('-', '_')", json!("a_b_c")),
        ("'a1b22c'.replaceAll('[0-9]+', '#')", json!("a#b#c")),
        ("'a,b,,c,,'.split(',')", json!(["a", "b", "", "c"])),
        ("'  x '.trim()", json!("x")),
        ("''.isEmpty()", json!(true)),
        ("'v1.2'.matches('v[0-9.]+')", json!(true)),
        ("'abc'.indexOf('c')", json!(2)),
        ("list.size()", json!(3)),
        ("list.contains(2)", json!(true)),
        ("list.isEmpty()", json!(false)),
        ("trigger.properties.containsKey('tag')", json!(true)),
        ("trigger.properties.size()", json!(2)),
        ("trigger.properties.get('tag')", json!("1.0")),
        ("count.toString() + ratio.toString()", json!("30.5")),
        ("true.toString()", json!("true")),
    ];
    for (expr, expected) in cases {
        assert_eq!(
            &eval_e(expr).unwrap_or_else(|e| panic!("{expr}: {e}")),
            expected,
            "{expr}"
        );
    }
    assert!(
        matches!(eval_e("'x'.frobnicate()"), Err(ExprError::Unsupported { construct, offset: 3 }) if construct == "method frobnicate() on a string")
    );
    assert!(
        eval_e("'Hello'.substring(4, 9)")
            .unwrap_err()
            .to_string()
            .contains("out of range")
    );
    assert!(
        eval_e("'x'.contains()")
            .unwrap_err()
            .to_string()
            .contains("takes 1 argument")
    );
}

#[test]
fn built_in_helpers_through_expressions() {
    assert_eq!(
        eval_e("#toInt(parameters.successRate) + 1").unwrap(),
        json!(96)
    );
    assert_eq!(eval_e("#toBoolean(parameters.flag)").unwrap(), json!(true));
    assert_eq!(
        eval_e("#alphanumerical('feature/x-1')").unwrap(),
        json!("featurex1")
    );
    assert_eq!(
        eval_e("#toJson(trigger.parameters)").unwrap(),
        json!("{\"env\":\"prod\"}")
    );
    assert_eq!(eval_e("#fromBase64(#toBase64('hi'))").unwrap(), json!("hi"));
    assert_eq!(eval_e("#readJson('{\"a\": 1}').a").unwrap(), json!(1));
    assert_eq!(eval_e("#toFloat('2.5') * 2").unwrap(), json!(5.0));
    assert_eq!(eval_e("#doNotEval('${x}')").unwrap(), json!("${x}"));
    assert!(
        eval_e("#stage('Nope')")
            .unwrap_err()
            .to_string()
            .contains("unable to locate stage")
    );
    assert!(
        eval_e("#undefinedVar")
            .unwrap_err()
            .to_string()
            .contains("unknown variable #undefinedVar")
    );
}

#[test]
fn condition_wrapping() {
    assert_eq!(as_template("a == b"), "${a == b}");
    assert_eq!(as_template("${a == b}"), "${a == b}");
    assert!(java_boolean_value_of(
        &eval_t(&as_template("#judgment('Manual Judgment') == 'rollback'")).unwrap()
    ));
}

const NAMES: &[&str] = &["a", "b", "trigger", "parameters", "x_1", "stages"];

fn leaf() -> impl Strategy<Value = ExprKind> {
    prop_oneof![
        Just(ExprKind::Null),
        any::<bool>().prop_map(ExprKind::Bool),
        (0i64..100_000).prop_map(ExprKind::Int),
        (0u32..400_000).prop_map(|n| ExprKind::Float(f64::from(n) / 8.0)),
        "[a-z' {}]{0,6}".prop_map(ExprKind::Str),
        proptest::sample::select(NAMES).prop_map(|n| ExprKind::Ident(n.to_owned())),
        proptest::sample::select(&["root", "this", "v"][..])
            .prop_map(|n| ExprKind::Var(n.to_owned())),
    ]
}

fn node(kind: ExprKind) -> Expr {
    Expr {
        kind,
        span: Span::default(),
    }
}

fn arb_expr() -> impl Strategy<Value = Expr> {
    leaf().prop_map(node).prop_recursive(4, 32, 3, |inner| {
        let b = |e: Expr| Box::new(e);
        let name = proptest::sample::select(NAMES).prop_map(str::to_owned);
        let args = proptest::collection::vec(inner.clone(), 0..3);
        prop_oneof![
            (inner.clone(), name.clone(), any::<bool>()).prop_map(move |(t, name, safe)| node(
                ExprKind::Property {
                    target: b(t),
                    name,
                    safe
                }
            )),
            (inner.clone(), inner.clone()).prop_map(move |(t, i)| node(ExprKind::Index {
                target: b(t),
                index: b(i)
            })),
            (
                proptest::option::of(inner.clone()),
                name.clone(),
                args.clone(),
                any::<bool>()
            )
                .prop_map(move |(t, name, args, safe)| {
                    let safe = safe && t.is_some();
                    node(ExprKind::Method {
                        target: t.map(b),
                        name,
                        args,
                        safe,
                    })
                }),
            (name, args.clone()).prop_map(|(name, args)| node(ExprKind::Function { name, args })),
            args.prop_map(|items| node(ExprKind::List(items))),
            (
                inner.clone(),
                proptest::sample::select(&[Selection::All, Selection::First, Selection::Last][..]),
                inner.clone()
            )
                .prop_map(move |(t, which, c)| node(ExprKind::Select {
                    target: b(t),
                    which,
                    cond: b(c)
                })),
            (inner.clone(), inner.clone()).prop_map(move |(t, e)| node(ExprKind::Project {
                target: b(t),
                expr: b(e)
            })),
            (
                proptest::sample::select(&[UnaryOp::Not, UnaryOp::Neg, UnaryOp::Plus][..]),
                inner.clone()
            )
                .prop_map(move |(op, o)| node(ExprKind::Unary { op, operand: b(o) })),
            (
                proptest::sample::select(
                    &[
                        BinaryOp::Or,
                        BinaryOp::And,
                        BinaryOp::Eq,
                        BinaryOp::Ne,
                        BinaryOp::Lt,
                        BinaryOp::Le,
                        BinaryOp::Gt,
                        BinaryOp::Ge,
                        BinaryOp::Matches,
                        BinaryOp::Add,
                        BinaryOp::Sub,
                        BinaryOp::Mul,
                        BinaryOp::Div,
                        BinaryOp::Mod,
                        BinaryOp::Pow,
                    ][..]
                ),
                inner.clone(),
                inner.clone()
            )
                .prop_map(move |(op, l, r)| node(ExprKind::Binary {
                    op,
                    lhs: b(l),
                    rhs: b(r)
                })),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(move |(c, t, o)| node(
                ExprKind::Ternary {
                    cond: b(c),
                    then: b(t),
                    otherwise: b(o)
                }
            )),
            (inner.clone(), inner).prop_map(move |(v, f)| node(ExprKind::Elvis {
                value: b(v),
                fallback: b(f)
            })),
        ]
    })
}

proptest! {
    #[test]
    fn print_then_parse_gives_the_same_tree(e in arb_expr()) {
        let printed = e.to_string();
        let reparsed = parse(&printed).map_err(|err| TestCaseError::fail(format!("{printed}: {err}")))?;
        prop_assert_eq!(&reparsed, &e, "{}", printed);
        prop_assert_eq!(reparsed.span, Span { start: 0, end: printed.len() });
    }

    #[test]
    fn templates_never_panic(s in "\\PC{0,40}") {
        let r = root();
        let _ = evaluate_template(&s, &Context::new(&r));
        let _ = check_template_syntax(&format!("${{{s}}}"));
    }
}
