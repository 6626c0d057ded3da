//! The visible text of an HTML page: tags dropped, `<script>`, `<style>`, `<template>` and
//! comments skipped, entities decoded, block elements on their own lines.

const SKIP: &[&str] = &["script", "style", "template", "noscript", "svg"];
const BLOCK: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "tr",
    "td",
    "th",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "header",
    "footer",
    "pre",
    "blockquote",
    "hr",
    "title",
    "nav",
    "main",
    "aside",
    "dd",
    "dt",
    "figure",
    "figcaption",
    "form",
];

/// `(title, text)`.
pub fn extract(html: &str) -> (Option<String>, String) {
    let mut out = String::with_capacity(html.len() / 2);
    let mut title: Option<String> = None;
    let mut in_title = false;
    let mut skip: Option<String> = None;
    let mut rest = html;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |i| &after[i + 3..]);
            continue;
        }
        if rest.starts_with('<') {
            let end = rest.find('>').map_or(rest.len(), |i| i + 1);
            let tag = &rest[1..end.saturating_sub(1).max(1)];
            rest = &rest[end..];
            let closing = tag.starts_with('/');
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            if let Some(s) = &skip {
                if closing && *s == name {
                    skip = None;
                }
                continue;
            }
            if name == "title" {
                in_title = !closing;
                if !closing {
                    title = Some(String::new());
                }
                continue;
            }
            if !closing && SKIP.contains(&name.as_str()) && !tag.ends_with('/') {
                skip = Some(name);
                continue;
            }
            if BLOCK.contains(&name.as_str()) && !out.ends_with('\n') && !out.is_empty() {
                out.push('\n');
            }
            continue;
        }
        let end = rest.find('<').unwrap_or(rest.len());
        let text = decode(&rest[..end]);
        rest = &rest[end..];
        if in_title {
            if let Some(t) = title.as_mut() {
                t.push_str(&text);
            }
            continue;
        }
        if skip.is_some() {
            continue;
        }
        for word in text.split_whitespace() {
            if !out.is_empty() && !out.ends_with('\n') && !out.ends_with(' ') {
                out.push(' ');
            }
            out.push_str(word);
        }
        if text.ends_with(char::is_whitespace) && !out.ends_with(['\n', ' ']) && !out.is_empty() {
            out.push(' ');
        }
    }
    let text = out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let title = title.map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "));
    (title, text)
}

fn decode(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest[..rest.len().min(12)].find(';');
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some(' '),
                "ndash" => Some('–'),
                "mdash" => Some('—'),
                "hellip" => Some('…'),
                "copy" => Some('©'),
                "reg" => Some('®'),
                "trade" => Some('™'),
                "euro" => Some('€'),
                "pound" => Some('£'),
                "lsquo" => Some('‘'),
                "rsquo" => Some('’'),
                "ldquo" => Some('“'),
                "rdquo" => Some('”'),
                "laquo" => Some('«'),
                "raquo" => Some('»'),
                "middot" => Some('·'),
                "times" => Some('×'),
                "deg" => Some('°'),
                "eacute" => Some('é'),
                "egrave" => Some('è'),
                "aacute" => Some('á'),
                "agrave" => Some('à'),
                "ouml" => Some('ö'),
                "uuml" => Some('ü'),
                "auml" => Some('ä'),
                "szlig" => Some('ß'),
                "ccedil" => Some('ç'),
                "ntilde" => Some('ñ'),
                n if n.starts_with("#x") || n.starts_with("#X") => u32::from_str_radix(&n[2..], 16)
                    .ok()
                    .and_then(char::from_u32),
                n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            c.map(|c| (c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_visible_text_only() {
        let (title, text) = super::extract(
            "<html><head><title>T &amp; U</title><style>p{}</style></head>\
             <body><p>Hello <b>world</b></p><script>x()</script><!-- c --><p>caf&#233; &lt;3</p></body></html>",
        );
        assert_eq!(title.as_deref(), Some("T & U"));
        assert_eq!(text, "Hello world\ncafé <3");
    }
}
