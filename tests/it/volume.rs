//! Volumes: local listing with ignore rules and globs, memory, decompression, escapes, cache.

use std::collections::BTreeMap;
use std::io::Write;

use disco::catalog::{Catalog, VolumeSpec};
use disco::volume::{Cache, EntryKind, ListOptions, Volume, VolumeError};

use crate::support::tree;

fn local(dir: &std::path::Path) -> Volume {
    let cat = Catalog::default();
    Volume::open(&cat.resolve(dir.to_str().unwrap()).unwrap().volume).unwrap()
}

fn memory(name: &str) -> Volume {
    Volume::open(&VolumeSpec {
        name: name.into(),
        url: format!("memory://{name}/"),
        options: BTreeMap::new(),
        include: vec![],
        exclude: vec![],
    })
    .unwrap()
}

fn paths(v: &Volume, opts: &ListOptions) -> Vec<String> {
    v.list("", opts)
        .unwrap()
        .into_iter()
        .map(|e| e.path)
        .collect()
}

#[test]
fn local_listing_honours_ignore_files_and_globs() {
    let dir = tree(&[
        (".gitignore", b"build/\n*.log\n"),
        ("src/a.py", b""),
        ("src/b.rs", b""),
        ("build/out.py", b""),
        ("x.log", b""),
        (".hidden/h.py", b""),
        ("docs/.ignore", b"draft.md\n"),
        ("docs/draft.md", b""),
        ("docs/final.md", b""),
    ]);
    let v = local(dir.path());
    assert_eq!(
        paths(&v, &ListOptions::default()),
        ["docs/final.md", "src/a.py", "src/b.rs"]
    );
    let all = ListOptions {
        ignore_files: false,
        hidden: true,
        ..Default::default()
    };
    assert_eq!(paths(&v, &all).len(), 9);
    let globs = ListOptions {
        include: vec!["*.py".into(), "*.md".into()],
        exclude: vec!["docs/**".into()],
        ..Default::default()
    };
    assert_eq!(paths(&v, &globs), ["src/a.py"]);
    assert_eq!(v.list("src", &ListOptions::default()).unwrap().len(), 2);
    // The root's ignore files apply to a sub-path; ignore files above the root never do.
    assert!(v.list("build", &ListOptions::default()).unwrap().is_empty());
    let outer = tree(&[(".gitignore", b"inner/\n*.py\n"), ("inner/x.py", b"")]);
    assert_eq!(
        paths(&local(&outer.path().join("inner")), &ListOptions::default()),
        ["x.py"]
    );
}

#[test]
fn memory_volumes_put_list_and_read() {
    let v = memory("it-memory");
    v.put("b/x.py", b"print(1)\n".to_vec()).unwrap();
    v.put("a.txt", b"hello".to_vec()).unwrap();
    let entries = v.list("", &ListOptions::default()).unwrap();
    assert_eq!(
        entries
            .iter()
            .map(|e| (e.path.as_str(), e.size))
            .collect::<Vec<_>>(),
        [("a.txt", 5), ("b/x.py", 9)]
    );
    assert_eq!(v.read("b/x.py", 100).unwrap().bytes, b"print(1)\n");
    // The same name is the same store, wherever it is opened.
    assert_eq!(
        memory("it-memory").read("a.txt", 100).unwrap().bytes,
        b"hello"
    );
    assert!(matches!(
        v.read("missing", 100),
        Err(VolumeError::NotFound { .. })
    ));
    assert!(matches!(
        v.read("a.txt", 3),
        Err(VolumeError::TooLarge {
            size: 5,
            limit: 3,
            ..
        })
    ));
}

fn compress(codec: &str, data: &[u8]) -> Vec<u8> {
    match codec {
        "gz" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        "zst" => zstd::encode_all(data, 3).unwrap(),
        "bz2" => {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        "xz" => {
            let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        _ => unreachable!(),
    }
}

#[test]
fn every_codec_decompresses_transparently_and_bombs_are_refused() {
    let text = b"def f():\n    return 42\n".repeat(50);
    let v = memory("it-codecs");
    for codec in ["gz", "zst", "bz2", "xz"] {
        v.put(&format!("m.py.{codec}"), compress(codec, &text))
            .unwrap();
        let blob = v.read(&format!("m.py.{codec}"), 1 << 20).unwrap();
        assert_eq!(blob.bytes, text, "{codec}");
        assert!(blob.codec.is_some());
        // Small on disk, large when decompressed: the limit applies to the output.
        assert!(
            matches!(
                v.read(&format!("m.py.{codec}"), 100),
                Err(VolumeError::TooLarge { .. })
            ),
            "{codec}"
        );
    }
    v.put("broken.py.gz", b"not gzip at all".to_vec()).unwrap();
    assert!(matches!(
        v.read("broken.py.gz", 1 << 20),
        Err(VolumeError::Decompress { codec: "gzip", .. })
    ));
}

#[test]
fn paths_never_leave_their_volume() {
    let outside = tree(&[("secret.txt", b"s3cr3t")]);
    let dir = tree(&[("in/a.txt", b"a")]);
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        dir.path().join("in/link.txt"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("in/linkdir")).unwrap();
    let v = local(&dir.path().join("in"));
    let err = v.read("../in/a.txt", 100).unwrap_err().to_string();
    assert!(err.contains("escapes its volume"), "{err}");
    let err = v.read("link.txt", 100).unwrap_err();
    assert!(
        matches!(err, VolumeError::Escape { .. }) && err.to_string().contains("outside the volume"),
        "{err}"
    );
    assert!(matches!(
        memory("it-esc").read("a/../../x", 10),
        Err(VolumeError::Escape { .. })
    ));
    // Listing reports the links as outside rather than following them, even with --follow.
    let follow = ListOptions {
        follow_links: true,
        ..Default::default()
    };
    let entries = v.list("", &follow).unwrap();
    let outside_links: Vec<&str> = entries
        .iter()
        .filter(|e| matches!(e.kind, EntryKind::Outside(_)))
        .map(|e| e.path.as_str())
        .collect();
    assert_eq!(outside_links, ["link.txt", "linkdir"]);
}

#[test]
fn remote_files_materialise_into_a_content_addressed_cache() {
    let v = memory("it-cache");
    v.put("repo/a.py", b"x = 1\n".to_vec()).unwrap();
    v.put("repo/pkg/b.py", b"x = 1\n".to_vec()).unwrap();
    v.put("other/c.py", b"y = 2\n".to_vec()).unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(cache_dir.path());
    let dir = cache
        .materialize(&v, "repo", &ListOptions::default(), 1 << 20)
        .unwrap()
        .join("repo");
    assert_eq!(std::fs::read(dir.join("a.py")).unwrap(), b"x = 1\n");
    assert_eq!(std::fs::read(dir.join("pkg/b.py")).unwrap(), b"x = 1\n");
    assert!(!dir.join("../other/c.py").exists());
    // Identical contents are stored once.
    let blobs: usize = walk_count(&cache_dir.path().join("blobs"));
    assert_eq!(blobs, 1);
    // A local volume is its own directory.
    let local_dir = tree(&[("a.py", b"")]);
    let lv = local(local_dir.path());
    assert_eq!(
        cache
            .materialize(&lv, "", &ListOptions::default(), 100)
            .unwrap(),
        lv.local_root().unwrap()
    );
}

fn walk_count(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                walk_count(&e.path())
            } else {
                1
            }
        })
        .sum()
}
