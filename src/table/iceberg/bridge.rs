//! Arrow 58 (iceberg 0.10's) ↔ Arrow 59 (Disco's) through the Arrow C data interface: a batch
//! is exported by one version and imported by the other, sharing its buffers (no copy).

use std::sync::Arc;

use arrow_array as a59;
use arrow_array_58 as a58;
use arrow_schema as s59;
use arrow_schema_58 as s58;

// The C data interface structs of both versions are the `#[repr(C)]` structs of the Arrow
// spec, so moving one into the other's type is sound; `transmute` checks the sizes, and the
// struct's release callback moves with it, so the buffers are freed once, by their owner.

/// An Arrow 58 batch as an Arrow 59 one.
pub(crate) fn batch_to_59(batch: a58::RecordBatch) -> Result<a59::RecordBatch, String> {
    let array = a58::StructArray::from(batch);
    let (ffi_array, ffi_schema) =
        a58::ffi::to_ffi(&a58::Array::to_data(&array)).map_err(|e| e.to_string())?;
    // SAFETY: same C struct layout (see above); ownership moves with the value.
    let (ffi_array, ffi_schema) = unsafe {
        (
            std::mem::transmute::<a58::ffi::FFI_ArrowArray, a59::ffi::FFI_ArrowArray>(ffi_array),
            std::mem::transmute::<a58::ffi::FFI_ArrowSchema, a59::ffi::FFI_ArrowSchema>(ffi_schema),
        )
    };
    // SAFETY: the structs were just exported by Arrow 58 from valid data.
    let data = unsafe { a59::ffi::from_ffi(ffi_array, &ffi_schema) }.map_err(|e| e.to_string())?;
    Ok(a59::RecordBatch::from(a59::StructArray::from(data)))
}

/// An Arrow 59 batch as an Arrow 58 one.
pub(crate) fn batch_to_58(batch: &a59::RecordBatch) -> Result<a58::RecordBatch, String> {
    let array = a59::StructArray::from(batch.clone());
    let (ffi_array, ffi_schema) =
        a59::ffi::to_ffi(&a59::Array::to_data(&array)).map_err(|e| e.to_string())?;
    // SAFETY: as in `batch_to_59`.
    let (ffi_array, ffi_schema) = unsafe {
        (
            std::mem::transmute::<a59::ffi::FFI_ArrowArray, a58::ffi::FFI_ArrowArray>(ffi_array),
            std::mem::transmute::<a59::ffi::FFI_ArrowSchema, a58::ffi::FFI_ArrowSchema>(ffi_schema),
        )
    };
    // SAFETY: the structs were just exported by Arrow 59 from valid data.
    let data = unsafe { a58::ffi::from_ffi(ffi_array, &ffi_schema) }.map_err(|e| e.to_string())?;
    Ok(a58::RecordBatch::from(a58::StructArray::from(data)))
}

/// An Arrow 58 schema as an Arrow 59 one (field metadata such as Parquet field ids kept).
pub(crate) fn schema_to_59(schema: &s58::Schema) -> Result<s59::SchemaRef, String> {
    let ffi = s58::ffi::FFI_ArrowSchema::try_from(schema).map_err(|e| e.to_string())?;
    // SAFETY: as in `batch_to_59`.
    let ffi =
        unsafe { std::mem::transmute::<s58::ffi::FFI_ArrowSchema, s59::ffi::FFI_ArrowSchema>(ffi) };
    Ok(Arc::new(
        s59::Schema::try_from(&ffi).map_err(|e| e.to_string())?,
    ))
}

/// An Arrow 59 schema as an Arrow 58 one.
pub(crate) fn schema_to_58(schema: &s59::Schema) -> Result<s58::Schema, String> {
    let ffi = s59::ffi::FFI_ArrowSchema::try_from(schema).map_err(|e| e.to_string())?;
    // SAFETY: as in `batch_to_59`.
    let ffi =
        unsafe { std::mem::transmute::<s59::ffi::FFI_ArrowSchema, s58::ffi::FFI_ArrowSchema>(ffi) };
    s58::Schema::try_from(&ffi).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use a59::{ArrayRef, Int64Array, StringArray};

    #[test]
    fn batches_round_trip_between_arrow_versions_without_copying() {
        let ids: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None, Some(3)]));
        let names: ArrayRef = Arc::new(StringArray::from(vec!["a", "b", "c"]));
        let batch = a59::RecordBatch::try_from_iter([("id", ids), ("name", names)]).unwrap();
        let before = batch.column(1).to_data().buffers()[1].as_ptr();
        let old = batch_to_58(&batch).unwrap();
        assert_eq!(old.num_rows(), 3);
        let back = batch_to_59(old).unwrap();
        assert_eq!(back, batch);
        // The string values are the same memory: nothing was copied either way.
        assert_eq!(back.column(1).to_data().buffers()[1].as_ptr(), before);
        let schema = schema_to_59(&schema_to_58(batch.schema_ref()).unwrap()).unwrap();
        assert_eq!(schema, batch.schema());
    }
}
