//! Property and example tests of the msgpack and JSON value codecs.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

fn arb_type() -> impl Strategy<Value = Type> {
    let leaf = prop_oneof![Just(Type::Bool), Just(Type::Number), Just(Type::String)];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            prop::collection::btree_map("[a-z_]{1,6}", inner.clone(), 0..4).prop_map(Type::Object),
            prop::collection::vec(inner, 0..3).prop_map(Type::Tuple),
        ]
    })
}

fn arb_number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| Number(f.to_string())),
        // Beyond i64 and f64 precision: kept as text.
        "-?[1-9][0-9]{19,40}(\\.[0-9]{1,20})?".prop_map(Number),
        "[0-9]\\.[0-9]{1,5}e-?[1-9][0-9]{0,2}".prop_map(Number),
    ]
}

/// A value of type `ty`, where `unknown` allows unknown values.
fn arb_value(ty: Type, unknown: bool) -> BoxedStrategy<Value> {
    let known: BoxedStrategy<Value> = match ty {
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Number => arb_number().prop_map(Value::Number).boxed(),
        Type::String => ".{0,12}".prop_map(Value::String).boxed(),
        Type::List(e) => prop::collection::vec(arb_value(*e, unknown), 0..4)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(e) => prop::collection::vec(arb_value(*e, unknown), 0..4)
            .prop_map(Value::Set)
            .boxed(),
        Type::Map(e) => prop::collection::btree_map(".{0,5}", arb_value(*e, unknown), 0..4)
            .prop_map(Value::Map)
            .boxed(),
        Type::Object(attrs) => {
            let parts: Vec<_> = attrs
                .into_iter()
                .map(|(k, t)| arb_value(t, unknown).prop_map(move |v| (k.clone(), v)))
                .collect();
            parts
                .prop_map(|kvs| Value::Object(kvs.into_iter().collect()))
                .boxed()
        }
        Type::Tuple(types) => {
            let parts: Vec<_> = types.into_iter().map(|t| arb_value(t, unknown)).collect();
            parts.prop_map(Value::Tuple).boxed()
        }
        Type::Dynamic => any::<bool>()
            .prop_map(|b| Value::Dynamic(Type::Bool, Box::new(Value::Bool(b))))
            .boxed(),
    };
    if unknown {
        prop_oneof![1 => Just(Value::Null), 1 => Just(Value::Unknown), 6 => known].boxed()
    } else {
        prop_oneof![1 => Just(Value::Null), 6 => known].boxed()
    }
}

fn typed(unknown: bool) -> impl Strategy<Value = (Type, Value)> {
    arb_type().prop_flat_map(move |t| (Just(t.clone()), arb_value(t, unknown)))
}

/// Wraps a typed value as a dynamic one, to exercise `[type, value]` pairs.
fn dynamic(unknown: bool) -> impl Strategy<Value = Value> {
    typed(unknown).prop_map(|(t, v)| match v {
        Value::Null | Value::Unknown => v,
        v => Value::Dynamic(t, Box::new(v)),
    })
}

proptest! {
    #[test]
    fn msgpack_round_trips((ty, value) in typed(true)) {
        let bytes = encode_msgpack(&value, &ty).unwrap();
        prop_assert_eq!(decode_msgpack(&bytes, &ty).unwrap(), value);
    }

    #[test]
    fn json_round_trips((ty, value) in typed(false)) {
        let bytes = encode_json(&value, &ty).unwrap();
        prop_assert_eq!(decode_json(&bytes, &ty).unwrap(), value);
    }

    #[test]
    fn dynamic_round_trips(value in dynamic(true)) {
        let bytes = encode_msgpack(&value, &Type::Dynamic).unwrap();
        prop_assert_eq!(decode_msgpack(&bytes, &Type::Dynamic).unwrap(), value);
    }

    #[test]
    fn dynamic_json_round_trips(value in dynamic(false)) {
        let bytes = encode_json(&value, &Type::Dynamic).unwrap();
        prop_assert_eq!(decode_json(&bytes, &Type::Dynamic).unwrap(), value);
    }

    #[test]
    fn null_and_unknown_never_confused(ty in arb_type()) {
        let null = encode_msgpack(&Value::Null, &ty).unwrap();
        let unknown = encode_msgpack(&Value::Unknown, &ty).unwrap();
        prop_assert_ne!(&null, &unknown);
        prop_assert_eq!(decode_msgpack(&null, &ty).unwrap(), Value::Null);
        prop_assert_eq!(decode_msgpack(&unknown, &ty).unwrap(), Value::Unknown);
        prop_assert!(encode_json(&Value::Unknown, &ty).is_err());
    }

    #[test]
    fn type_notation_round_trips(ty in arb_type()) {
        prop_assert_eq!(Type::from_json(&ty.to_json()).unwrap(), ty);
    }

    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64), ty in arb_type()) {
        let _ = decode_msgpack(&bytes, &ty);
        let _ = decode_json(&bytes, &ty);
    }
}

