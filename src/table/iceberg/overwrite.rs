//! Overwrite: iceberg-rust 0.10 has no overwrite action (only fast append), and it keeps the
//! builder of a catalog commit private. So an overwrite is built here from the crate's public
//! pieces, as its own fast append is: a manifest of the new files, a manifest marking every
//! live file of the current snapshot deleted, a manifest list, an `overwrite` snapshot with
//! its summary, and the next metadata file. The SQL catalog then swaps the table's metadata
//! pointer with the same compare-and-swap statement iceberg-catalog-sql uses (matching the
//! pointer read), so the overwrite is atomic and loses to a concurrent commit, never over
//! it. A REST catalog has no such statement: overwriting there is refused.

use std::collections::HashMap;
use std::str::FromStr;

use iceberg::spec::{
    DataFile, FormatVersion, ManifestContentType, ManifestFile, ManifestListWriter,
    ManifestWriterBuilder, Operation, Snapshot, SnapshotSummaryCollector, Summary, MAIN_BRANCH,
};
use iceberg::table::Table;
use iceberg::MetadataLocation;

use super::{block_on, IcebergError, IcebergTable, Result};
use crate::catalog::CatalogType;

/// Commits `files` as a snapshot that replaces every row of the table.
pub(super) fn commit(
    t: &IcebergTable,
    files: Vec<DataFile>,
    props: HashMap<String, String>,
) -> Result<Table> {
    if t.spec.kind != CatalogType::Sql {
        return Err(IcebergError::Unsupported {
            table: t.name.clone(),
            message: "overwriting a table of a REST catalog (iceberg-rust 0.10 has no \
                      overwrite action; Disco overwrites through the SQL catalog)"
                .into(),
        });
    }
    if t.table.metadata().format_version() != FormatVersion::V2 {
        return Err(IcebergError::Unsupported {
            table: t.name.clone(),
            message: format!(
                "overwriting a format version {} table (Disco overwrites version 2)",
                t.table.metadata().format_version() as u8
            ),
        });
    }
    let (old, new) = block_on(write_snapshot(&t.table, files, props)).map_err(|e| t.err(e))?;
    swap(t, &old, &new)?;
    block_on(t.catalog.load_table(&t.ident)).map_err(|e| t.err(e))
}

