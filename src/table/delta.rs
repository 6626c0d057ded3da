//! Delta Lake tables, written with our own log writer (protocol 1/2: append, overwrite,
//! partition columns, application transactions). Data files are written first under unique
//! names; a commit is one `_delta_log/NNNNNNNNNNNNNNNNNNNN.json` created with put-if-absent,
//! so a commit is atomic and two writers never take the same version (the loser re-reads the
//! log and retries). A `txn` action in the same commit records the last input part done per
//! application id: that is what resuming after a crash reads.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use anyhow::{anyhow, bail, Result};
use arrow::array::{Array, ArrayRef, RecordBatch};
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use serde_json::{json, Value};

use crate::volume::{ListOptions, Volume};

/// What the log says.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The latest version, `None` for no table.
    pub version: Option<u64>,
    pub schema: Option<Value>,
    pub partition_columns: Vec<String>,
    pub files: BTreeSet<String>,
    pub txns: BTreeMap<String, i64>,
}

fn log_path(base: &str, version: u64) -> String {
    join(base, &format!("_delta_log/{version:020}.json"))
}

pub(crate) fn join(base: &str, rel: &str) -> String {
    if base.is_empty() {
        rel.to_string()
    } else {
        format!("{}/{rel}", base.trim_end_matches('/'))
    }
}

/// Brings `snap` up to the latest version of the table at `base`, reading only the commits it
/// has not seen (JSON commits; a table whose early commits were removed after a checkpoint is
/// refused rather than misread).
pub fn update(volume: &Volume, base: &str, snap: &mut Snapshot) -> Result<()> {
    let log_dir = join(base, "_delta_log");
    let opts = ListOptions {
        ignore_files: false,
        hidden: true,
        ..Default::default()
    };
    let entries = match volume.list(&log_dir, &opts) {
        Ok(e) => e,
        Err(crate::volume::VolumeError::NotFound { .. }) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let mut versions: Vec<u64> = entries
        .iter()
        .filter_map(|e| {
            let name = e.path.rsplit('/').next()?;
            let v = name.strip_suffix(".json")?;
            (v.len() == 20).then(|| v.parse().ok()).flatten()
        })
        .collect();
    versions.sort();
    if snap.version.is_none() && versions.first().is_some_and(|v| *v != 0) {
        bail!(
            "{log_dir}: commits before version {} were removed after a checkpoint; \
             reading checkpoints is not supported",
            versions[0]
        );
    }
    let seen = snap.version;
    for v in versions.into_iter().filter(|v| seen.is_none_or(|s| *v > s)) {
        let bytes = volume.read(&log_path(base, v), 1 << 30)?.bytes;
        for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let action: Value = serde_json::from_slice(line)
                .map_err(|e| anyhow!("{}: bad action: {e}", log_path(base, v)))?;
            apply(snap, &action);
        }
        snap.version = Some(v);
    }
    Ok(())
}

fn apply(snap: &mut Snapshot, action: &Value) {
    if let Some(m) = action.get("metaData") {
        snap.schema = m["schemaString"]
            .as_str()
            .and_then(|s| serde_json::from_str(s).ok());
        snap.partition_columns = m["partitionColumns"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
    } else if let Some(a) = action.get("add") {
        if let Some(p) = a["path"].as_str() {
            snap.files.insert(p.to_string());
        }
    } else if let Some(r) = action.get("remove") {
        if let Some(p) = r["path"].as_str() {
            snap.files.remove(p);
        }
    } else if let Some(t) = action.get("txn") {
        if let (Some(app), Some(ver)) = (t["appId"].as_str(), t["version"].as_i64()) {
            snap.txns.insert(app.to_string(), ver);
        }
    }
}

/// Arrow types Delta has no name for, cast to ones it has (unsigned → wider signed, fixed
/// lists → lists, large/view text → text, naive timestamps → UTC microseconds).
pub fn delta_type(t: &DataType) -> DataType {
    match t {
        DataType::UInt8 => DataType::Int16,
        DataType::UInt16 => DataType::Int32,
        DataType::UInt32 | DataType::UInt64 => DataType::Int64,
        DataType::Float16 => DataType::Float32,
        DataType::LargeUtf8 | DataType::Utf8View => DataType::Utf8,
        DataType::LargeBinary | DataType::BinaryView => DataType::Binary,
        DataType::Timestamp(_, _) | DataType::Date64 => {
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        }
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            DataType::List(Arc::new(Field::new(
                "element",
                delta_type(f.data_type()),
                true,
            )))
        }
        DataType::Struct(fields) => DataType::Struct(
            fields
                .iter()
                .map(|f| Field::new(f.name(), delta_type(f.data_type()), true))
                .collect::<Fields>(),
        ),
        DataType::Null => DataType::Utf8,
        other => other.clone(),
    }
}

/// The schema data files are written in (every column nullable, as Delta readers expect).
pub fn delta_schema(schema: &SchemaRef) -> SchemaRef {
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), delta_type(f.data_type()), true))
            .collect::<Vec<_>>(),
    ))
}

