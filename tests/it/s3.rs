//! S3 volumes against a real S3-compatible server: moto's server on 127.0.0.1, installed by
//! `scripts/setup.sh`. `make test` requires it (DISCO_REQUIRE_S3=1); a bare `cargo test`
//! without it says so and skips.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use disco::catalog::VolumeSpec;
use disco::volume::{ListOptions, Volume};

use crate::support::{disco, json_lines, run, tree};

struct Moto {
    child: Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        // The server runs in its own process group: end it with anything it started.
        // SAFETY: kill(2) on the group created for this child.
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto() -> Option<Moto> {
    let server = std::env::var("DISCO_MOTO_SERVER").ok().or_else(|| {
        let home = std::env::var("HOME").ok()?;
        let p = format!("{home}/.cache/disco/tools/venv/bin/moto_server");
        std::path::Path::new(&p).exists().then_some(p)
    });
    let Some(server) = server else {
        assert!(
            std::env::var_os("DISCO_REQUIRE_S3").is_none(),
            "moto_server not found: run scripts/setup.sh"
        );
        eprintln!("SKIPPED: no moto_server (run scripts/setup.sh, or `make test`)");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("moto_server starts");
    let moto = Moto { child, port };
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(moto)
}

/// Creates a bucket (S3 CreateBucket is `PUT /bucket`; moto does not check signatures).
fn create_bucket(port: u16, bucket: &str) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
}

fn options(port: u16, secret: &str) -> BTreeMap<String, String> {
    [
        ("endpoint", format!("http://127.0.0.1:{port}")),
        ("allow_http", "true".into()),
        ("region", "us-east-1".into()),
        ("access_key_id", "disco-test".into()),
        ("secret_access_key", secret.into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

#[test]
fn s3_volumes_put_list_read_and_tree() {
    let Some(moto) = moto() else { return };
    create_bucket(moto.port, "disco-it");
    let secret = "s3cr3t-value-never-printed";
    let spec = VolumeSpec {
        name: "bucket".into(),
        url: "s3://disco-it/".into(),
        options: options(moto.port, secret),
        include: vec![],
        exclude: vec![],
    };
    let v = Volume::open(&spec).unwrap();
    assert!(!format!("{spec:?}").contains(secret));
    v.put(
        "repo/src/app.py",
        b"def main():\n    \"\"\"Entry.\"\"\"\n    return 0\n".to_vec(),
    )
    .unwrap();
    v.put(
        "repo/lib/util.rs",
        b"/// Adds.\npub fn add(a: i32, b: i32) -> i32 { a + b }\n".to_vec(),
    )
    .unwrap();
    v.put("repo/blob.bin", vec![0, 159, 146, 150]).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"x = 1\n").unwrap();
    v.put("repo/data.py.gz", gz.finish().unwrap()).unwrap();
    let listed: Vec<String> = v
        .list("repo", &ListOptions::default())
        .unwrap()
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert_eq!(
        listed,
        [
            "repo/blob.bin",
            "repo/data.py.gz",
            "repo/lib/util.rs",
            "repo/src/app.py"
        ]
    );
    assert_eq!(v.read("repo/data.py.gz", 100).unwrap().bytes, b"x = 1\n");

    // The CLI, through a catalog volume whose secret comes from the environment.
    let dir = tree(&[]);
    let catalog = format!(
        "[volumes.bucket]\nurl = \"s3://disco-it\"\noptions = {{ endpoint = \"http://127.0.0.1:{}\", allow_http = \"true\", region = \"us-east-1\", access_key_id = \"disco-test\", secret_access_key = \"${{DISCO_IT_S3_SECRET}}\" }}\n",
        moto.port
    );
    std::fs::write(dir.path().join("disco.toml"), catalog).unwrap();
    let (out, stdout, stderr) = run(disco()
        .args(["tree", "bucket://repo", "-vv", "--quiet"])
        .env("DISCO_IT_S3_SECRET", secret)
        .current_dir(dir.path()));
    assert!(out.status.success(), "{stderr}");
    let recs = json_lines(&stdout);
    let status: Vec<(&str, &str)> = recs
        .iter()
        .map(|r| {
            (
                r["file"]["path"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        status,
        [
            ("repo/blob.bin", "binary"),
            ("repo/data.py.gz", "ok"),
            ("repo/lib/util.rs", "ok"),
            ("repo/src/app.py", "ok")
        ]
    );
    assert_eq!(recs[2]["definitions"][0]["doc"], "Adds.");
    assert!(
        !stdout.contains(secret) && !stderr.contains(secret),
        "a secret was printed"
    );
    // The catalog shows the reference, not the value.
    let (_, shown, _) = run(disco()
        .args(["catalog", "show", "bucket"])
        .env("DISCO_IT_S3_SECRET", secret)
        .current_dir(dir.path()));
    assert!(
        shown.contains("${DISCO_IT_S3_SECRET}") && !shown.contains(secret),
        "{shown}"
    );

    // Remote files materialise into a local directory for language servers.
    let cache_dir = tempfile::tempdir().unwrap();
    let local = disco::volume::Cache::new(cache_dir.path())
        .materialize(&v, "repo", &ListOptions::default(), 1 << 20)
        .unwrap()
        .join("repo");
    assert!(local.join("src/app.py").is_file() && local.join("lib/util.rs").is_file());
}

/// A Delta table in a bucket: Disco writes it through the volume's object store (the kernel's
/// put-if-absent commits on S3), reads it back, and delta-rs reads the same rows.
#[test]
fn delta_tables_in_a_bucket_are_written_read_back_and_read_by_deltalake() {
    let Some(moto) = moto() else { return };
    create_bucket(moto.port, "disco-lake");
    let secret = "another-s3cr3t-never-printed";
    let dir = tree(&[
        ("a.csv", b"id,name\n1,a\n2,b\n"),
        ("b.csv", b"id,name\n3,c\n"),
    ]);
    let catalog = format!(
        "[volumes.lake]\nurl = \"s3://disco-lake\"\noptions = {{ endpoint = \"http://127.0.0.1:{}\", allow_http = \"true\", region = \"us-east-1\", access_key_id = \"disco-test\", secret_access_key = \"${{DISCO_IT_S3_SECRET}}\" }}\n[tables.t]\nurl = \"lake://tables/t\"\nformat = \"delta\"\n",
        moto.port
    );
    std::fs::write(dir.path().join("disco.toml"), catalog).unwrap();
    let disco_here = || {
        let mut c = disco();
        c.env("DISCO_IT_S3_SECRET", secret).current_dir(dir.path());
        c
    };
    let (out, _, stderr) =
        run(disco_here().args(["run", "--input", "*.csv", "--output", "t", "--quiet"]));
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("2 parts (2 written"), "{stderr}");
    // A rerun finds both parts committed.
    let (out, _, stderr) =
        run(disco_here().args(["run", "--input", "*.csv", "--output", "t", "--quiet"]));
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("2 already done"), "{stderr}");
    let (out, stdout, stderr) = run(disco_here().args(["read", "t"]));
    assert!(out.status.success(), "{stderr}");
    let mut ids: Vec<i64> = json_lines(&stdout)
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, [1, 2, 3]);
    assert!(!stdout.contains(secret) && !stderr.contains(secret));
    let (_, shown, stderr) = run(disco_here().args(["catalog", "show", "t"]));
    assert!(
        shown.contains("rows: 3") && shown.contains("version: 1"),
        "{shown}{stderr}"
    );

    let Ok(python) = std::env::var("DISCO_PYTHON") else {
        eprintln!("SKIPPED the deltalake half: no DISCO_PYTHON (run scripts/setup.sh)");
        return;
    };
    let script = format!(
        "import json, deltalake\n\
         t = deltalake.DeltaTable('s3://disco-lake/tables/t', storage_options={{\
         'AWS_ENDPOINT_URL': 'http://127.0.0.1:{}', 'AWS_ALLOW_HTTP': 'true', \
         'AWS_REGION': 'us-east-1', 'AWS_ACCESS_KEY_ID': 'disco-test', \
         'AWS_SECRET_ACCESS_KEY': '{secret}'}})\n\
         print(json.dumps(sorted(t.to_pyarrow_table().column('id').to_pylist())))\n\
         import os, sys\n\
         sys.stdout.flush()\n\
         os._exit(0)  # deltalake's threads can abort the interpreter at exit",
        moto.port
    );
    let (out, stdout, stderr) = run(Command::new(python).args(["-c", &script]));
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout.lines().next().unwrap_or(""), "[1, 2, 3]", "{stderr}");
}
