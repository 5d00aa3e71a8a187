//! The crate's module graph: every `crate::` path (and every `super::` path that climbs to the
//! crate root) in the code of a top-level module of `src/` is an edge to another top-level
//! module, and the graph must have no cycle. A cycle fails the test with the modules around it
//! and the file and line of each edge, so the layering `lib.rs` describes stays true.
//!
//! Comments are skipped (intra-doc links are not dependencies); `src/main.rs` and `src/lib.rs`
//! are the roots, not modules, but a path through one of `lib.rs`'s re-exports (`crate::Error`)
//! is an edge to the module it re-exports from. An inline `mod name {` (a test module, by the
//! crate's convention at the end of its file) moves the rest of its file one level down.
//! Front ends have a stricter rule: they read `ir` and `data` only ([`FRONT_MAY_READ`]).

use crate::common::root;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Where one module refers to another: `(file, line)`.
type Site = (String, usize);

/// Edges `from → to` between top-level modules, with the first place each one is written.
type Graph = BTreeMap<String, BTreeMap<String, Site>>;

/// The code of a line without its `//` comment (string literals holding `//` are rare enough in
/// this crate that they only ever hide an edge, never invent one).
fn code(line: &str) -> &str {
    match line.find("//") {
        Some(i) => &line[..i],
        None => line,
    }
}

fn ident_at(s: &str) -> Option<&str> {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    (end > 0).then(|| &s[..end])
}

/// The top-level modules named right after the crate root in `rest` (the text following
/// `crate::`): one identifier, or the first identifier of every item of a `{...}` group.
fn roots_of(rest: &str) -> Vec<String> {
    let Some(group) = rest.strip_prefix('{') else {
        return ident_at(rest).map(String::from).into_iter().collect();
    };
    let mut names = Vec::new();
    let mut depth = 0;
    let mut item_start = true;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => item_start = true,
            c if c.is_whitespace() => {}
            _ => {
                if item_start && depth == 0 {
                    names.extend(ident_at(&group[i..]).map(String::from));
                }
                item_start = false;
            }
        }
    }
    names
}

/// The module path of a source file below `src/` (`bounds/mod.rs` → `[bounds]`,
/// `front/onnx/ops/conv.rs` → `[front, onnx, ops, conv]`).
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" {
        parts.push(stem.to_string());
    }
    parts
}