/// Writes the manifests, manifest list and metadata file of the overwrite; returns the
/// metadata location it replaces and the new one.
async fn write_snapshot(
    table: &Table,
    files: Vec<DataFile>,
    props: HashMap<String, String>,
) -> iceberg::Result<(String, String)> {
    let md = table.metadata();
    let io = table.file_io();
    let schema = md.current_schema().clone();
    let spec = md.default_partition_spec().clone();
    let commit = uuid::Uuid::new_v4();
    let snapshot_id = loop {
        let id = (uuid::Uuid::new_v4().as_u64_pair().0 >> 1) as i64;
        if md.snapshot_by_id(id).is_none() {
            break id;
        }
    };
    let seq = md.next_sequence_number();
    let parent = md.current_snapshot();
    let mut counter = 0;
    let mut next_path = || {
        counter += 1;
        format!("{}/metadata/{commit}-m{counter}.avro", md.location())
    };
    let mut summary = SnapshotSummaryCollector::default();
    let mut manifests: Vec<ManifestFile> = Vec::new();
    if !files.is_empty() {
        let out = io.new_output(next_path())?;
        let mut w = ManifestWriterBuilder::new(
            out,
            Some(snapshot_id),
            schema.clone(),
            spec.as_ref().clone(),
        )
        .build_v2_data();
        for f in files {
            summary.add_file(&f, schema.clone(), spec.clone());
            w.add_file(f, seq)?;
        }
        manifests.push(w.write_manifest_file().await?);
    }
    // Every live file of the current snapshot, marked deleted (one manifest per manifest, to
    // keep each file with the partition spec it was written with).
    if let Some(parent) = parent {
        let list = table.manifest_list_reader(parent).load().await?;
        for m in list.entries() {
            let manifest = m.load_manifest(io).await?;
            let live: Vec<_> = manifest.entries().iter().filter(|e| e.is_alive()).collect();
            if live.is_empty() {
                continue;
            }
            let Some(m_spec) = md.partition_spec_by_id(m.partition_spec_id) else {
                continue;
            };
            let builder = ManifestWriterBuilder::new(
                io.new_output(next_path())?,
                Some(snapshot_id),
                schema.clone(),
                m_spec.as_ref().clone(),
            );
            let mut w = match m.content {
                ManifestContentType::Data => builder.build_v2_data(),
                ManifestContentType::Deletes => builder.build_v2_deletes(),
            };
            for e in live {
                if m.content == ManifestContentType::Data {
                    summary.remove_file(e.data_file(), schema.clone(), m_spec.clone());
                }
                w.add_delete_file(
                    e.data_file().clone(),
                    e.sequence_number().unwrap_or(m.sequence_number),
                    e.file_sequence_number,
                )?;
            }
            manifests.push(w.write_manifest_file().await?);
        }
    }
    let list_path = format!(
        "{}/metadata/snap-{snapshot_id}-0-{commit}.avro",
        md.location()
    );
    let mut list = ManifestListWriter::v2(
        io.new_output(&list_path)?.writer().await?,
        snapshot_id,
        md.current_snapshot_id(),
        seq,
    );
    list.add_manifests(manifests.into_iter())?;
    list.close().await?;

    let mut properties = props;
    properties.extend(summary.build());
    // After an overwrite the table holds exactly what was added.
    for (total, added) in [
        ("total-records", "added-records"),
        ("total-data-files", "added-data-files"),
        ("total-files-size", "added-files-size"),
    ] {
        let v = properties.get(added).cloned().unwrap_or_else(|| "0".into());
        properties.insert(total.into(), v);
    }
    for total in [
        "total-delete-files",
        "total-position-deletes",
        "total-equality-deletes",
    ] {
        properties.insert(total.into(), "0".into());
    }
    let snapshot = Snapshot::builder()
        .with_snapshot_id(snapshot_id)
        .with_parent_snapshot_id(md.current_snapshot_id())
        .with_sequence_number(seq)
        .with_timestamp_ms(chrono_now_ms().max(md.last_updated_ms()))
        .with_manifest_list(list_path)
        .with_summary(Summary {
            operation: Operation::Overwrite,
            additional_properties: properties,
        })
        .with_schema_id(md.current_schema_id())
        .build();
    let old = table.metadata_location_result()?.to_string();
    let new_md = md
        .clone()
        .into_builder(Some(old.clone()))
        .set_branch_snapshot(snapshot, MAIN_BRANCH)?
        .build()?
        .metadata;
    let location = MetadataLocation::from_str(&old)?
        .with_next_version()
        .with_new_metadata(&new_md);
    new_md.write_to(io, &location).await?;
    Ok((old, location.to_string()))
}

fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Points the catalog's row at `new` if it still points at `old`.
fn swap(t: &IcebergTable, old: &str, new: &str) -> Result<()> {
    let sql_err = |source| IcebergError::Sql {
        table: t.name.clone(),
        error: Box::new(source),
    };
    let namespace = t.ident.namespace().join(".");
    let rows = block_on(async {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect(&t.spec.uri)
            .await?;
        let done = sqlx::query(
            "UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ? \
             WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? \
             AND metadata_location = ?",
        )
        .bind(new)
        .bind(old)
        .bind(&t.spec.name)
        .bind(&namespace)
        .bind(t.ident.name())
        .bind(old)
        .execute(&pool)
        .await;
        pool.close().await;
        done.map(|d| d.rows_affected())
    })
    .map_err(sql_err)?;
    if rows == 0 {
        return Err(IcebergError::Conflict {
            table: t.name.clone(),
        });
    }
    Ok(())
}
