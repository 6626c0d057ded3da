//! Property tests of the `filter` predicate language (issue 11): predicates from a small
//! grammar always parse; those, their random mutations and arbitrary text never panic in
//! the parser, the type check or the evaluation; and an evaluation agrees with the type
//! check the plan relied on (the filter stage reads the result as that type).

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use proptest::prelude::*;

use super::expr::Expr;

/// Four rows with a null in every column, extremes and multibyte text.
fn batch() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("n", DataType::Int64, true),
        Field::new("x", DataType::Float64, true),
        Field::new("s", DataType::Utf8, true),
        Field::new("b", DataType::Boolean, true),
        Field::new("odd name", DataType::Utf8, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![
            Some(1),
            None,
            Some(i64::MIN),
            Some(i64::MAX),
        ])),
        Arc::new(Float64Array::from(vec![
            Some(1.5),
            Some(f64::NAN),
            None,
            Some(-0.0),
        ])),
        Arc::new(StringArray::from(vec![
            Some("a"),
            None,
            Some("東京"),
            Some(""),
        ])),
        Arc::new(BooleanArray::from(vec![
            Some(true),
            None,
            Some(false),
            Some(true),
        ])),
        Arc::new(StringArray::from(vec![
            Some("x%"),
            Some("_"),
            None,
            Some("'"),
        ])),
    ];
    RecordBatch::try_new(schema, columns).unwrap()
}

/// Parses, checks and evaluates `text`; what must hold of any answer.
fn check(text: &str) -> Result<Result<(), String>, TestCaseError> {
    let expr = match Expr::parse(text) {
        Ok(e) => e,
        Err(e) => return Ok(Err(e)),
    };
    let batch = batch();
    let planned = expr.check(&batch.schema());
    let value = expr.eval(&batch);
    if let (Ok(ty), Ok(v)) = (&planned, &value) {
        prop_assert_eq!(
            v.data_type(),
            ty,
            "`{}` planned as {} evaluates to another type",
            text,
            ty
        );
    }
    if let Ok(v) = &value {
        prop_assert_eq!(v.len(), batch.num_rows());
    }
    Ok(value.map(|_| ()))
}

fn quote(s: &str, q: char) -> String {
    let doubled = s.replace(q, &format!("{q}{q}"));
    format!("{q}{doubled}{q}")
}

/// A value (the operand of a comparison): columns, literals, arithmetic, `length()`, and
/// parenthesised predicates.
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        prop::sample::select(vec![
            "n",
            "x",
            "s",
            "b",
            "\"odd name\"",
            "NULL",
            "TRUE",
            "false"
        ])
        .prop_map(str::to_string),
        any::<u64>().prop_map(|i| i.to_string()),
        (0f64..1e20).prop_map(|f| f.to_string()),
        prop::sample::select(vec!["0", "0.0", ".5", "1e3", "9223372036854775808"])
            .prop_map(str::to_string),
        "[a-z%_' 東]{0,5}".prop_map(|s| quote(&s, '\'')),
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(vec!["+", "-", "*", "/", "%"]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            inner.clone().prop_map(|a| format!("-{a}")),
            inner.clone().prop_map(|a| format!("length({a})")),
            inner.prop_map(|a| format!("({a})")),
        ]
    })
}

/// A predicate from the grammar of `expr.rs`'s header.
fn predicate() -> impl Strategy<Value = String> {
    let ops = vec!["=", "==", "!=", "<>", "<", "<=", ">", ">="];
    let not = || prop::sample::select(vec!["", "NOT "]);
    let leaf = prop_oneof![
        (value(), prop::sample::select(ops), value())
            .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
        (
            value(),
            prop::sample::select(vec!["IS NULL", "is not null"])
        )
            .prop_map(|(a, t)| format!("{a} {t}")),
        (value(), not(), "[a-z%_\\\\' 東]{0,6}")
            .prop_map(|(a, n, p)| format!("{a} {n}LIKE {}", quote(&p, '\''))),
        (value(), not(), prop::collection::vec(value(), 1..4))
            .prop_map(|(a, n, vs)| format!("{a} {n}IN ({})", vs.join(", "))),
        (value(), not(), value(), value())
            .prop_map(|(a, n, lo, hi)| format!("{a} {n}BETWEEN {lo} AND {hi}")),
        prop::sample::select(vec!["TRUE", "FALSE", "NULL", "b"]).prop_map(str::to_string),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(vec!["AND", "OR", "and", "Or"]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            inner.clone().prop_map(|a| format!("NOT {a}")),
            inner.prop_map(|a| format!("({a})")),
        ]
    })
}

