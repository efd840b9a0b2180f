//! Links from the docs to the code: every one names a file, and an item in it, that exists.

use super::*;

/// Every `[...](target)` link of a Markdown text: (text, target).
pub(crate) fn links(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        let before = &rest[..at];
        let label = before.rfind('[').map(|open| before[open + 1..].to_string()).unwrap_or_default();
        let after = &rest[at + 2..];
        let Some(close) = after.find(')') else { break };
        found.push((label, after[..close].to_string()));
        rest = &after[close..];
    }
    found
}

/// Whether `file` (Rust source) defines an item called `name`: a function, type, constant,
/// module, or an enum variant; or has methods for a type defined elsewhere (`impl Room`, in a
/// file beside the type's).
pub(crate) fn defines(source: &str, name: &str) -> bool {
    let kinds = ["fn", "struct", "enum", "trait", "type", "const", "static", "mod", "impl"];
    source.lines().map(str::trim_start).any(|line| {
        // `pub`, `pub(crate)`, `pub(super)`...
        let line = match line.strip_prefix("pub") {
            Some(rest) if rest.starts_with(' ') => rest.trim_start(),
            Some(rest) if rest.starts_with('(') => rest.split_once(") ").map_or(line, |(_, after)| after),
            _ => line,
        };
        kinds.iter().any(|kind| {
            line.strip_prefix(kind).and_then(|l| l.strip_prefix(' ')).is_some_and(|l| {
                l.strip_prefix(name).is_some_and(|after| !after.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
            })
        }) || (name.starts_with(char::is_uppercase)
            && line.strip_prefix(name).is_some_and(|after| after.starts_with([',', ' ', '('])))
    })
}

/// The docs name the code they describe, as [`module::item`](../src/module.rs). Each such link
/// must point at a file that exists and defines every named item, so a rename shows up here.
#[test]
fn docs_link_to_code_that_exists() {
    let mut broken = Vec::new();
    for doc in [WALKTHROUGH, ARCHITECTURE, PROTOCOL] {
        let text = read_doc(doc);
        let dir = doc_path(doc).parent().unwrap().to_path_buf();
        let mut code_links = 0;
        for (label, target) in links(&text) {
            if target.starts_with("http") || target.starts_with('#') || target.starts_with("mailto:") {
                continue;
            }
            let path = dir.join(target.split('#').next().unwrap());
            if !path.exists() {
                broken.push(format!("{doc}: the link [{label}]({target}) points at nothing"));
                continue;
            }
            // Only links named after an item (`module::Type::item`), not after a file.
            if !target.ends_with(".rs") || !label.starts_with('`') || label.contains(['/', '.']) {
                continue;
            }
            code_links += 1;
            let source = std::fs::read_to_string(&path).unwrap();
            let item = label.trim_matches('`');
            for segment in item.split("::").filter(|s| s.starts_with(|c: char| c.is_uppercase())) {
                if !defines(&source, segment) {
                    broken.push(format!("{doc}: [{label}]({target}): no {segment} in {target}"));
                }
            }
            let last = item.rsplit("::").next().unwrap();
            let module = path.file_stem().unwrap().to_str().unwrap();
            let is_module = last == module || (module == "mod" && path.parent().unwrap().ends_with(last));
            if !(is_module || defines(&source, last)) {
                broken
                    .push(format!("{doc}: [{label}]({target}): {target} defines no {last} (renamed? update the doc)"));
            }
        }
        if doc != PROTOCOL {
            assert!(code_links > 10, "{doc}: only {code_links} links to the code");
        }
    }
    assert!(broken.is_empty(), "{} links from the docs to the code are broken:\n{}", broken.len(), broken.join("\n"));
}
