//! A real classifier: the packaged MiniLM weights plus a logistic-regression head that
//! scikit-learn trains here, on Disco's embeddings of a small labelled set, and saves with
//! `safetensors` beside a `config.json` with `id2label`. Disco's labels and scores on the
//! reference texts must match scikit-learn's `predict_proba` on sentence-transformers'
//! embeddings of the same texts (`fixtures/reference/minilm.json`), with the same weights.

use serde_json::Value;

use crate::pipeline::{fixtures, minilm, py};
use crate::support::{disco, json_lines, run};

/// Labelled texts for the head: Python, Rust and English prose.
const TRAIN: &[(&str, &str)] = &[
    ("python", "def area(r):\n    return 3.14159 * r * r"),
    ("python", "import os\nfor name in os.listdir('.'):\n    print(name)"),
    ("python", "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y"),
    ("python", "with open('data.txt') as f:\n    lines = f.readlines()"),
    ("python", "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)"),
    ("python", "items = [x * 2 for x in range(10) if x % 2 == 0]"),
    ("python", "try:\n    value = int(text)\nexcept ValueError:\n    value = None"),
    ("python", "@property\ndef name(self):\n    return self._name"),
    ("rust", "fn area(r: f64) -> f64 {\n    3.14159 * r * r\n}"),
    ("rust", "use std::fs;\nfor entry in fs::read_dir(\".\")? {\n    println!(\"{:?}\", entry?.path());\n}"),
    ("rust", "struct Point {\n    x: i32,\n    y: i32,\n}\nimpl Point {\n    fn new(x: i32, y: i32) -> Self { Point { x, y } }\n}"),
    ("rust", "let lines: Vec<String> = std::fs::read_to_string(\"data.txt\")?.lines().map(String::from).collect();"),
    ("rust", "fn fib(n: u64) -> u64 {\n    match n {\n        0 | 1 => n,\n        _ => fib(n - 1) + fib(n - 2),\n    }\n}"),
    ("rust", "let items: Vec<i32> = (0..10).filter(|x| x % 2 == 0).map(|x| x * 2).collect();"),
    ("rust", "match text.parse::<i32>() {\n    Ok(v) => Some(v),\n    Err(_) => None,\n}"),
    ("rust", "pub fn name(&self) -> &str {\n    &self.name\n}"),
    ("prose", "The weather was mild, and we walked along the river until sunset."),
    ("prose", "She opened the letter slowly, afraid of what it might say."),
    ("prose", "Our meeting is moved to Thursday afternoon because of the holiday."),
    ("prose", "The museum holds paintings from the seventeenth century."),
    ("prose", "A small dog barked at the mail carrier every morning."),
    ("prose", "Please remember to water the plants while I am away."),
    ("prose", "The train was late, so the children played cards in the station."),
    ("prose", "He learned to bake bread from his grandmother's old recipe."),
];

/// Trains the head on `train.parquet` (rows with `label` and `embedding`), writes the model
/// folder (MiniLM's tensors + `classifier.{weight,bias}`, config with `id2label`), and prints
/// the classes and `predict_proba` on the reference embeddings, with the saved f32 weights.
const TRAIN_HEAD: &str = r#"
import json, shutil, sys
import numpy as np
import pyarrow.parquet as pq
from safetensors.numpy import load_file, save_file
from sklearn.linear_model import LogisticRegression

train, minilm, out, reference = sys.argv[1:5]
rows = pq.read_table(train).to_pylist()
X = np.array([r["embedding"] for r in rows], dtype=np.float64)
y = [r["label"] for r in rows]
clf = LogisticRegression(C=10.0, max_iter=5000).fit(X, y)
# C order: scikit-learn may keep coef_ in Fortran order, and safetensors saves the raw buffer.
W = np.ascontiguousarray(clf.coef_, dtype=np.float32)
b = np.ascontiguousarray(clf.intercept_, dtype=np.float32)
clf.coef_, clf.intercept_ = W.astype(np.float64), b.astype(np.float64)
tensors = load_file(f"{minilm}/model.safetensors")
tensors["classifier.weight"], tensors["classifier.bias"] = W, b
save_file(tensors, f"{out}/model.safetensors")
config = json.load(open(f"{minilm}/config.json"))
config["architectures"] = ["BertForSequenceClassification"]
config["id2label"] = {str(i): c for i, c in enumerate(clf.classes_)}
config["label2id"] = {c: i for i, c in enumerate(clf.classes_)}
json.dump(config, open(f"{out}/config.json", "w"), indent=1)
shutil.copy(f"{minilm}/sentence_bert_config.json", out)
items = json.load(open(reference))["items"]
R = np.array([it["embedding"] for it in items], dtype=np.float64)
print(json.dumps({"classes": [str(c) for c in clf.classes_],
                  "probs": clf.predict_proba(R).tolist(),
                  "train_accuracy": clf.score(X, y)}))