/// A random edit of a predicate: text inserted, deleted or replaced at a char boundary.
fn mutate(text: &str, edits: &[(prop::sample::Index, usize, String)]) -> String {
    let mut t = text.to_string();
    for (at, del, ins) in edits {
        let mut start = at.index(t.len() + 1);
        while !t.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (start + del).min(t.len());
        while !t.is_char_boundary(end) {
            end -= 1;
        }
        t.replace_range(start..end, ins);
    }
    t
}

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "(",
            ")",
            "'",
            "\"",
            ",",
            "-",
            "NOT",
            " AND ",
            " OR ",
            "IS",
            "NULL",
            "IN",
            "LIKE",
            "BETWEEN",
            "length(",
            "9999999999999999999999",
            "1e",
            ".",
            "..",
            "東",
            "\u{0}",
        ])
        .prop_map(str::to_string),
        "[ -~]{0,3}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn fuzz_grammar_predicates_parse_and_evaluate_without_panic(p in predicate()) {
        if let Err(e) = Expr::parse(&p) {
            prop_assert!(false, "`{}` is in the grammar but: {}", p, e);
        }
        let _ = check(&p)?;
    }

    #[test]
    fn fuzz_mutated_predicates_never_panic(
        p in predicate(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0usize..4, piece()), 1..4),
    ) {
        let _ = check(&mutate(&p, &edits))?;
    }

    #[test]
    fn fuzz_arbitrary_text_never_panics_the_predicate_parser(text in any::<String>()) {
        let _ = check(&text)?;
    }
}

/// Deep nesting used to recurse once per level in the parser (and again in evaluation and
/// in dropping the tree), so a long enough predicate overflowed the stack: an abort that
/// takes the whole run down. Now it is an error.
#[test]
fn deeply_nested_predicate_is_an_error_not_a_stack_overflow() {
    let n = 100_000;
    for text in [
        format!("{}1{} = 1", "(".repeat(n), ")".repeat(n)),
        format!("{}TRUE", "NOT ".repeat(n)),
        format!("{}1 = 1", "-".repeat(n)),
        format!("{}s{} = 1", "length(".repeat(n), ")".repeat(n)),
        format!("n{} = 1", " + 1".repeat(n)),
        format!("n{} = 1", " * 2".repeat(n)),
    ] {
        let e = Expr::parse(&text).unwrap_err();
        assert!(e.contains("levels deep"), "{}: {e}", &text[..20]);
    }
}

/// Long `AND`/`OR` chains and `IN` lists were left-deep trees, one level per term: a
/// generated `IN` list of a few thousand values overflowed the stack when evaluated.
#[test]
fn long_in_list_and_or_chain_evaluate_without_deep_recursion() {
    let values: Vec<String> = (0..100_000).map(|i| i.to_string()).collect();
    let batch = batch();
    let in_list = Expr::parse(&format!("n IN ({})", values.join(", "))).unwrap();
    let got = in_list.eval(&batch).unwrap();
    let want = BooleanArray::from(vec![Some(true), None, Some(false), Some(false)]);
    assert_eq!(got.as_ref(), &want as &dyn arrow::array::Array);
    let chain = Expr::parse(&vec!["n = 1"; 100_000].join(" OR ")).unwrap();
    assert_eq!(
        chain.eval(&batch).unwrap().as_ref(),
        &want as &dyn arrow::array::Array
    );
}

/// Up to the limit, nesting parses and evaluates on an ordinary 2 MiB thread stack (debug
/// builds use the most stack per level).
#[test]
fn nesting_up_to_the_limit_parses_and_evaluates() {
    let d = super::expr::MAX_DEPTH;
    let batch = batch();
    for text in [
        format!("{}n{} = 1", "(".repeat(d), ")".repeat(d)),
        format!("{}b", "NOT ".repeat(d)),
        // Floats: `-n` and `n + 1` overflow on this batch's extreme integers.
        format!("{}x = 1", "-".repeat(d)),
        format!("x{} > 0", " + 1".repeat(d)),
    ] {
        let e = Expr::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", &text[..20]));
        e.eval(&batch).unwrap();
    }
    let one_more = format!("{}n{} = 1", "(".repeat(d + 1), ")".repeat(d + 1));
    assert!(Expr::parse(&one_more).is_err());
}
