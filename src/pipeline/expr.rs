//! SQL predicates for the `filter` stage: a small expression language evaluated with Arrow's
//! compute kernels. Columns, numbers, 'strings', TRUE/FALSE/NULL; `= != <> < <= > >=`,
//! `+ - * / %`, `AND OR NOT`, `IS [NOT] NULL`, `[NOT] IN (...)`, `[NOT] LIKE '...'`,
//! `[NOT] BETWEEN a AND b`, `length(x)`. SQL's three-valued logic; a NULL verdict drops the row.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Datum, Float64Array, Int64Array, NullArray, RecordBatch, Scalar,
    StringArray,
};
use arrow::compute::kernels::{cmp, numeric};
use arrow::compute::{and_kleene, cast, is_not_null, is_null, not, or_kleene};
use arrow::datatypes::DataType;

#[derive(Debug, Clone)]
pub enum Expr {
    Column(String),
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Null,
    Not(Box<Expr>),
    Neg(Box<Expr>),
    IsNull(Box<Expr>, bool),
    Like(Box<Expr>, String, bool),
    Bin(Box<Expr>, Op, Box<Expr>),
    Length(Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    And,
    Or,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Quoted(String),
    Str(String),
    Num(String),
    Sym(&'static str),
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let b: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || (c == '.' && b.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let st = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == '.') {
                i += 1;
            }
            out.push(Tok::Num(b[st..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' {
            let st = i;
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(b[st..i].iter().collect()));
        } else if c == '\'' || c == '"' {
            let mut v = String::new();
            i += 1;
            loop {
                match b.get(i) {
                    None => return Err(format!("unterminated {c}...{c} in `{s}`")),
                    Some(&q) if q == c && b.get(i + 1) == Some(&c) => {
                        v.push(c);
                        i += 2;
                    }
                    Some(&q) if q == c => {
                        i += 1;
                        break;
                    }
                    Some(&q) => {
                        v.push(q);
                        i += 1;
                    }
                }
            }
            out.push(if c == '\'' {
                Tok::Str(v)
            } else {
                Tok::Quoted(v)
            });
        } else {
            let two: String = b[i..(i + 2).min(b.len())].iter().collect();
            let sym = ["<=", ">=", "<>", "!=", "=="]
                .into_iter()
                .find(|s| *s == two)
                .or_else(|| {
                    ["=", "<", ">", "+", "-", "*", "/", "%", "(", ")", ","]
                        .into_iter()
                        .find(|s| s.starts_with(c))
                })
                .ok_or_else(|| format!("unexpected `{c}` in `{s}`"))?;
            i += sym.len();
            out.push(Tok::Sym(sym));
        }
    }
    Ok(out)
}

/// How deep a predicate may nest: parentheses, `NOT`, unary minus, `length()` and chained
/// arithmetic each add a level. Parsing and evaluation recurse once per level, so without a
/// bound a long enough predicate would overflow the stack, an abort rather than an error.
/// (`AND`/`OR` chains and `IN` lists add no depth: they are built as balanced trees.)
pub const MAX_DEPTH: usize = 128;

fn too_deep() -> String {
    format!("the predicate nests more than {MAX_DEPTH} levels deep")
}

/// `a op b op c ...` as a balanced tree, log₂ n deep rather than n: `AND` and `OR` are
/// associative (in three-valued logic too), so a long chain or `IN` list evaluates the same
/// without deep recursion. No terms is the operator's identity.
fn balanced(mut terms: Vec<Expr>, op: Op) -> Expr {
    while terms.len() > 1 {
        let mut pairs = Vec::with_capacity(terms.len().div_ceil(2));
        let mut it = terms.into_iter();
        while let Some(a) = it.next() {
            pairs.push(match it.next() {
                Some(b) => Expr::Bin(Box::new(a), op, Box::new(b)),
                None => a,
            });
        }
        terms = pairs;
    }
    terms.pop().unwrap_or(Expr::Bool(op == Op::And))
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
    /// Levels of nesting around the token being parsed.
    depth: usize,
}

impl Parser {
    /// Parses with `f` one level deeper, refusing to pass `MAX_DEPTH`.
    fn nested(&mut self, f: fn(&mut Self) -> Result<Expr, String>) -> Result<Expr, String> {
        if self.depth >= MAX_DEPTH {
            return Err(too_deep());
        }
        self.depth += 1;
        let e = f(self);
        self.depth -= 1;
        e
    }
    fn peek_kw(&self, kw: &str) -> bool {
        matches!(self.toks.get(self.at), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(kw))
    }
    fn kw(&mut self, kw: &str) -> bool {
        let yes = self.peek_kw(kw);
        self.at += yes as usize;
        yes
    }
    fn sym(&mut self, s: &str) -> bool {
        let yes = matches!(self.toks.get(self.at), Some(Tok::Sym(x)) if *x == s);
        self.at += yes as usize;
        yes
    }
    fn expect(&mut self, s: &str) -> Result<(), String> {
        if self.sym(s) {
            Ok(())
        } else {
            Err(format!("expected `{s}` at token {}", self.at + 1))
        }
    }
    fn or(&mut self) -> Result<Expr, String> {
        let mut terms = vec![self.and()?];
        while self.kw("or") {
            terms.push(self.and()?);
        }
        Ok(balanced(terms, Op::Or))
    }
    fn and(&mut self) -> Result<Expr, String> {
        let mut terms = vec![self.not()?];
        while self.kw("and") {
            terms.push(self.not()?);
        }
        Ok(balanced(terms, Op::And))
    }
    fn not(&mut self) -> Result<Expr, String> {
        if self.kw("not") {
            return Ok(Expr::Not(Box::new(self.nested(Self::not)?)));
        }
        self.cmp()
    }
    fn cmp(&mut self) -> Result<Expr, String> {
        let left = self.add()?;
        if self.kw("is") {
            let negated = self.kw("not");
            if !self.kw("null") {
                return Err("expected NULL after IS".into());
            }
            return Ok(Expr::IsNull(Box::new(left), negated));
        }
        let negated = self.kw("not");
        if self.kw("like") {
            let Some(Tok::Str(p)) = self.toks.get(self.at).cloned() else {
                return Err("LIKE needs a 'pattern'".into());
            };
            self.at += 1;
            return Ok(Expr::Like(Box::new(left), p, negated));
        }
        if self.kw("in") {
            self.expect("(")?;
            let mut items = Vec::new();
            loop {
                items.push(Expr::Bin(
                    Box::new(left.clone()),
                    Op::Eq,
                    Box::new(self.add()?),
                ));
                if !self.sym(",") {
                    break;
                }
            }
            self.expect(")")?;
            let e = balanced(items, Op::Or);
            return Ok(if negated { Expr::Not(Box::new(e)) } else { e });
        }
        if self.kw("between") {
            let lo = self.add()?;
            if !self.kw("and") {
                return Err("BETWEEN needs AND".into());
            }
            let hi = self.add()?;
            let e = Expr::Bin(
                Box::new(Expr::Bin(Box::new(left.clone()), Op::Ge, Box::new(lo))),
                Op::And,
                Box::new(Expr::Bin(Box::new(left), Op::Le, Box::new(hi))),
            );
            return Ok(if negated { Expr::Not(Box::new(e)) } else { e });
        }
        if negated {
            return Err("expected LIKE, IN or BETWEEN after NOT".into());
        }
        let op = [
            ("=", Op::Eq),
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<>", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("<", Op::Lt),
            (">", Op::Gt),
        ]
        .into_iter()
        .find(|(s, _)| self.sym(s));
        match op {
            Some((_, op)) => Ok(Expr::Bin(Box::new(left), op, Box::new(self.add()?))),
            None => Ok(left),
        }
    }
    /// A left-associative chain (`a - b - c` is `(a - b) - c`, so it cannot be balanced):
    /// each operator makes the tree a level deeper, and counts against `MAX_DEPTH`.
    fn chain(
        &mut self,
        operand: fn(&mut Self) -> Result<Expr, String>,
        ops: &[(&str, Op)],
    ) -> Result<Expr, String> {
        let base = self.depth;
        let mut e = operand(self);
        while let Ok(left) = e {
            let Some(&(_, op)) = ops.iter().find(|(s, _)| self.sym(s)) else {
                e = Ok(left);
                break;
            };
            e = if self.depth >= MAX_DEPTH {
                Err(too_deep())
            } else {
                self.depth += 1;
                operand(self).map(|right| Expr::Bin(Box::new(left), op, Box::new(right)))
            };
        }
        self.depth = base;
        e
    }
    fn add(&mut self) -> Result<Expr, String> {
        self.chain(Self::mul, &[("+", Op::Add), ("-", Op::Sub)])
    }
    fn mul(&mut self) -> Result<Expr, String> {
        self.chain(
            Self::unary,
            &[("*", Op::Mul), ("/", Op::Div), ("%", Op::Rem)],
        )
    }
    fn unary(&mut self) -> Result<Expr, String> {
        if self.sym("-") {
            return Ok(Expr::Neg(Box::new(self.nested(Self::unary)?)));
        }
        let tok = self.toks.get(self.at).cloned().ok_or("unexpected end")?;
        self.at += 1;
        Ok(match tok {
            Tok::Num(n) => match n.parse::<i64>() {
                Ok(i) => Expr::Int(i),
                Err(_) => Expr::Float(n.parse().map_err(|_| format!("bad number `{n}`"))?),
            },
            Tok::Str(s) => Expr::Str(s),
            Tok::Quoted(c) => Expr::Column(c),
            Tok::Sym("(") => {
                let e = self.nested(Self::or)?;
                self.expect(")")?;
                e
            }
            Tok::Ident(w) if w.eq_ignore_ascii_case("true") => Expr::Bool(true),
            Tok::Ident(w) if w.eq_ignore_ascii_case("false") => Expr::Bool(false),
            Tok::Ident(w) if w.eq_ignore_ascii_case("null") => Expr::Null,
            Tok::Ident(w) if self.sym("(") => {
                if !w.eq_ignore_ascii_case("length") {
                    return Err(format!("unknown function `{w}` (known: length)"));
                }
                let e = self.nested(Self::or)?;
                self.expect(")")?;
                Expr::Length(Box::new(e))
            }
            Tok::Ident(w) => Expr::Column(w),
            Tok::Sym(s) => return Err(format!("unexpected `{s}`")),
        })
    }
}

/// A value: a column-length array, or a scalar (an array of one).
enum Val {
    Arr(ArrayRef),
    One(ArrayRef),
}

impl Val {
    fn array(&self) -> &ArrayRef {
        match self {
            Val::Arr(a) | Val::One(a) => a,
        }
    }
    fn datum(&self) -> Box<dyn Datum + '_> {
        match self {
            Val::Arr(a) => Box::new(a),
            Val::One(a) => Box::new(Scalar::new(a.clone())),
        }
    }
    fn map(self, f: impl FnOnce(&ArrayRef) -> Result<ArrayRef, String>) -> Result<Val, String> {
        Ok(match self {
            Val::Arr(a) => Val::Arr(f(&a)?),
            Val::One(a) => Val::One(f(&a)?),
        })
    }
}

fn numeric_rank(t: &DataType) -> Option<u8> {
    match t {
        t if t.is_integer() => Some(1),
        t if t.is_floating() => Some(2),
        DataType::Decimal128(_, _) | DataType::Decimal256(_, _) => Some(2),
        _ => None,
    }
}

/// The type both sides of a comparison or arithmetic are cast to.
fn common(a: &DataType, b: &DataType) -> Result<DataType, String> {
    if a == b {
        return Ok(a.clone());
    }
    match (a, b, numeric_rank(a), numeric_rank(b)) {
        (DataType::Null, t, _, _) | (t, DataType::Null, _, _) => Ok(t.clone()),
        (_, _, Some(x), Some(y)) => Ok(if x.max(y) == 1 {
            DataType::Int64
        } else {
            DataType::Float64
        }),
        (x, y, _, _) if is_text(x) && is_text(y) => Ok(DataType::Utf8),
        (x, y, _, _) if is_text(x) || is_text(y) => {
            Ok(if is_text(x) { y.clone() } else { x.clone() })
        }
        _ => Err(format!("cannot compare {a} with {b}")),
    }
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl Expr {
    pub fn parse(text: &str) -> Result<Expr, String> {
        let mut p = Parser {
            toks: lex(text)?,
            at: 0,
            depth: 0,
        };
        let e = p.or().map_err(|e| format!("cannot parse `{text}`: {e}"))?;
        if p.at != p.toks.len() {
            return Err(format!(
                "cannot parse `{text}`: unexpected {:?} at token {}",
                p.toks[p.at],
                p.at + 1
            ));
        }
        Ok(e)
    }

    /// The type of the expression over `schema` (an error names a missing column).
    pub fn check(&self, schema: &arrow::datatypes::SchemaRef) -> Result<DataType, String> {
        let empty = RecordBatch::new_empty(schema.clone());
        Ok(self.eval(&empty)?.data_type().clone())
    }

    /// Evaluates over every row of `batch`.
    pub fn eval(&self, batch: &RecordBatch) -> Result<ArrayRef, String> {
        Ok(match self.val(batch)? {
            Val::Arr(a) => a,
            Val::One(a) => {
                let idx = arrow::array::UInt32Array::from(vec![0u32; batch.num_rows()]);
                arrow::compute::take(a.as_ref(), &idx, None).map_err(err)?
            }
        })
    }

    fn val(&self, batch: &RecordBatch) -> Result<Val, String> {
        Ok(match self {
            Expr::Column(c) => {
                let schema = batch.schema();
                let i = schema.index_of(c).map_err(|_| {
                    format!("no column `{c}` (columns: {})", super::column_list(&schema))
                })?;
                Val::Arr(batch.column(i).clone())
            }
            Expr::Int(i) => Val::One(Arc::new(Int64Array::from(vec![*i]))),
            Expr::Float(f) => Val::One(Arc::new(Float64Array::from(vec![*f]))),
            Expr::Str(s) => Val::One(Arc::new(StringArray::from(vec![s.as_str()]))),
            Expr::Bool(b) => Val::One(Arc::new(BooleanArray::from(vec![*b]))),
            Expr::Null => Val::One(Arc::new(NullArray::new(1))),
            Expr::Not(e) => self_bool(e.val(batch)?)?.map(|a| {
                Ok(
                    Arc::new(not(a.as_any().downcast_ref::<BooleanArray>().unwrap()).map_err(err)?)
                        as ArrayRef,
                )
            })?,
            Expr::Neg(e) => {
                let v = e.val(batch)?;
                let zero = Val::One(Arc::new(Int64Array::from(vec![0])));
                arith(zero, Op::Sub, v)?
            }
            Expr::IsNull(e, negated) => e.val(batch)?.map(|a| {
                let r = if *negated { is_not_null(a) } else { is_null(a) };
                Ok(Arc::new(r.map_err(err)?) as ArrayRef)
            })?,
            Expr::Length(e) => e.val(batch)?.map(|a| {
                if !is_text(a.data_type()) {
                    return Err(format!("length() takes text, not {}", a.data_type()));
                }
                arrow::compute::kernels::length::length(a).map_err(err)
            })?,
            Expr::Like(e, pattern, negated) => {
                let v = e.val(batch)?;
                if !is_text(v.array().data_type()) {
                    return Err(format!("LIKE takes text, not {}", v.array().data_type()));
                }
                let v = v.map(|a| cast(a, &DataType::Utf8).map_err(err))?;
                let pat = Scalar::new(StringArray::from(vec![pattern.as_str()]));
                let is_one = matches!(v, Val::One(_));
                let r = if *negated {
                    arrow::compute::kernels::comparison::nlike(v.datum().as_ref(), &pat)
                } else {
                    arrow::compute::kernels::comparison::like(v.datum().as_ref(), &pat)
                }
                .map_err(err)?;
                let r: ArrayRef = Arc::new(r);
                if is_one {
                    Val::One(r)
                } else {
                    Val::Arr(r)
                }
            }
            Expr::Bin(l, op, r) => {
                let (l, r) = (l.val(batch)?, r.val(batch)?);
                match op {
                    Op::And | Op::Or => {
                        let (l, r) = (self_bool(l)?, self_bool(r)?);
                        let one = matches!((&l, &r), (Val::One(_), Val::One(_)));
                        let n = if one { 1 } else { batch.num_rows() };
                        let (la, ra) = (broadcast(&l, n)?, broadcast(&r, n)?);
                        let (la, ra) = (
                            la.as_any().downcast_ref::<BooleanArray>().unwrap(),
                            ra.as_any().downcast_ref::<BooleanArray>().unwrap(),
                        );
                        let out = if *op == Op::And {
                            and_kleene(la, ra)
                        } else {
                            or_kleene(la, ra)
                        }
                        .map_err(err)?;
                        if one {
                            Val::One(Arc::new(out))
                        } else {
                            Val::Arr(Arc::new(out))
                        }
                    }
                    Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Rem => arith(l, *op, r)?,
                    _ => compare(l, *op, r)?,
                }
            }
        })
    }
}

fn broadcast(v: &Val, n: usize) -> Result<ArrayRef, String> {
    match v {
        Val::Arr(a) => Ok(a.clone()),
        Val::One(a) => {
            let idx = arrow::array::UInt32Array::from(vec![0u32; n]);
            arrow::compute::take(a.as_ref(), &idx, None).map_err(err)
        }
    }
}

fn self_bool(v: Val) -> Result<Val, String> {
    match v.array().data_type() {
        DataType::Boolean => Ok(v),
        DataType::Null => v.map(|a| cast(a, &DataType::Boolean).map_err(err)),
        t => Err(format!("expected a condition, found a value of type {t}")),
    }
}

fn coerce(l: Val, r: Val) -> Result<(Val, Val), String> {
    let t = common(l.array().data_type(), r.array().data_type())?;
    let to = |v: Val| {
        v.map(|a| {
            if a.data_type() == &t {
                Ok(a.clone())
            } else {
                cast(a, &t).map_err(err)
            }
        })
    };
    Ok((to(l)?, to(r)?))
}

fn wrap(l: &Val, r: &Val, out: ArrayRef) -> Val {
    if matches!((l, r), (Val::One(_), Val::One(_))) {
        Val::One(out)
    } else {
        Val::Arr(out)
    }
}

fn arith(l: Val, op: Op, r: Val) -> Result<Val, String> {
    for v in [&l, &r] {
        let t = v.array().data_type();
        if numeric_rank(t).is_none() && t != &DataType::Null {
            return Err(format!("arithmetic needs numbers, not {t}"));
        }
    }
    let (l, r) = coerce(l, r)?;
    let (ld, rd) = (l.datum(), r.datum());
    let (ld, rd) = (ld.as_ref(), rd.as_ref());
    let out = match op {
        Op::Add => numeric::add(ld, rd),
        Op::Sub => numeric::sub(ld, rd),
        Op::Mul => numeric::mul(ld, rd),
        Op::Div => numeric::div(ld, rd),
        _ => numeric::rem(ld, rd),
    }
    .map_err(err)?;
    Ok(wrap(&l, &r, out))
}

fn compare(l: Val, op: Op, r: Val) -> Result<Val, String> {
    let (l, r) = coerce(l, r)?;
    let (ld, rd) = (l.datum(), r.datum());
    let (ld, rd) = (ld.as_ref(), rd.as_ref());
    let out = match op {
        Op::Eq => cmp::eq(ld, rd),
        Op::Ne => cmp::neq(ld, rd),
        Op::Lt => cmp::lt(ld, rd),
        Op::Le => cmp::lt_eq(ld, rd),
        Op::Gt => cmp::gt(ld, rd),
        _ => cmp::gt_eq(ld, rd),
    }
    .map_err(err)?;
    Ok(wrap(&l, &r, Arc::new(out)))
}
