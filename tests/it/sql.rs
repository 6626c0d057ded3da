//! `disco sql` and the `sql`/`filter` stages (feature `sql`): queries over the table fixtures
//! as CSV, NDJSON, Parquet, a glob and a Delta table named in the catalog; plan errors before
//! anything is read; read rejects kept; the seed's column requests.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{disco, json_lines, repo_root, run};

/// A workspace whose catalog names the fixtures (`fx://`), itself (`ws://`), the CSV trips
/// as `trips_csv` and a Delta table `trips_delta` (written here from the Parquet trips).
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[volumes.fx]\nurl = \"{}\"\n[volumes.ws]\nurl = \"{}\"\n\
         [tables.trips_csv]\nurl = \"fx://tables/trips.csv\"\nformat = \"csv\"\n\
         [tables.trips_delta]\nurl = \"ws://lake/trips\"\nformat = \"delta\"\n",
        repo_root().join("fixtures").display(),
        dir.path().display()
    );
    std::fs::write(dir.path().join("disco.toml"), toml).unwrap();
    dir
}

fn disco_in(dir: &Path) -> Command {
    let mut cmd = disco();
    cmd.current_dir(dir)
        .env("DISCO_CATALOG", dir.join("disco.toml"));
    cmd
}

/// Runs `disco sql <query> [args]`, asserting success; the rows.
fn sql(dir: &Path, query: &str, args: &[&str]) -> Vec<Value> {
    let (out, stdout, stderr) = run(disco_in(dir).args(["sql", query]).args(args));
    assert!(out.status.success(), "{query}: {stderr}");
    json_lines(&stdout)
}

/// Runs `disco sql <query> [args]`, asserting it fails before writing; stderr.
fn sql_error(dir: &Path, query: &str, args: &[&str]) -> String {
    let (out, stdout, stderr) = run(disco_in(dir).args(["sql", query]).args(args));
    assert_eq!(out.status.code(), Some(1), "{query}: {stdout}{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    stderr
}

fn keys(row: &Value) -> Vec<&str> {
    row.as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

fn write_delta(dir: &Path) {
    let (out, _, stderr) = run(disco_in(dir).args([
        "run",
        "--input",
        "fx://tables/trips.parquet",
        "--output",
        "trips_delta",
        "--quiet",
    ]));
    assert!(out.status.success(), "{stderr}");
}

#[test]
fn one_query_over_csv_ndjson_parquet_a_glob_and_a_delta_table_in_the_catalog() {
    let dir = workspace();
    write_delta(dir.path());
    let query = |t: &str| {
        format!(
            "SELECT payment_type, count(*), round(sum(fare_amount), 2) AS fares FROM {t} \
             GROUP BY payment_type ORDER BY payment_type"
        )
    };
    let want = sql(dir.path(), &query("trips_csv"), &[]);
    assert!(want.len() >= 2, "{want:?}");
    assert_eq!(keys(&want[0]), ["count", "fares", "payment_type"]);
    let total: i64 = want.iter().map(|r| r["count"].as_i64().unwrap()).sum();
    assert_eq!(total, 50);
    for t in ["\"fx://tables/trips.parquet\"", "trips_delta"] {
        assert_eq!(sql(dir.path(), &query(t), &[]), want, "{t}");
    }
    // In NDJSON, trip 13's payment type is the number 1 in a string column: a read reject
    // (counted on stderr), not a row of group "1".
    let without_13: Vec<Value> = want
        .iter()
        .filter(|r| r["payment_type"] != "1")
        .cloned()
        .collect();
    assert_eq!(without_13.len(), want.len() - 1);
    for t in [
        "\"fx://tables/trips.ndjson\"",
        "\"fx://tables/trips.ndjson.zst\"",
    ] {
        let (out, stdout, stderr) = run(disco_in(dir.path()).args(["sql", &query(t)]));
        assert!(out.status.success(), "{stderr}");
        assert_eq!(json_lines(&stdout), without_13, "{t}");
        assert!(
            stderr.contains("column `payment_type`: 1 is a JSON number")
                && stderr.contains("1 rows could not be read (not kept: give --rejects)"),
            "{stderr}"
        );
    }
    // A glob: the CSV trips, gzip and bzip2 copies, read as one table.
    let rows = sql(
        dir.path(),
        "SELECT count(*) FROM \"fx://tables/trips.csv*\"",
        &[],
    );
    assert_eq!(rows, [serde_json::json!({"count": 150})]);
}

#[test]
fn plans_are_checked_before_reading_unknown_names_syntax_and_types() {
    let dir = workspace();
    let out = ["-o", "file://out/x.parquet"];
    let e = sql_error(dir.path(), "SELECT * FROM trips", &out);
    assert!(
        e.contains("no table `trips`") && e.contains("trips_csv"),
        "{e}"
    );
    let e = sql_error(dir.path(), "SELECT fare, trip_id FROM trips_csv", &out);
    assert!(
        e.contains("no column `fare`") && e.contains("fare_amount"),
        "{e}"
    );
    // `FORM` reads as an alias of `trip_id`: the error is at `trips_csv`.
    let e = sql_error(dir.path(), "SELECT trip_id FORM trips_csv", &out);
    assert!(
        e.contains("syntax error") && e.contains("Column: 21"),
        "{e}"
    );
    assert!(
        e.contains("  SELECT trip_id FORM trips_csv\n                      ^"),
        "a caret under the position: {e}"
    );
    let e = sql_error(
        dir.path(),
        "SELECT trip_id FROM trips_csv WHERE pickup_zone + 1 > 0",
        &out,
    );
    assert!(
        e.contains("`pickup_zone` is Utf8 and `1` is Int64 in `pickup_zone + 1`"),
        "{e}"
    );
    let e = sql_error(dir.path(), "DELETE FROM trips_csv", &out);
    assert!(e.contains("only queries run here"), "{e}");
    let e = sql_error(dir.path(), "SELECT * FROM \"fx://tables/nope.csv\"", &out);
    assert!(e.contains("table `fx://tables/nope.csv`"), "{e}");
    assert!(!dir.path().join("out/x.parquet").exists());
}

#[test]
fn results_go_to_any_output_and_undecodable_rows_to_rejects() {
    let dir = workspace();
    let mut lines = String::new();
    for i in 0..20 {
        lines += &format!("{{\"id\": {i}, \"name\": \"n{i}\"}}\n");
    }
    lines += "{\"id\": \"seven\", \"name\": \"bad\"}\n";
    std::fs::write(dir.path().join("people.ndjson"), lines).unwrap();
    let (out, _, stderr) = run(disco_in(dir.path()).args([
        "sql",
        "SELECT id, upper(name) AS name FROM \"ws://people.ndjson\" WHERE id % 2 = 0",
        "-o",
        "ws://out/even.parquet",
    ]));
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("10 rows, 1 rows could not be read"),
        "{stderr}"
    );
    let back = sql(
        dir.path(),
        "SELECT count(*) AS n, min(name) AS first FROM \"ws://out/even.parquet\"",
        &[],
    );
    assert_eq!(back, [serde_json::json!({"n": 10, "first": "N0"})]);
    let rejects = sql(
        dir.path(),
        "SELECT line, stage, reason FROM \"ws://out/even.rejects.parquet\"",
        &[],
    );
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0]["line"], 21);
    assert!(rejects[0]["reason"].as_str().unwrap().contains("id"));
    // CSV on stdout.
    let (out, stdout, stderr) = run(disco_in(dir.path()).args([
        "sql",
        "SELECT trip_id, fare_amount FROM trips_csv ORDER BY trip_id LIMIT 2",
        "--format",
        "csv",
    ]));
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout.lines().next(), Some("trip_id,fare_amount"));
    assert_eq!(stdout.lines().count(), 3);
}

