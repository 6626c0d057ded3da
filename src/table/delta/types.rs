//! Arrow types on their way into a Delta table: the types Delta has no name for are cast to
//! ones it has, and partition values become the kernel's typed scalars.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Date32Type, Field, Fields, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type,
    Int8Type, Schema, SchemaRef, TimeUnit, TimestampMicrosecondType,
};
use delta_kernel::expressions::Scalar;
use delta_kernel::schema::DataType as KernelType;

/// Arrow types Delta has no name for, cast to ones it has (unsigned → wider signed, fixed
/// lists → lists, large/view text → text, timestamps → microseconds; a timestamp without a
/// zone stays without one: Delta's `timestamp_ntz`).
pub fn delta_type(t: &DataType) -> DataType {
    match t {
        DataType::UInt8 => DataType::Int16,
        DataType::UInt16 => DataType::Int32,
        DataType::UInt32 | DataType::UInt64 => DataType::Int64,
        DataType::Float16 => DataType::Float32,
        DataType::LargeUtf8 | DataType::Utf8View => DataType::Utf8,
        DataType::LargeBinary | DataType::BinaryView => DataType::Binary,
        DataType::Timestamp(_, Some(_)) | DataType::Date64 => {
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        }
        DataType::Timestamp(_, None) => DataType::Timestamp(TimeUnit::Microsecond, None),
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

/// The schema rows are written in (every column nullable, as Delta readers expect).
pub fn delta_schema(schema: &SchemaRef) -> SchemaRef {
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), delta_type(f.data_type()), true))
            .collect::<Vec<_>>(),
    ))
}

/// Casts a batch to `schema` (a [`delta_schema`], or the table's own).
pub fn to_delta(
    batch: &RecordBatch,
    schema: &SchemaRef,
) -> Result<RecordBatch, arrow::error::ArrowError> {
    let cols: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|f| match batch.schema().index_of(f.name()) {
            Ok(i) => {
                let c = batch.column(i);
                if c.data_type() == f.data_type() {
                    Ok(c.clone())
                } else {
                    arrow::compute::cast(c, f.data_type())
                }
            }
            // A column the table has and the rows lack (after a schema merge): nulls.
            Err(_) => Ok(arrow::array::new_null_array(
                f.data_type(),
                batch.num_rows(),
            )),
        })
        .collect::<Result<_, _>>()?;
    RecordBatch::try_new(schema.clone(), cols)
}

/// The kernel's scalar of row `row` of a partition column, or why it cannot be one.
pub fn partition_scalar(a: &dyn Array, row: usize) -> Result<Scalar, String> {
    let kernel_type = |t: &DataType| -> Result<KernelType, String> {
        Ok(match t {
            DataType::Utf8 => KernelType::STRING,
            DataType::Int64 => KernelType::LONG,
            DataType::Int32 => KernelType::INTEGER,
            DataType::Int16 => KernelType::SHORT,
            DataType::Int8 => KernelType::BYTE,
            DataType::Float64 => KernelType::DOUBLE,
            DataType::Float32 => KernelType::FLOAT,
            DataType::Boolean => KernelType::BOOLEAN,
            DataType::Date32 => KernelType::DATE,
            DataType::Binary => KernelType::BINARY,
            DataType::Timestamp(_, Some(_)) => KernelType::TIMESTAMP,
            DataType::Timestamp(_, None) => KernelType::TIMESTAMP_NTZ,
            other => return Err(format!("a partition column cannot be of type {other}")),
        })
    };
    if a.is_null(row) {
        return Ok(Scalar::null(kernel_type(a.data_type())?));
    }
    Ok(match a.data_type() {
        DataType::Utf8 => Scalar::String(a.as_string::<i32>().value(row).to_string()),
        DataType::Int64 => Scalar::Long(a.as_primitive::<Int64Type>().value(row)),
        DataType::Int32 => Scalar::Integer(a.as_primitive::<Int32Type>().value(row)),
        DataType::Int16 => Scalar::Short(a.as_primitive::<Int16Type>().value(row)),
        DataType::Int8 => Scalar::Byte(a.as_primitive::<Int8Type>().value(row)),
        DataType::Float64 => Scalar::Double(a.as_primitive::<Float64Type>().value(row)),
        DataType::Float32 => Scalar::Float(a.as_primitive::<Float32Type>().value(row)),
        DataType::Boolean => Scalar::Boolean(a.as_boolean().value(row)),
        DataType::Date32 => Scalar::Date(a.as_primitive::<Date32Type>().value(row)),
        DataType::Binary => Scalar::Binary(a.as_binary::<i32>().value(row).to_vec()),
        DataType::Timestamp(TimeUnit::Microsecond, tz) => {
            let v = a.as_primitive::<TimestampMicrosecondType>().value(row);
            match tz {
                Some(_) => Scalar::Timestamp(v),
                None => Scalar::TimestampNtz(v),
            }
        }
        other => return Err(format!("a partition column cannot be of type {other}")),
    })
}

/// A stable key for grouping rows by partition values (`None` for null).
pub fn partition_key(a: &dyn Array, row: usize) -> Option<String> {
    if a.is_null(row) {
        return None;
    }
    let f = arrow::util::display::ArrayFormatter::try_new(a, &Default::default()).ok()?;
    Some(f.value(row).to_string())
}
