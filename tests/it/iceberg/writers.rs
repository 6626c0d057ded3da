//! Disco's commits: resuming skips committed parts, uncommitted files stay invisible, and
//! concurrent appenders (threads, and processes like sharded writers) lose no commit.

use super::*;

#[test]
fn tables_tasks_and_batches_move_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<IcebergTable>();
    send_sync::<disco::table::iceberg::Task>();
    send_sync::<disco::table::iceberg::DataFiles>();
    send::<disco::table::iceberg::BatchIter>();
    send::<disco::table::iceberg::IcebergWriter>();
}

#[test]
fn a_rerun_skips_the_parts_already_committed() {
    let (_dir, cat) = lake();
    let (s, id) = spec(&cat, "mine");
    let mut t = IcebergTable::create(&s, &id, &schema(), &[]).unwrap();
    assert!(put(&mut t, &[batch(&[1], "eu")], false, "job#0/1", 0));
    assert!(
        put(&mut t, &[batch(&[], "eu")], false, "job#0/1", 1),
        "an empty part commits too"
    );
    assert!(put(&mut t, &[batch(&[3], "eu")], false, "job#0/1", 2));
    // The rerun: the same parts again, from a fresh handle.
    let mut again = IcebergTable::open(&s, &id).unwrap().unwrap();
    let progress = again.progress("job#0/1").unwrap();
    assert_eq!(progress.parts, BTreeSet::from([0, 1, 2]));
    assert!(progress.done(1) && !progress.done(3));
    assert!(again.progress("other").unwrap().parts.is_empty());
    assert!(!put(&mut again, &[batch(&[1], "eu")], false, "job#0/1", 0));
    // A writer that dies before its commit leaves nothing a reader sees.
    let mut w = again.writer().unwrap();
    w.write(&batch(&[99], "eu")).unwrap();
    let files = w.finish().unwrap();
    assert_eq!(files.paths().len(), 1);
    assert_eq!(named(&rows(&again, None)), [1, 3]);
    again.discard(files);
    assert!(
        !put(&mut again, &[batch(&[1], "eu")], true, "job#0/1", 2),
        "nor an overwrite"
    );
    assert_eq!(named(&rows(&again, None)), [1, 3]);
}

#[test]
fn concurrent_appenders_lose_no_commit() {
    let (_dir, cat) = lake();
    let (s, id) = spec(&cat, "mine");
    IcebergTable::create(&s, &id, &schema(), &["region".to_string()]).unwrap();
    let shards = 4;
    let parts = 5;
    std::thread::scope(|scope| {
        for shard in 0..shards {
            let (s, id) = (&s, &id);
            scope.spawn(move || {
                let mut t = IcebergTable::open(s, id).unwrap().unwrap();
                for p in 0..parts {
                    let n = shard * 100 + p;
                    let region = if p % 2 == 0 { "eu" } else { "us" };
                    assert!(put(
                        &mut t,
                        &[batch(&[n], region)],
                        false,
                        &format!("job#{shard}/{shards}"),
                        p
                    ));
                }
            });
        }
    });
    let mut t = IcebergTable::open(&s, &id).unwrap().unwrap();
    let mut got = named(&rows(&t, None));
    got.sort();
    let mut want: Vec<i64> = (0..shards)
        .flat_map(|s| (0..parts).map(move |p| s * 100 + p))
        .collect();
    want.sort();
    assert_eq!(got, want);
    for shard in 0..shards {
        let progress = t.progress(&format!("job#{shard}/{shards}")).unwrap();
        assert_eq!(progress.parts.len(), parts as usize);
    }
    assert_eq!(t.info(None).unwrap().snapshots, (shards * parts) as usize);
}

/// The child of `concurrent_appender_processes_lose_no_commit` (a no-op unless it sets
/// `DISCO_ICEBERG_CHILD`): one shard appending its parts from its own process.
#[test]
fn appender_process_child() {
    let Ok(job) = std::env::var("DISCO_ICEBERG_CHILD") else {
        return;
    };
    let [catalog, shard, shards, parts]: [&str; 4] =
        job.split('|').collect::<Vec<_>>().try_into().unwrap();
    let (shard, parts): (i64, i64) = (shard.parse().unwrap(), parts.parse().unwrap());
    let cat = Catalog::load(Path::new(catalog)).unwrap();
    let (s, id) = spec(&cat, "mine");
    let mut t = IcebergTable::open(&s, &id).unwrap().unwrap();
    for p in 0..parts {
        let app = format!("job#{shard}/{shards}");
        assert!(put(
            &mut t,
            &[batch(&[shard * 100 + p], "eu")],
            false,
            &app,
            p
        ));
    }
}

#[test]
fn concurrent_appender_processes_lose_no_commit() {
    let (dir, cat) = lake();
    let (s, id) = spec(&cat, "mine");
    IcebergTable::create(&s, &id, &schema(), &[]).unwrap();
    let (shards, parts) = (3, 4);
    let children: Vec<_> = (0..shards)
        .map(|shard| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "iceberg::writers::appender_process_child",
                    "--test-threads=1",
                ])
                .env(
                    "DISCO_ICEBERG_CHILD",
                    format!(
                        "{}|{shard}|{shards}|{parts}",
                        dir.path().join("disco.toml").display()
                    ),
                )
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut t = IcebergTable::open(&s, &id).unwrap().unwrap();
    let mut got = named(&rows(&t, None));
    got.sort();
    let want: Vec<i64> = (0..shards)
        .flat_map(|s| (0..parts).map(move |p| s * 100 + p))
        .collect();
    assert_eq!(got, want);
    for shard in 0..shards {
        let progress = t.progress(&format!("job#{shard}/{shards}")).unwrap();
        assert_eq!(progress.parts.len(), parts as usize);
    }
}