#[test]
fn a_sort_past_the_memory_limit_spills_or_stops_with_a_clear_error() {
    let dir = workspace();
    let q = "SELECT a.trip_id, b.trip_id AS other FROM trips_csv a, trips_csv b \
             ORDER BY a.pickup_zone, b.dropoff_zone";
    let (out, stdout, stderr) = run(disco_in(dir.path()).args(["sql", q, "--memory-limit", "64K"]));
    match out.status.code() {
        Some(0) => assert_eq!(json_lines(&stdout).len(), 2500),
        _ => assert!(stderr.contains("more memory than the limit"), "{stderr}"),
    }
    let (out, _, stderr) =
        run(disco_in(dir.path()).args(["sql", "SELECT 1", "--memory-limit", "lots"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("not a size"), "{stderr}");
}

/// The seed's requests: `* EXCLUDE`, struct fields and `s.*`, JSON text to typed values,
/// `count(*)` named `count`, computed columns anywhere.
#[test]
fn the_seed_requests_exclude_struct_fields_json_count_and_computed_columns() {
    let dir = workspace();
    let trips = "\"fx://tables/trips.parquet\"";
    // * EXCLUDE
    let rows = sql(
        dir.path(),
        &format!("SELECT * EXCLUDE (pickup_at, dropoff_at) FROM {trips}"),
        &[],
    );
    assert_eq!(rows.len(), 50);
    assert_eq!(keys(&rows[0]).len(), 10);
    assert!(rows[0].get("pickup_at").is_none());
    // Computed columns first, in the middle, and named as written.
    let rows = sql(
        dir.path(),
        &format!(
            "SELECT fare_amount * 2 AS double_fare, *, upper(payment_type), trip_id + 1000 \
             FROM {trips} ORDER BY trip_id LIMIT 1"
        ),
        &[],
    );
    let r = &rows[0];
    assert_eq!(r["double_fare"].as_f64(), Some(63.8));
    assert_eq!(r["upper(payment_type)"], "CARD");
    assert_eq!(r["trip_id + 1000"], 1001);
    assert_eq!(keys(r).len(), 15);
    // A struct column, written to Parquet, then its fields and `s.*`.
    sql(
        dir.path(),
        &format!(
            "SELECT trip_id, named_struct('zone', pickup_zone, 'riders', passenger_count) AS s \
             FROM {trips}"
        ),
        &["-o", "ws://structs.parquet"],
    );
    let rows = sql(
        dir.path(),
        "SELECT trip_id, s.zone, s['riders'] AS n FROM \"ws://structs.parquet\" \
         WHERE trip_id = 2",
        &[],
    );
    assert_eq!(
        rows,
        [serde_json::json!({"trip_id": 2, "zone": "JFK Airport", "n": 3})]
    );
    let rows = sql(
        dir.path(),
        "SELECT s.*, trip_id * 10 AS t FROM \"ws://structs.parquet\" WHERE trip_id = 2",
        &[],
    );
    assert_eq!(
        rows,
        [serde_json::json!({"zone": "JFK Airport", "riders": 3, "t": 20})]
    );
    // JSON text in a string column to a typed struct and typed fields.
    std::fs::write(
        dir.path().join("events.ndjson"),
        r#"{"id": 1, "payload": "{\"user\": \"ann\", \"n\": 2, \"extra\": true}"}
{"id": 2, "payload": "{\"user\": \"bob\", \"n\": 40}"}
{"id": 3, "payload": null}
"#,
    )
    .unwrap();
    let rows = sql(
        dir.path(),
        "SELECT id, from_json(payload, 'STRUCT<user VARCHAR, n BIGINT>') AS p, \
         from_json(payload, 'STRUCT<n BIGINT>')['n'] * 10 AS n10 \
         FROM \"ws://events.ndjson\" ORDER BY id",
        &[],
    );
    assert_eq!(rows[0]["p"], serde_json::json!({"user": "ann", "n": 2}));
    assert_eq!(rows[1]["n10"], 400);
    assert!(rows[2]["p"].is_null());
    let e = sql_error(
        dir.path(),
        "SELECT from_json(payload, 'STRUCT<user BIGINT>') FROM \"ws://events.ndjson\"",
        &[],
    );
    assert!(e.contains("from_json: row 0"), "{e}");
    // count(*) is `count`.
    let rows = sql(
        dir.path(),
        &format!("SELECT count(*) FROM {trips} WHERE payment_type = 'cash'"),
        &[],
    );
    assert_eq!(keys(&rows[0]), ["count"]);
}

fn pipeline_file(dir: &Path, stages: &str, output: &str) -> PathBuf {
    let p = dir.join("p.toml");
    std::fs::write(
        &p,
        format!("input = \"fx://tables/trips.csv\"\nstages = [{stages}]\noutput = \"{output}\"\n"),
    )
    .unwrap();
    p
}

#[test]
fn the_sql_stage_reads_input_and_sends_filtered_rows_to_rejects() {
    let dir = workspace();
    pipeline_file(
        dir.path(),
        "{ use = \"sql\", query = \"SELECT trip_id, upper(pickup_zone) AS zone, \
         fare_amount * 2 AS fare2 FROM input WHERE fare_amount > 20\" }",
        "ws://out/big.ndjson",
    );
    let (out, _, stderr) = run(disco_in(dir.path()).args(["run", "p.toml", "--quiet"]));
    assert!(out.status.success(), "{stderr}");
    let rows = json_lines(&std::fs::read_to_string(dir.path().join("out/big.ndjson")).unwrap());
    assert!(!rows.is_empty() && rows.len() < 50);
    assert_eq!(keys(&rows[0]), ["fare2", "trip_id", "zone"]);
    let dropped = 50 - rows.len();
    assert!(
        stderr.contains(&format!(
            "rows in 50 = {} passed + {dropped} rejected (sql {dropped})",
            rows.len()
        )),
        "{stderr}"
    );
    let rejects = sql(
        dir.path(),
        "SELECT reason, count(*) FROM \"ws://out/big.rejects.ndjson\" GROUP BY reason",
        &[],
    );
    assert_eq!(
        rejects,
        [serde_json::json!({"reason": "filtered out: not (fare_amount > 20)", "count": dropped})]
    );
    // A query that needs every row is refused at plan time, before reading.
    pipeline_file(
        dir.path(),
        "{ use = \"sql\", query = \"SELECT count(*) FROM input\" }",
        "ws://out/n.ndjson",
    );
    let (out, _, stderr) = run(disco_in(dir.path()).args(["run", "p.toml", "--quiet"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("stage `sql`") && stderr.contains("needs every row at once"),
        "{stderr}"
    );
    assert!(!dir.path().join("out/n.ndjson").exists());
}