"#;

#[test]
fn a_trained_classifier_matches_scikit_learn_on_the_reference_texts() {
    let Some(model) = minilm() else { return };
    let dir = tempfile::tempdir().unwrap();
    let clf = dir.path().join("clf");
    std::fs::create_dir_all(&clf).unwrap();
    std::fs::write(
        dir.path().join("disco.toml"),
        format!(
            "[volumes.minilm]\nurl = \"{}\"\n[volumes.clf]\nurl = \"{}\"\n\
             [tokenizers.mini]\nurl = \"minilm://tokenizer.json\"\n\
             [models.embed]\nkind = \"embedding\"\nurl = \"minilm://\"\ntokenizer = \"mini\"\n\
             [models.topic]\nkind = \"classifier\"\nurl = \"clf://\"\ntokenizer = \"mini\"\n\
             pooling = \"mean\"\n",
            model.display(),
            clf.display()
        ),
    )
    .unwrap();
    let mut train = String::new();
    for (i, (label, text)) in TRAIN.iter().enumerate() {
        train += &serde_json::json!({"id": i, "label": label, "text": text}).to_string();
        train.push('\n');
    }
    std::fs::write(dir.path().join("train.ndjson"), train).unwrap();
    let reference_path = fixtures().join("reference/minilm.json");
    let reference: Value =
        serde_json::from_slice(&std::fs::read(&reference_path).unwrap()).unwrap();
    let items = reference["items"].as_array().unwrap();
    let mut texts = String::new();
    for (i, it) in items.iter().enumerate() {
        texts += &serde_json::json!({"id": i, "text": it["text"]}).to_string();
        texts.push('\n');
    }
    std::fs::write(dir.path().join("texts.ndjson"), texts).unwrap();
    let disco_here = |args: &[&str]| {
        let mut cmd = disco();
        cmd.current_dir(dir.path())
            .env("DISCO_CATALOG", dir.path().join("disco.toml"))
            .args(args);
        let (out, stdout, stderr) = run(&mut cmd);
        assert!(out.status.success(), "failed: {stderr}");
        stdout
    };
    disco_here(&[
        "run",
        "--input",
        "file://train.ndjson",
        "--stage",
        "embed",
        "--output",
        "file://train.parquet",
        "--quiet",
    ]);
    let train_path = dir.path().join("train.parquet");
    let want = py(
        TRAIN_HEAD,
        &[
            train_path.to_str().unwrap(),
            model.to_str().unwrap(),
            clf.to_str().unwrap(),
            reference_path.to_str().unwrap(),
        ],
    );
    assert_eq!(
        want["train_accuracy"], 1.0,
        "the head separates its training set"
    );
    let classes: Vec<&str> = want["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let rows = json_lines(&disco_here(&[
        "run",
        "--input",
        "file://texts.ndjson",
        "--stage",
        "topic",
        "--output",
        "-",
        "--quiet",
    ]));
    assert_eq!(rows.len(), items.len());
    let mut worst = 0f64;
    for (i, (row, probs)) in rows
        .iter()
        .zip(want["probs"].as_array().unwrap())
        .enumerate()
    {
        let probs: Vec<f64> = probs
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_f64().unwrap())
            .collect();
        let mut order: Vec<usize> = (0..probs.len()).collect();
        order.sort_by(|a, b| probs[*b].total_cmp(&probs[*a]));
        let (best, second) = (order[0], order[1]);
        let score = row["score"].as_f64().unwrap();
        worst = worst.max((score - probs[best]).abs());
        // A near tie may go either way at f32 precision; anything clearer must agree.
        if probs[best] - probs[second] > 1e-3 {
            assert_eq!(
                row["label"], classes[best],
                "text {i}: {:?}",
                items[i]["text"]
            );
        }
    }
    assert!(worst <= 1e-4, "max score difference {worst}");
    // What the head learnt, on texts it never saw.
    assert_eq!(rows[0]["label"], "python", "{:?}", items[0]["text"]);
    assert_eq!(rows[1]["label"], "rust", "{:?}", items[1]["text"]);
    assert_eq!(rows[3]["label"], "prose", "{:?}", items[3]["text"]);
}
