//! `${ENV_VAR}` interpolation. `$${` writes a literal `${`.

/// Replaces every `${NAME}` in `text` with `lookup(NAME)`.
///
/// Returns `Err(Some(name))` for the first variable `lookup` does not know, and `Err(None)`
/// for an unterminated or empty `${`.
pub fn interpolate(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, Option<String>> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let end = after.find('}').ok_or(None)?;
            let name = &after[..end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(None);
            }
            out.push_str(&lookup(name).ok_or_else(|| Some(name.to_string()))?);
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Checks the `${...}` syntax of `text` without looking anything up.
pub(crate) fn check_syntax(text: &str) -> bool {
    interpolate(text, |_| Some(String::new())).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_and_escapes() {
        let env = |k: &str| (k == "A").then(|| "x".to_string());
        assert_eq!(interpolate("s3://${A}/p", env).unwrap(), "s3://x/p");
        assert_eq!(interpolate("$${A} $5", env).unwrap(), "${A} $5");
        assert_eq!(interpolate("${B}", env), Err(Some("B".into())));
        assert_eq!(interpolate("${A", env), Err(None));
        assert_eq!(interpolate("${}", env), Err(None));
    }
}
