//! The house's layers run one way (docs/ARCHITECTURE.md): every `crate::` path in `src/` is
//! read, and a module that names one of a higher layer, a circle between modules, or anything
//! that names the server assembly (`app`) fails this test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first. A module may name modules of its own layer or lower ones, never
/// higher ones; within a layer, `no_circle` keeps the names one-way.
const LAYERS: &[(&str, &[&str])] = &[
    ("base", &["error", "metrics", "scalar", "auth"]),
    ("domain", &["domain"]),
    ("db", &["db"]),
    ("services", &["service"]),
    ("graphql", &["graphql"]),
    ("http edge", &["http"]),
    ("rest", &["rest"]),
    (
        "entry points",
        &["app", "config", "demo", "import", "maintenance"],
    ),
];

/// Macros exported at the crate's root, by the module that defines them.
const MACROS: &[(&str, &str)] = &[("pg_row", "db")];

fn rank(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text without comments (line and block) and without string literals, so that prose and
/// messages that mention a module do not count.
fn code_only(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if text[i..].starts_with("//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if text[i..].starts_with("/*") {
            let end = text[i + 2..]
                .find("*/")
                .map_or(bytes.len(), |e| i + 2 + e + 2);
            i = end;
        } else if bytes[i] == b'"' && !text[..i].ends_with('\'') {
            // A string literal (raw strings are not used with quotes inside in src/).
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                if bytes[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else {
            let c = text[i..].chars().next().expect("char");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The top-level modules a file's code names: `crate::x` inline and in `use crate::{x, y::z}`.
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue; // e.g. `$crate::` or `my_crate::`
        }
        if let Some(group) = rest.strip_prefix('{') {
            // The names at the group's top level.
            let mut depth = 0;
            let mut name = String::new();
            let mut at_start = true;
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        if !name.is_empty() {
                            found.insert(std::mem::take(&mut name));
                        }
                        at_start = true;
                    }
                    c if at_start && (c.is_alphanumeric() || c == '_') => name.push(c),
                    _ if at_start && !name.is_empty() => {
                        found.insert(std::mem::take(&mut name));
                        at_start = false;
                    }
                    _ => {}
                }
            }
            if !name.is_empty() {
                found.insert(name);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
        .into_iter()
        .map(|m| {
            MACROS
                .iter()
                .find(|(name, _)| *name == m)
                .map_or(m, |(_, module)| (*module).to_owned())
        })
        .collect()
}

/// The modules named in attributes' strings, which async-graphql reads as code
/// (`#[graphql(complexity = "crate::graphql::list_cost(...)")]`): `code_only` drops strings.
fn named_in_attributes(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let line = line.trim_start();
        if !line.starts_with("#[") {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("\"crate::") {
            rest = &rest[at + "\"crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// Every top-level module of `src/` with the modules it names, and where.
fn graph() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        let first = relative
            .components()
            .next()
            .expect("a component")
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        // The crate's roots declare the modules; they are not a layer.
        if first == "lib" || first == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read a source file");
        let named = graph.entry(first.clone()).or_default();
        let named_here = named_modules(&code_only(&text))
            .into_iter()
            .chain(named_in_attributes(&text));
        for module in named_here {
            if module != first {
                named
                    .entry(module)
                    .or_default()
                    .insert(relative.display().to_string());
            }
        }
    }
    graph
}

#[test]
fn every_module_has_a_layer() {
    let unplaced: Vec<String> = graph()
        .keys()
        .filter(|m| rank(m).is_none())
        .cloned()
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules with no layer in tests/layers.rs (add them to LAYERS and to docs/ARCHITECTURE.md): {unplaced:?}"
    );
}

#[test]
fn every_name_is_a_module_with_a_layer() {
    // A name no layer holds (a new module, or something re-exported at the crate's root)
    // would otherwise pass unchecked.
    let unknown: Vec<String> = graph()
        .into_iter()
        .flat_map(|(module, named)| {
            named
                .into_iter()
                .filter(|(other, _)| rank(other).is_none())
                .map(move |(other, files)| format!("{module} names {other} in {files:?}"))
        })
        .collect();
    assert!(
        unknown.is_empty(),
        "names with no layer in tests/it/layers.rs:\n{}",
        unknown.join("\n")
    );
}

#[test]
fn no_module_names_a_higher_layer() {
    let mut wrong = Vec::new();
    for (module, named) in graph() {
        let Some(own) = rank(&module) else { continue };
        for (other, files) in named {
            match rank(&other) {
                Some(theirs) if theirs > own => wrong.push(format!(
                    "{module} ({}) names {other} ({}) in {files:?}",
                    LAYERS[own].0, LAYERS[theirs].0
                )),
                _ => {}
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "layers named upwards:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn nothing_names_the_server_assembly() {
    let wrong: Vec<String> = graph()
        .into_iter()
        .filter_map(|(module, named)| named.get("app").map(|files| format!("{module}: {files:?}")))
        .collect();
    assert!(wrong.is_empty(), "`app` is named by:\n{}", wrong.join("\n"));
}

#[test]
fn no_circle() {
    let graph = graph();
    // Depth-first search for a back edge.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node.to_owned());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flat_map(|n| n.keys()) {
            if graph.contains_key(next)
                && let Some(circle) = visit(next, graph, path, done)
            {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        let circle = visit(node, &graph, &mut Vec::new(), &mut done);
        assert!(
            circle.is_none(),
            "a circle: {}",
            circle.unwrap_or_default().join(" -> ")
        );
    }
}

#[test]
fn the_reader_finds_what_it_should() {
    let code = code_only(
        "use crate::{db, error::{AppError, X}, http::caller};\n// crate::app\nlet s = \"crate::app\"; crate::pg_row!(x); $crate::z",
    );
    let found: Vec<String> = named_modules(&code).into_iter().collect();
    assert_eq!(found, ["db", "error", "http"]);
    let in_attributes = named_in_attributes(
        "    #[graphql(complexity = \"crate::rest::cost(first)\")]\nlet x = \"crate::app\";",
    );
    assert_eq!(in_attributes.into_iter().collect::<Vec<_>>(), ["rest"]);
}

/// The layers below the APIs hold no resolver and no request context: `service` may derive
/// its results' GraphQL shape (a report's type is one definition for its GraphQL answer and its
/// JSON document), `db` and `domain` name no GraphQL at all.
#[test]
fn resolvers_stay_in_the_api() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut wrong = Vec::new();
    for (dir, forbidden) in [
        (
            "service",
            &[
                "Context<",
                "async_graphql::Context",
                "Object]",
                "ComplexObject",
                "InputObject",
                "dataloader",
            ][..],
        ),
        ("db", &["async_graphql"][..]),
        ("domain", &["async_graphql"][..]),
    ] {
        let mut files = Vec::new();
        rust_files(&src.join(dir), &mut files);
        for file in files {
            let code = code_only(&std::fs::read_to_string(&file).expect("read a source file"));
            for word in forbidden {
                if code.contains(word) {
                    wrong.push(format!("{} names {word}", file.display()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