/// Names right below the crate root that the code of `text` (the file at module path `path`)
/// refers to, with their lines.
fn references(path: &[String], text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut path = path.to_vec();
    for (n, line) in text.lines().enumerate() {
        let line = code(line);
        let item = line
            .trim_start()
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub ");
        if let Some(inline) = item.strip_prefix("mod ").and_then(ident_at) {
            if item.trim_end().ends_with('{') {
                path.push(inline.to_string());
            }
        }
        for (i, _) in line.match_indices("crate::") {
            let before = &line[..i];
            if before.ends_with('$') || before.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            out.extend(roots_of(&line[i + "crate::".len()..]).into_iter().map(|m| (m, n + 1)));
        }
        // `super::` chains that climb out of the top-level module reach the crate root.
        let mut rest = line;
        while let Some(i) = rest.find("super::") {
            let start = &rest[i..];
            let mut climbs = 0;
            let mut tail = start;
            while let Some(t) = tail.strip_prefix("super::") {
                climbs += 1;
                tail = t;
            }
            let boundary = rest[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
            if !boundary && climbs >= path.len() {
                out.extend(roots_of(tail).into_iter().map(|m| (m, n + 1)));
            }
            rest = &start["super::".len() * climbs..];
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// `lib.rs`'s `pub use module::Name;` re-exports, as `Name → module`.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    lib.lines()
        .filter_map(|l| code(l).trim().strip_prefix("pub use ")?.strip_suffix(';'))
        .filter_map(|path| {
            let (module, rest) = path.split_once("::")?;
            let name = rest.rsplit("::").next()?.rsplit(" as ").next()?.trim();
            (ident_at(name) == Some(name)).then(|| (name.to_string(), module.to_string()))
        })
        .collect()
}

/// The graph of `src/`: nodes are its top-level modules (files and folders beside `lib.rs`).
fn graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|f| module_path(f.strip_prefix(src).expect("below src")).first().cloned())
        .filter(|m| m != "lib" && m != "main" && m != "bin")
        .collect();
    let lib = fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let reexported = reexports(&lib);
    let mut graph = Graph::new();
    for file in files {
        let rel = file.strip_prefix(src).expect("below src");
        let path = module_path(rel);
        if path.is_empty() || path == ["lib"] || path == ["main"] || path[0] == "bin" {
            continue;
        }
        let text = fs::read_to_string(&file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        let from = path[0].clone();
        let edges = graph.entry(from.clone()).or_default();
        for (to, line) in references(&path, &text) {
            let to = reexported.get(&to).cloned().unwrap_or(to);
            if to != from && modules.contains(&to) {
                edges
                    .entry(to)
                    .or_insert_with(|| (format!("src/{}", rel.display()), line));
            }
        }
    }
    graph
}

/// Strongly connected components with more than one module (Tarjan), each sorted.
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        let graph = s.graph;
        for w in graph.get(v).into_iter().flat_map(|e| e.keys()) {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            loop {
                let w = s.stack.pop().expect("on the stack");
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out.sort();
    s.out
}

/// The edges inside one component, as `a -> b (file:line)` lines.
fn describe(graph: &Graph, component: &[String]) -> String {
    let mut text = format!("import cycle between {}:\n", component.join(", "));
    for from in component {
        for (to, (file, line)) in &graph[from] {
            if component.contains(to) {
                text += &format!("  {from} -> {to}  ({file}:{line})\n");
            }
        }
    }
    text
}

#[test]
fn top_level_modules_have_no_import_cycle() {
    let graph = graph(&root().join("src"));
    let edges: usize = graph.values().map(|e| e.len()).sum();
    assert!(
        graph.contains_key("ir") && graph.contains_key("bounds") && edges >= 20,
        "read only {edges} edges between {:?}: the scan is broken",
        graph.keys().collect::<Vec<_>>()
    );
    assert!(
        graph.get("lower").is_some_and(|e| e.contains_key("bounds")),
        "lower reads bounds: the scan missed it"
    );
    let found: Vec<String> = cycles(&graph).iter().map(|c| describe(&graph, c)).collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// Front ends parse what comes in (ONNX, VNN-LIB, solvers' solution files) into `ir` terms: they
/// read `ir`, and `data` for its capped file reads, and nothing else, so a front end never
/// depends on the compiler's later stages or on a back end (the model-file reader, which needs
/// `milp`, lives in `back::read`). Direct imports only: `data` itself writes its pictures through
/// `back::atomic`.
const FRONT_MAY_READ: &[&str] = &["ir", "data"];

#[test]
fn front_ends_read_only_ir() {
    let graph = graph(&root().join("src"));
    let edges = graph.get("front").expect("front reads ir: the scan missed it");
    assert!(edges.contains_key("ir"), "front reads ir: the scan missed it");
    let bad: Vec<String> = edges
        .iter()
        .filter(|(to, _)| !FRONT_MAY_READ.contains(&to.as_str()))
        .map(|(to, (file, line))| format!("  front -> {to}  ({file}:{line})"))
        .collect();
    assert!(
        bad.is_empty(),
        "a front end imports past ir (allowed: {FRONT_MAY_READ:?}):\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_scan_sees_grouped_imports_super_paths_and_cycles() {
    let path = |p: &str| module_path(Path::new(p));
    let refs =
        |p: &str, text: &str| -> Vec<String> { references(&path(p), text).into_iter().map(|(m, _)| m).collect() };
    assert_eq!(refs("a/b.rs", "use crate::{x::Y, z, w::{P, Q}};"), ["x", "z", "w"]);
    assert_eq!(refs("a/mod.rs", "use super::x::Y; // crate::q"), ["x"]);
    assert_eq!(refs("a/b.rs", "use super::c; use super::super::d;"), ["d"]);
    assert_eq!(
        refs("a/b.rs", "fn f() -> my_crate::X { $crate::y }"),
        Vec::<String>::new()
    );
    assert_eq!(
        refs(
            "a/b.rs",
            "mod tests {\n use super::super::x;\n use super::super::super::y;"
        ),
        ["y"]
    );
    assert_eq!(
        reexports("pub mod error;\npub use error::Error;\npub use a::b::{C};\npub use d::E as F;"),
        BTreeMap::from([
            ("Error".to_string(), "error".to_string()),
            ("F".to_string(), "d".to_string())
        ])
    );
    let mut g = Graph::new();
    let site = || ("f".to_string(), 1);
    for (a, b) in [("ir", "bounds"), ("bounds", "lower"), ("lower", "ir"), ("back", "milp")] {
        g.entry(a.into()).or_default().insert(b.into(), site());
    }
    let found = cycles(&g);
    assert_eq!(found, [["bounds", "ir", "lower"]]);
    let text = describe(&g, &found[0]);
    assert!(text.contains("bounds -> lower") && !text.contains("milp"), "{text}");
}