/// Casts a batch to [`delta_schema`].
pub fn to_delta(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let cols: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| {
            if c.data_type() == f.data_type() {
                Ok(c.clone())
            } else {
                arrow::compute::cast(c, f.data_type())
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(RecordBatch::try_new(schema.clone(), cols)?)
}

fn type_json(t: &DataType) -> Result<Value> {
    Ok(match t {
        DataType::Utf8 => json!("string"),
        DataType::Int64 => json!("long"),
        DataType::Int32 => json!("integer"),
        DataType::Int16 => json!("short"),
        DataType::Int8 => json!("byte"),
        DataType::Float64 => json!("double"),
        DataType::Float32 => json!("float"),
        DataType::Boolean => json!("boolean"),
        DataType::Binary => json!("binary"),
        DataType::Date32 => json!("date"),
        DataType::Timestamp(_, Some(_)) => json!("timestamp"),
        DataType::Decimal128(p, s) => json!(format!("decimal({p},{s})")),
        DataType::List(f) => json!({
            "type": "array", "elementType": type_json(f.data_type())?, "containsNull": true
        }),
        DataType::Struct(fields) => json!({"type": "struct", "fields": fields_json(fields)?}),
        other => bail!("Delta Lake has no type for {other}"),
    })
}

fn fields_json(fields: &Fields) -> Result<Vec<Value>> {
    fields
        .iter()
        .map(|f| {
            Ok(json!({"name": f.name(), "type": type_json(f.data_type())?, "nullable": true, "metadata": {}}))
        })
        .collect()
}

/// The `schemaString` of a (delta-cast) Arrow schema.
pub fn schema_json(schema: &SchemaRef) -> Result<Value> {
    Ok(json!({"type": "struct", "fields": fields_json(schema.fields())?}))
}

/// A partition value as Delta writes it (`null` for a null).
pub fn partition_value(a: &dyn Array, row: usize) -> Option<String> {
    if a.is_null(row) {
        return None;
    }
    let f = arrow::util::display::ArrayFormatter::try_new(a, &Default::default()).ok()?;
    Some(f.value(row).to_string())
}

/// Escapes a partition value for a path segment.
pub fn escape(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One data file of a commit.
#[derive(Debug, Clone)]
pub struct AddFile {
    pub path: String,
    pub partition_values: BTreeMap<String, Option<String>>,
    pub size: u64,
    pub rows: u64,
}

/// What one commit does.
pub struct Commit<'a> {
    pub schema: &'a SchemaRef,
    pub partition_columns: &'a [String],
    pub adds: Vec<AddFile>,
    pub overwrite: bool,
    pub txn: Option<(String, i64)>,
    pub operation: &'a str,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Commits, retrying on a lost race. Returns the version written, or `None` when the
/// transaction was already committed (by an earlier run or another writer).
pub fn commit(volume: &Volume, base: &str, snap: &mut Snapshot, c: &Commit) -> Result<Option<u64>> {
    let schema_value = schema_json(c.schema)?;
    for _attempt in 0..100 {
        update(volume, base, snap)?;
        if let Some((app, ver)) = &c.txn {
            if snap.txns.get(app).is_some_and(|done| done >= ver) {
                return Ok(None);
            }
        }
        let version = snap.version.map_or(0, |v| v + 1);
        let ts = now_ms();
        let mut lines: Vec<Value> = Vec::new();
        let new_table = snap.version.is_none();
        if let (Some(old), false) = (&snap.schema, new_table || c.overwrite) {
            if *old != schema_value {
                bail!(
                    "the table's schema differs from the pipeline's output (use overwrite)\n  table: {old}\n  output: {schema_value}"
                );
            }
            if snap.partition_columns != c.partition_columns {
                bail!(
                    "the table is partitioned by {:?}, the output by {:?}",
                    snap.partition_columns,
                    c.partition_columns
                );
            }
        }
        lines.push(json!({"commitInfo": {
            "timestamp": ts, "operation": c.operation, "engineInfo": concat!("disco/", env!("CARGO_PKG_VERSION")),
            "operationParameters": {"mode": if c.overwrite { "Overwrite" } else { "Append" }},
        }}));
        if new_table {
            lines.push(json!({"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}}));
        }
        if new_table
            || (c.overwrite && snap.schema.as_ref() != Some(&schema_value))
            || (c.overwrite && snap.partition_columns != c.partition_columns)
        {
            lines.push(json!({"metaData": {
                "id": uuid::Uuid::new_v4().to_string(),
                "format": {"provider": "parquet", "options": {}},
                "schemaString": schema_value.to_string(),
                "partitionColumns": c.partition_columns,
                "configuration": {},
                "createdTime": ts,
            }}));
        }
        if c.overwrite {
            for f in &snap.files {
                lines.push(
                    json!({"remove": {"path": f, "deletionTimestamp": ts, "dataChange": true}}),
                );
            }
        }
        for a in &c.adds {
            lines.push(json!({"add": {
                "path": a.path, "partitionValues": a.partition_values, "size": a.size,
                "modificationTime": ts, "dataChange": true,
                "stats": json!({"numRecords": a.rows}).to_string(),
            }}));
        }
        if let Some((app, ver)) = &c.txn {
            lines.push(json!({"txn": {"appId": app, "version": ver, "lastUpdated": ts}}));
        }
        let mut body = String::new();
        for l in &lines {
            body.push_str(&l.to_string());
            body.push('\n');
        }
        if volume.put_new(&log_path(base, version), body.into_bytes())? {
            for l in &lines {
                apply(snap, l);
            }
            snap.version = Some(version);
            return Ok(Some(version));
        }
        // Another writer took this version: read the log again and retry.
    }
    bail!("gave up committing to {base} after 100 lost races")
}
