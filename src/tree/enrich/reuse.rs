//! Asking `definition` once per name where every occurrence has the same answer.
//!
//! `--lsp full` asks a definition at every identifier. Most answers are cheap, but those that
//! land in a stub (a standard-library name: `len`, `str`, `os`) are the dearest a Python server
//! gives: basedpyright maps each stub declaration back to a source file, scanning its import
//! cache every time (on the requests sdist, 1,085 such answers took 24 of the 36 server
//! seconds spent on definitions). Many of those occurrences are the same name meaning the
//! same thing, which the server's own semantic tokens say: a name the server marks
//! `defaultLibrary` that is not a member (no `classMember` modifier, not a method, property,
//! enum member or event, not after `.`, `->` or `::`) is the library's global of that name,
//! in every file. It is asked once per server session, and its answer copied to the others.
//!
//! Module names are not shared even within a file: `import chardet` and a later
//! `chardet = None` fallback give the uses after it two declarations, the import one.

use std::collections::HashMap;
use std::ops::Range;

use serde_json::Value;

use super::TokFact;

/// The key under which occurrences share an answer across the server session (it names the
/// method, the token type and the name).
pub(super) type Shared = String;

/// Token types of members, whose meaning depends on what they are a member of.
const MEMBER_TYPES: &[&str] = &["method", "property", "enumMember", "event", "member"];

/// Whether the occurrence at `start` follows a member access (`a.b`, `a->b`, `a::b`).
fn after_separator(text: &str, start: usize) -> bool {
    let before = text.get(..start).unwrap_or("").trim_end();
    before.ends_with('.') || before.ends_with("->") || before.ends_with("::")
}

/// How the occurrence `r` may share its answer, from the server's token there.
pub(super) fn shared(text: &str, token: Option<&TokFact>, r: &Range<usize>) -> Option<Shared> {
    let token = token?;
    let name = text.get(r.clone())?;
    let has = |m: &str| token.mods.iter().any(|x| x == m);
    if has("declaration") || has("definition") || after_separator(text, r.start) {
        return None;
    }
    let global =
        has("defaultLibrary") && !has("classMember") && !MEMBER_TYPES.contains(&token.ty.as_str());
    global.then(|| format!("textDocument/definition {} {name}", token.ty))
}

/// Which occurrences to ask: for each, `Ask` or the index of the occurrence whose answer it
/// takes (`Known` when the session already holds it).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Plan {
    Ask,
    Copy(usize),
    Known(Value),
}

/// The plan for `names`, given each one's sharing key and the session's remembered answers.
pub(super) fn plan(
    keys: &[Option<Shared>],
    remembered: impl Fn(&str) -> Option<Value>,
) -> Vec<Plan> {
    let mut first: HashMap<&Shared, usize> = HashMap::new();
    keys.iter()
        .enumerate()
        .map(|(k, key)| {
            let Some(key) = key else { return Plan::Ask };
            if let Some(&j) = first.get(key) {
                return Plan::Copy(j);
            }
            if let Some(v) = remembered(key) {
                return Plan::Known(v);
            }
            first.insert(key, k);
            Plan::Ask
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(ty: &str, mods: &[&str]) -> TokFact {
        TokFact {
            range: 0..0,
            ty: ty.into(),
            mods: mods.iter().map(|m| m.to_string()).collect(),
        }
    }

    #[test]
    fn only_standard_library_globals_are_shared() {
        let text = "import os\nx = len(os.sep)\ny = x.len\n";
        let at = |s: &str, nth: usize| {
            let start = text.match_indices(s).nth(nth).unwrap().0;
            start..start + s.len()
        };
        let builtin = tok("function", &["defaultLibrary", "builtin"]);
        assert_eq!(
            shared(text, Some(&builtin), &at("len", 0)),
            Some("textDocument/definition function len".into())
        );
        // The same token after `.` is a member: asked where it is.
        assert_eq!(shared(text, Some(&builtin), &at("len", 1)), None);
        let method = tok("method", &["defaultLibrary", "builtin", "classMember"]);
        assert_eq!(shared(text, Some(&method), &at("len", 0)), None);
        assert_eq!(
            shared(text, Some(&tok("namespace", &[])), &at("os", 1)),
            None
        );
        assert_eq!(shared(text, Some(&tok("variable", &[])), &at("x", 0)), None);
        assert_eq!(shared(text, None, &at("x", 0)), None);
        let declared = tok("namespace", &["declaration"]);
        assert_eq!(shared(text, Some(&declared), &at("os", 0)), None);
    }

    #[test]
    fn the_first_occurrence_of_a_name_is_asked_and_the_others_copy_it() {
        let s = |n: &str| Some(n.to_string());
        let keys = vec![None, s("len"), s("os"), s("len"), s("str"), s("os"), None];
        let memo = |k: &str| (k == "str").then(|| Value::from("kept"));
        assert_eq!(
            plan(&keys, memo),
            vec![
                Plan::Ask,
                Plan::Ask,
                Plan::Ask,
                Plan::Copy(1),
                Plan::Known(Value::from("kept")),
                Plan::Copy(2),
                Plan::Ask,
            ]
        );
    }
}
