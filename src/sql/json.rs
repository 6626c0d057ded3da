//! `from_json(text, 'TYPE')`: JSON text to a typed value, the way polars' `json_decode` takes
//! a dtype. The type is SQL (`'STRUCT<user VARCHAR, n BIGINT>'`, `'BIGINT[]'`), turned into
//! an Arrow type by DataFusion's own planner; the text is decoded by arrow-json's decoder,
//! the one Disco's NDJSON reader uses, so a value is read only when it fits the type (no
//! coercion): anything else is an error naming the row. `NULL` text gives `NULL`.
//!
//! `from_json(payload, 'STRUCT<user VARCHAR>').user` or `['user']` reads a typed field.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use arrow::array::{Array, ArrayRef};
use arrow::datatypes::{DataType, Field, FieldRef, Schema};
use arrow::json::ReaderBuilder;
use datafusion::common::{exec_err, internal_err, plan_err, DFSchema, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ExprSchemable, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion::prelude::SessionContext;

use crate::pipeline::text_values;

/// The UDF.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FromJson {
    signature: Signature,
}

impl FromJson {
    pub fn new() -> FromJson {
        FromJson {
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

impl Default for FromJson {
    fn default() -> Self {
        FromJson::new()
    }
}

/// A SQL type's Arrow type, planned as `CAST(NULL AS <ty>)` (cached: planning builds a
/// session).
fn sql_type(ty: &str) -> Result<DataType> {
    static TYPES: OnceLock<Mutex<HashMap<String, DataType>>> = OnceLock::new();
    let cache = TYPES.get_or_init(Default::default);
    if let Some(t) = cache.lock().map_err(|_| poisoned())?.get(ty) {
        return Ok(t.clone());
    }
    let empty = DFSchema::empty();
    let expr = SessionContext::new()
        .state()
        .create_logical_expr(&format!("CAST(NULL AS {ty})"), &empty)?;
    let t = expr.get_type(&empty)?;
    cache
        .lock()
        .map_err(|_| poisoned())?
        .insert(ty.to_string(), t.clone());
    Ok(t)
}

fn poisoned() -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::Internal("from_json: type cache poisoned".into())
}

impl ScalarUDFImpl for FromJson {
    fn name(&self) -> &str {
        "from_json"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        internal_err!("from_json: the type comes from its second argument")
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        if !matches!(
            args.arg_fields[0].data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
        ) {
            return plan_err!(
                "from_json takes JSON text, not {}",
                args.arg_fields[0].data_type()
            );
        }
        let ty = match args.scalar_arguments.get(1) {
            Some(Some(
                ScalarValue::Utf8(Some(s))
                | ScalarValue::LargeUtf8(Some(s))
                | ScalarValue::Utf8View(Some(s)),
            )) => s,
            _ => {
                return plan_err!(
                    "from_json's second argument is the type, as a string: \
                     'STRUCT<user VARCHAR, n BIGINT>'"
                )
            }
        };
        Ok(Arc::new(Field::new("from_json", sql_type(ty)?, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let text = args.args[0].clone().into_array(args.number_rows)?;
        let out = decode(text.as_ref(), args.return_type())?;
        Ok(ColumnarValue::Array(out))
    }
}

/// Decodes each row's text as a value of `ty`: every row is wrapped as `{"v": <text>}`, so a
/// row holding anything but one JSON value is a syntax error, and rows stay aligned.
fn decode(text: &dyn Array, ty: &DataType) -> Result<ArrayRef> {
    let rows = text_values(text);
    let schema = Arc::new(Schema::new(vec![Field::new("v", ty.clone(), true)]));
    let wrapped = |t: Option<&str>| format!("{{\"v\":{}}}\n", t.unwrap_or("null"));
    let run = |rows: &[Option<&str>]| -> std::result::Result<ArrayRef, arrow::error::ArrowError> {
        let mut d = ReaderBuilder::new(schema.clone())
            .with_batch_size(rows.len().max(1))
            .build_decoder()?;
        for t in rows {
            let line = wrapped(*t);
            let mut buf = line.as_bytes();
            while !buf.is_empty() {
                let n = d.decode(buf)?;
                if n == 0 {
                    break;
                }
                buf = &buf[n..];
            }
        }
        match d.flush()? {
            Some(b) => Ok(b.column(0).clone()),
            None => Ok(arrow::array::new_empty_array(ty)),
        }
    };
    match run(&rows) {
        Ok(a) if a.len() == rows.len() => Ok(a),
        Ok(a) => exec_err!("from_json: {} rows gave {} values", rows.len(), a.len()),
        Err(e) => {
            // Which row: decode them one at a time.
            for (i, t) in rows.iter().enumerate() {
                if let Err(e) = run(std::slice::from_ref(t)) {
                    let t = t.unwrap_or_default();
                    let shown: String = t.chars().take(80).collect();
                    return exec_err!("from_json: row {i} `{shown}` is not {ty}: {e}");
                }
            }
            exec_err!("from_json: {e}")
        }
    }
}
