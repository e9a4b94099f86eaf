//! The direction of dependencies (docs/architecture.md): no import cycle between the
//! top-level modules of `src/`. It reads the source, as a reviewer would: every
//! `crate::module` (also inside `use crate::{a, b}` and `super::` paths that reach the
//! crate root) in a module's files is an edge from that module; items of `lib.rs` itself
//! (`App`, `Server`) are the node `lib`.
//!
//! cargo test --test api architecture

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Edges allowed to close a cycle, each with its reason: none since `App` left the crate
/// root for `app.rs` and the workers took a narrow `jobs::Context`; none may be added.
const KNOWN_EDGES: [(&str, &str, &str); 0] = [];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Source without comments (a comment may name a module it does not use).
fn code(text: &str) -> String {
    text.lines().map(|l| l.split_once("//").map_or(l, |(code, _)| code)).collect::<Vec<_>>().join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The first path segments after each crate-root prefix in `code`; `depth` is how many
/// `super::` lead from this file to the crate root.
fn root_names(code: &str, depth: usize) -> Vec<String> {
    let mut names = Vec::new();
    let mut previous = ' ';
    for (at, c) in code.char_indices() {
        let starts_path = !(is_ident(previous) || previous == ':' || previous == '$');
        previous = c;
        if !starts_path {
            continue;
        }
        let rest = &code[at..];
        let after = if let Some(after) = rest.strip_prefix("crate::").or_else(|| rest.strip_prefix("$crate::")) {
            after
        } else if depth > 0 && rest.starts_with("super::") {
            let mut after = rest;
            let mut supers = 0;
            while let Some(tail) = after.strip_prefix("super::") {
                supers += 1;
                after = tail;
            }
            if supers != depth {
                continue;
            }
            after
        } else {
            continue;
        };
        if let Some(group) = after.strip_prefix('{') {
            // `use crate::{a::b, c}`: the names at the group's own depth.
            let (mut level, mut current) = (1, String::new());
            for c in group.chars() {
                match c {
                    '{' => level += 1,
                    '}' => level -= 1,
                    ',' if level == 1 => names.push(std::mem::take(&mut current)),
                    _ if level == 1 => current.push(c),
                    _ => {}
                }
                if level == 0 {
                    break;
                }
            }
            names.push(current);
        } else {
            names.push(after.chars().take_while(|c| is_ident(*c)).collect());
        }
    }
    names.into_iter().map(|n| n.trim().split("::").next().unwrap_or("").trim().to_owned()).collect()
}

/// module → (module it uses → one file that uses it).
fn dependencies() -> BTreeMap<String, BTreeMap<String, String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|f| f.strip_prefix(&src).unwrap().components().next())
        .map(|c| c.as_os_str().to_string_lossy().trim_end_matches(".rs").to_owned())
        .filter(|m| m != "main" && m != "lib")
        .collect();
    let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for file in &files {
        let relative: Vec<String> = file
            .strip_prefix(&src)
            .unwrap()
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let (module, depth) = match relative.as_slice() {
            [only] if only == "main.rs" => continue,
            [only] if only == "lib.rs" => ("lib".to_owned(), 0),
            _ => {
                let below = relative.len() - usize::from(relative.last().unwrap() == "mod.rs");
                (relative[0].trim_end_matches(".rs").to_owned(), below)
            }
        };
        let code = code(&std::fs::read_to_string(file).unwrap());
        let mut names = root_names(&code, depth);
        if module == "lib" {
            // lib.rs names its modules without a prefix (`store::Db`).
            for m in &modules {
                if code.contains(&format!(" {m}::")) || code.contains(&format!("({m}::")) {
                    names.push(m.clone());
                }
            }
        }
        for name in names {
            let target = match name.as_str() {
                "App" | "Server" => "lib".to_owned(),
                m if modules.contains(m) => m.to_owned(),
                _ => continue,
            };
            if target != module {
                let shown = relative.join("/");
                graph.entry(module.clone()).or_default().entry(target).or_insert(shown);
            }
        }
    }
    graph
}

/// A cycle through `start`, if there is one, as the modules along it.
fn cycle_from(graph: &BTreeMap<String, BTreeMap<String, String>>, start: &str) -> Option<Vec<String>> {
    fn walk(
        graph: &BTreeMap<String, BTreeMap<String, String>>,
        start: &str,
        at: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in graph.get(at).into_iter().flat_map(|m| m.keys()) {
            if next == start {
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, start, next, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_owned()];
    walk(graph, start, start, &mut path, &mut BTreeSet::new()).then(|| {
        path.push(start.to_owned());
        path
    })
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let mut graph = dependencies();
    assert!(graph["cli"].contains_key("bootstrap") && graph["store"].contains_key("domain"), "the reader finds edges");
    for (from, to, _why) in KNOWN_EDGES {
        graph.get_mut(from).map(|edges| edges.remove(to));
    }
    let cycles: Vec<String> = graph
        .keys()
        .filter_map(|m| cycle_from(&graph, m))
        .map(|path| {
            let steps: Vec<String> =
                path.windows(2).map(|w| format!("{} → {} ({})", w[0], w[1], graph[&w[0]][&w[1]])).collect();
            steps.join(", ")
        })
        .collect();
    assert!(cycles.is_empty(), "import cycles between top-level modules:\n{}", cycles.join("\n"));
}

/// The surfaces parse, call the core and render (docs/architecture.md): what they name of
/// the crate is the core's, the domain's or their own, so that authentication, the
/// transport and the application's wiring stay out of them.
#[test]
fn api_imports_only_core_domain_and_itself() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src.join("api"), &mut files);
    let mut strays = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let depth = relative.components().count() - usize::from(relative.ends_with("mod.rs"));
        for name in root_names(&code(&std::fs::read_to_string(file).unwrap()), depth) {
            if !["api", "core", "domain"].contains(&name.as_str()) {
                strays.push(format!("{} uses crate::{name}", relative.display()));
            }
        }
    }
    assert!(files.len() > 20, "the reader finds the surfaces");
    assert!(strays.is_empty(), "api reaches past core and domain:\n{}", strays.join("\n"));
    let graph = dependencies();
    assert!(!graph["bootstrap"].contains_key("api"), "bootstrap uses api ({})", graph["bootstrap"]["api"]);
}