#[test]
fn refined_unknown_decodes_as_unknown() {
    // Terraform 1.6+ sends ext type 12 with refinements (here: not null).
    let bytes = [0xd4, 12, 0x81];
    assert_eq!(
        decode_msgpack(&bytes, &Type::String).unwrap(),
        Value::Unknown
    );
    let mut buf = Vec::new();
    rmpv::encode::write_value(&mut buf, &rmpv::Value::Ext(12, vec![0x81, 0x01, 0xc3])).unwrap();
    assert_eq!(
        decode_msgpack(&buf, &Type::list(Type::String)).unwrap(),
        Value::Unknown
    );
}

#[test]
fn big_numbers_keep_their_digits() {
    let n = "123456789012345678901234567890.000000000000000001";
    let v = Value::Number(Number::parse(n).unwrap());
    let mp = encode_msgpack(&v, &Type::Number).unwrap();
    assert_eq!(decode_msgpack(&mp, &Type::Number).unwrap(), v);
    let json = encode_json(&v, &Type::Number).unwrap();
    assert_eq!(std::str::from_utf8(&json).unwrap(), n);
    assert_eq!(decode_json(n.as_bytes(), &Type::Number).unwrap(), v);
}

#[test]
fn whole_numbers_use_native_msgpack_and_fractions_their_decimal_text() {
    let mp = encode_msgpack(&Value::Number(Number::from(7)), &Type::Number).unwrap();
    assert_eq!(mp, vec![7]);
    // A fraction goes as text (msgpack str: 0xa0 | len), which cty parses at full precision;
    // as a float64, 1.2 would reach Terraform as 1.19999… and fail its plan consistency check.
    for text in ["0.5", "1.2", "-3.75"] {
        let v = Value::Number(Number::parse(text).unwrap());
        let mp = encode_msgpack(&v, &Type::Number).unwrap();
        assert_eq!(mp.first(), Some(&(0xa0 | text.len() as u8)), "{text}");
        assert_eq!(&mp[1..], text.as_bytes());
        assert_eq!(decode_msgpack(&mp, &Type::Number).unwrap(), v);
    }
}

#[test]
fn object_missing_attributes_are_null_and_extras_rejected() {
    let ty = Type::Object(BTreeMap::from([
        ("a".into(), Type::String),
        ("b".into(), Type::Bool),
    ]));
    let v = decode_json(br#"{"a":"x"}"#, &ty).unwrap();
    assert_eq!(v.attr("b"), Some(&Value::Null));
    let err = decode_json(br#"{"a":"x","zz":1}"#, &ty).unwrap_err();
    assert!(err.to_string().contains("zz"), "{err}");
}

#[test]
fn mismatch_names_the_path() {
    let ty = Type::Object(BTreeMap::from([("tags".into(), Type::list(Type::String))]));
    let err = decode_json(br#"{"tags":["a",{}]}"#, &ty).unwrap_err();
    assert_eq!(err.to_string(), "at .tags[1]: expected string, got object");
}

#[test]
fn sets_compare_without_order() {
    let a = Value::Set(vec![Value::string("x"), Value::string("y")]);
    let b = Value::Set(vec![Value::string("y"), Value::string("x")]);
    assert!(a.same(&b));
    assert_ne!(a, b);
}
