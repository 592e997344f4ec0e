//! Checks on a GraphQL request before async-graphql parses, validates or executes it.
//!
//! async-graphql's parser and validators recurse: a list nested 2,000 deep overflows the stack
//! and aborts the process, and fragments spread into each other expand exponentially in the
//! validators that inline them. So every document first passes a cheap, non-recursive scan of
//! its text, then a walk of the parsed document that expands each fragment once (memoised) to
//! count what execution would see. Only then does async-graphql get it, already parsed.

use std::collections::HashMap;

use async_graphql::parser::parse_query;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, ServerError};

use crate::error::AppError;

/// Deepest nesting of brackets (`{`, `[`, `(`) in a query's text or a request's JSON. Far below
/// what the parser's recursion can take on a 2 MiB stack, far above any real query (the
/// standard introspection query nests 22 deep).
pub const MAX_NESTING: usize = 64;
/// Deepest nesting of data fields. Introspection (`__schema`, `__type`) is not counted: it
/// reads the schema, not the database, and tools nest `ofType` nine levels deep.
pub const MAX_DEPTH: usize = 10;
/// Most fields a document may select once its fragments are expanded.
pub const MAX_FIELDS: usize = 1_000;
/// Most aliased fields a document may select once its fragments are expanded.
pub const MAX_ALIASES: usize = 30;

/// Refuses text that nests brackets deeper than `MAX_NESTING`. GraphQL lexing is followed
/// only as far as needed: strings, block strings and comments do not count. Linear, no
/// recursion, no allocation.
pub fn check_query_nesting(text: &str) -> Result<(), AppError> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0usize;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    // An escaped triple quote inside a block string.
                    if bytes[i..].starts_with(b"\\\"\"\"") {
                        i += 4;
                    } else {
                        i += 1;
                    }
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(AppError::ValidationFailed(too_deep("the query")));
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Refuses JSON (a request body) that nests arrays and objects deeper than `MAX_NESTING`.
pub fn check_json_nesting(body: &[u8]) -> Result<(), AppError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in body {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(AppError::BadUserInput(too_deep("the request's JSON")));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn too_deep(what: &str) -> String {
    format!("{what} nests brackets more than {MAX_NESTING} deep")
}

/// What a selection set amounts to once its fragments are expanded.
#[derive(Clone, Copy, Default)]
struct Size {
    /// Deepest chain of data fields.
    depth: usize,
    /// Fields, introspection included.
    fields: usize,
    aliases: usize,
    /// Whether `__schema` or `__type` is asked for.
    introspection: bool,
    /// Whether a heavy field (`super::HEAVY_FIELDS`) is asked for.
    heavy: bool,
    /// Whether a field of case data (`super::CASE_FIELDS`) is asked for.
    case_data: bool,
}

impl Size {
    fn add(&mut self, other: Size) {
        self.introspection |= other.introspection;
        self.heavy |= other.heavy;
        self.case_data |= other.case_data;
        self.depth = self.depth.max(other.depth);
        self.fields = self.fields.saturating_add(other.fields);
        self.aliases = self.aliases.saturating_add(other.aliases);
    }
}

enum Memo {
    Visiting,
    Done(Size),
}

struct Walker<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    memo: HashMap<&'a str, Memo>,
    /// Fragments being expanded, one inside another.
    open: usize,
}

impl<'a> Walker<'a> {
    fn selection_set(
        &mut self,
        set: &'a SelectionSet,
        introspection: bool,
    ) -> Result<Size, AppError> {
        let mut size = Size::default();
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let name = field.name.node.as_str();
                    let inner = introspection || name == "__schema" || name == "__type";
                    let child = self.selection_set(&field.selection_set.node, inner)?;
                    size.add(Size {
                        depth: if inner { 0 } else { child.depth + 1 },
                        fields: child.fields.saturating_add(1),
                        aliases: child.aliases + usize::from(field.alias.is_some()),
                        introspection: inner,
                        heavy: child.heavy || super::HEAVY_FIELDS.contains(&name),
                        case_data: child.case_data || super::CASE_FIELDS.contains(&name),
                    });
                }
                Selection::InlineFragment(fragment) => {
                    size.add(self.selection_set(&fragment.node.selection_set.node, introspection)?);
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    let mut inner = self.fragment(name)?;
                    if introspection {
                        inner.depth = 0;
                    }
                    size.add(inner);
                }
            }
            if size.fields > MAX_FIELDS {
                break;
            }
        }
        Ok(size)
    }

    /// A fragment's size, computed once however often it is spread.
    fn fragment(&mut self, name: &'a str) -> Result<Size, AppError> {
        match self.memo.get(name) {
            Some(Memo::Done(size)) => return Ok(*size),
            Some(Memo::Visiting) => {
                return Err(AppError::ValidationFailed(format!(
                    "fragment {name} spreads itself (directly or through other fragments)"
                )));
            }
            None => {}
        }
        let Some(def) = self.fragments.get(name) else {
            // Validation reports unknown fragments.
            return Ok(Size::default());
        };
        if self.open >= MAX_NESTING {
            return Err(AppError::ValidationFailed(format!(
                "fragments are spread inside each other more than {MAX_NESTING} deep"
            )));
        }
        self.memo.insert(name, Memo::Visiting);
        self.open += 1;
        let size = self.selection_set(&def.node.selection_set.node, false);
        self.open -= 1;
        let size = size?;
        self.memo.insert(name, Memo::Done(size));
        Ok(size)
    }
}

/// Refuses a parsed document whose data fields nest deeper than `MAX_DEPTH`, or that selects
/// more than `MAX_FIELDS` fields or `MAX_ALIASES` aliases once fragments are expanded, or whose
/// fragments spread themselves. Each fragment is walked once, so this is linear in the text.
/// Says whether the document asks for heavy work.
pub fn check_document(doc: &ExecutableDocument, introspection: bool) -> Result<Checked, AppError> {
    // The recursion is bounded: braces nest at most MAX_NESTING deep (checked on the text),
    // and so do fragments spread inside fragments (checked here).
    let mut walker = Walker {
        fragments: &doc.fragments,
        memo: HashMap::new(),
        open: 0,
    };
    let mut checked = Checked {
        without_variables: true,
        ..Checked::default()
    };
    for (_, op) in doc.operations.iter() {
        checked.mutation |= op.node.ty == async_graphql::parser::types::OperationType::Mutation;
        checked.without_variables &= op.node.variable_definitions.is_empty();
        let size = walker.selection_set(&op.node.selection_set.node, false)?;
        checked.heavy |= size.heavy;
        checked.case_data |= size.case_data;
        if size.fields > MAX_FIELDS {
            return Err(AppError::ValidationFailed(format!(
                "the query selects more than {MAX_FIELDS} fields once its fragments are expanded"
            )));
        }
        if size.aliases > MAX_ALIASES {
            return Err(AppError::ValidationFailed(format!(
                "the query uses {} aliases; at most {MAX_ALIASES} are allowed",
                size.aliases
            )));
        }
        if size.introspection && !introspection {
            return Err(AppError::ValidationFailed(
                "introspection is off on this service (CSPHUB_INTROSPECTION): build clients on \
                 the published schema.graphql"
                    .to_owned(),
            ));
        }
        if size.depth > MAX_DEPTH {
            return Err(AppError::ValidationFailed(format!(
                "the query nests fields {} deep; at most {MAX_DEPTH} are allowed",
                size.depth
            )));
        }
    }
    Ok(checked)
}

/// What the checks found out about a document that the request path needs before it runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checked {
    /// Some operation of the document selects a heavy field (statistics, reports): the request
    /// takes a heavy slot before it takes a connection.
    pub heavy: bool,
    /// Some operation of the document is a mutation: its data loaders keep no cache, so that
    /// what one mutation wrote is what the next one reads.
    pub mutation: bool,
    /// Some operation reads or writes case data: the request's statements use generic plans
    /// (see `db::request::Caller::generic_plans`).
    pub case_data: bool,
    /// No operation of the document declares a variable, so that async-graphql's validation of
    /// it depends on its text and operation name alone: once it has passed, it always passes
    /// (`DocumentCache::passed_validation`).
    pub without_variables: bool,
    /// async-graphql's full validation has passed before for this text and operation name, and
    /// the document has no variables: it need not run again (`graphql::build_schema_validated`).
    pub validated: bool,
}

/// Runs every check on a request and hands async-graphql the parsed document, so that the
/// text is parsed once and only after it has been found safe to parse. With introspection off,
/// `__schema` and `__type` are refused. A text seen before is not parsed or checked again: its
/// document comes from `cache` (the same text always gives the same document and verdict).
pub fn prepare(
    mut request: async_graphql::Request,
    introspection: bool,
    cache: &DocumentCache,
) -> Result<(async_graphql::Request, Checked), Vec<ServerError>> {
    let (doc, checked) = match cache.get(&request.query, request.operation_name.as_deref()) {
        Some(hit) => hit,
        None => {
            let refuse = |e: AppError| {
                let mut err = ServerError::new(e.to_string(), None);
                err.extensions
                    .get_or_insert_with(Default::default)
                    .set("code", e.code());
                vec![err]
            };
            check_query_nesting(&request.query).map_err(refuse)?;
            let doc = parse_query(&request.query).map_err(|e| {
                let mut err = ServerError::from(e);
                err.extensions
                    .get_or_insert_with(Default::default)
                    .set("code", crate::error::PARSE_FAILED);
                vec![err]
            })?;
            let checked = check_document(&doc, introspection).map_err(refuse)?;
            cache.put(&request.query, &doc, checked);
            (doc, checked)
        }
    };
    request.set_parsed_query(doc);
    if !introspection {
        // Refused above already; this keeps async-graphql from answering it too.
        request = request.disable_introspection();
    }
    Ok((request, checked))
}

/// Documents that passed every check, by their exact text, so that the few queries a
/// front-end sends over and over are parsed once. Bounded in entries and in the length of a
/// text kept (so a parsed document kept is small: a caller who sends distinct large queries
/// cannot fill memory with them); a flood of distinct queries only evicts, and refused
/// documents are never kept.
pub struct DocumentCache {
    entries: std::sync::Mutex<lru::LruCache<String, Cached>>,
}

struct Cached {
    doc: ExecutableDocument,
    checked: Checked,
    /// The operation names (`None`: the request named none) that async-graphql's full
    /// validation has passed for, for a document without variables. At most one per
    /// operation of the document and none, since no other name gets past validation.
    validated: Vec<Option<String>>,
}

/// Documents kept by the cache.
pub const CACHED_DOCUMENTS: usize = 256;
/// Longest text the cache keeps.
pub const CACHED_TEXT: usize = 4 * 1024;

impl Default for DocumentCache {
    fn default() -> Self {
        Self {
            entries: std::sync::Mutex::new(lru::LruCache::new(
                std::num::NonZeroUsize::new(CACHED_DOCUMENTS)
                    .unwrap_or(std::num::NonZeroUsize::MIN),
            )),
        }
    }
}

impl DocumentCache {
    fn get(&self, text: &str, operation: Option<&str>) -> Option<(ExecutableDocument, Checked)> {
        let mut entries = self.entries.lock().ok()?;
        let cached = entries.get(text)?;
        let validated = cached.validated.iter().any(|v| v.as_deref() == operation);
        let checked = Checked {
            validated,
            ..cached.checked
        };
        Some((cached.doc.clone(), checked))
    }

    fn put(&self, text: &str, doc: &ExecutableDocument, checked: Checked) {
        if text.len() > CACHED_TEXT {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            let cached = Cached {
                doc: doc.clone(),
                checked,
                validated: Vec::new(),
            };
            entries.put(text.to_owned(), cached);
        }
    }

    /// Records that async-graphql's full validation passed for this text and operation name.
    /// Only a document without variables is recorded (its verdict cannot change), and only
    /// while it is cached.
    pub fn passed_validation(&self, text: &str, operation: Option<&str>) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let Some(cached) = entries.peek_mut(text) else {
            return;
        };
        let operations = match &cached.doc.operations {
            DocumentOperations::Single(_) => 1,
            DocumentOperations::Multiple(ops) => ops.len(),
        };
        if cached.checked.without_variables
            && cached.validated.len() <= operations
            && !cached.validated.iter().any(|v| v.as_deref() == operation)
        {
            cached.validated.push(operation.map(str::to_owned));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(q: &str) -> Result<(), AppError> {
        check_query_nesting(q)?;
        let doc = parse_query(q).map_err(|e| AppError::BadUserInput(e.to_string()))?;
        check_document(&doc, true).map(|_| ())
    }

    #[test]
    fn nesting_in_strings_and_comments_does_not_count() {
        let deep = "[".repeat(500);
        assert!(check_query_nesting(&format!("{{ a(x: \"{deep}\") }}")).is_ok());
        assert!(check_query_nesting(&format!("{{ a(x: \"\"\"{deep}\"\"\") }}")).is_ok());
        assert!(check_query_nesting(&format!("# {deep}\n{{ a }}")).is_ok());
        assert!(check_query_nesting(&format!("{{ a(x: {deep}) }}")).is_err());
        assert!(check_json_nesting(format!("{{\"q\": \"{deep}\"}}").as_bytes()).is_ok());
        assert!(check_json_nesting(deep.as_bytes()).is_err());
        let ok = "[".repeat(MAX_NESTING);
        assert!(check_json_nesting(ok.as_bytes()).is_ok());
    }

    #[test]
    fn an_exponential_fragment_bomb_is_refused_quickly() {
        let mut q = String::from("{ ...F30 }\nfragment F0 on Query { me { sub } }\n");
        for i in 1..=30 {
            q.push_str(&format!(
                "fragment F{i} on Query {{ ...F{} ...F{} }}\n",
                i - 1,
                i - 1
            ));
        }
        let err = check(&q).expect_err("refused");
        assert!(err.to_string().contains("more than 1000 fields"), "{err}");
    }

    #[test]
    fn fragment_cycles_are_refused() {
        let err = check("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }")
            .expect_err("refused");
        assert!(err.to_string().contains("spreads itself"), "{err}");
    }

    #[test]
    fn depth_counts_data_fields_only() {
        let deep_data = format!("{}{}", "{ a ".repeat(11), "}".repeat(11));
        assert!(check(&deep_data).is_err());
        let ten = format!("{}{}", "{ a ".repeat(10), "}".repeat(10));
        assert!(check(&ten).is_ok());
        let deep_introspection = format!(
            "{{ __schema {{ types {}{} }} }}",
            "{ ofType ".repeat(15),
            "}".repeat(15)
        );
        assert!(check(&deep_introspection).is_ok());
    }

    #[test]
    fn aliases_are_capped() {
        let many: String = (0..31).map(|i| format!("a{i}: me {{ sub }} ")).collect();
        let err = check(&format!("{{ {many} }}")).expect_err("refused");
        assert!(err.to_string().contains("31 aliases"), "{err}");
    }

    #[test]
    fn the_document_cache_keeps_what_passed_and_nothing_else() {
        let cache = DocumentCache::default();
        let ok = "{ plans { title } incidentStats { total { count } } }";
        let (_, first) = prepare(async_graphql::Request::new(ok), false, &cache).expect("passes");
        assert!(first.heavy);
        let (doc, again) = cache.get(ok, None).expect("kept");
        assert_eq!(again, first);
        assert_eq!(doc.operations.iter().count(), 1);
        let (_, hit) = prepare(async_graphql::Request::new(ok), false, &cache).expect("passes");
        assert_eq!(hit, first);

        let refused = "{ __schema { types { name } } }";
        assert!(prepare(async_graphql::Request::new(refused), false, &cache).is_err());
        assert!(cache.get(refused, None).is_none());
        assert!(prepare(async_graphql::Request::new(refused), false, &cache).is_err());

        let long = format!("{{ plans {{ title }} }} #{}", "x".repeat(CACHED_TEXT));
        assert!(prepare(async_graphql::Request::new(long.as_str()), false, &cache).is_ok());
        assert!(cache.get(&long, None).is_none());
    }

    #[test]
    fn a_pass_of_validation_is_kept_per_operation_name_for_documents_without_variables() {
        let cache = DocumentCache::default();
        let two = "query A { plans { title } } query B { plans { id } }";
        let (_, first) = prepare(async_graphql::Request::new(two), false, &cache).expect("passes");
        assert!(first.without_variables && !first.validated);
        cache.passed_validation(two, Some("A"));
        cache.passed_validation(two, Some("A"));
        assert!(cache.get(two, Some("A")).expect("kept").1.validated);
        assert!(!cache.get(two, Some("B")).expect("kept").1.validated);
        assert!(!cache.get(two, None).expect("kept").1.validated);
        assert_eq!(
            cache
                .entries
                .lock()
                .expect("lock")
                .peek(two)
                .expect("kept")
                .validated
                .len(),
            1
        );

        // Variables: never recorded, whatever the caller says.
        let vars = "query($n: Int) { plans(first: $n) { title } }";
        let (_, checked) =
            prepare(async_graphql::Request::new(vars), false, &cache).expect("passes");
        assert!(!checked.without_variables);
        cache.passed_validation(vars, None);
        assert!(!cache.get(vars, None).expect("kept").1.validated);

        // A text not cached (too long) is not recorded either.
        let long = format!("{{ plans {{ title }} }} #{}", "x".repeat(CACHED_TEXT));
        cache.passed_validation(&long, None);
        assert!(cache.get(&long, None).is_none());
    }

    #[test]
    fn heavy_fields_are_found_through_aliases_and_fragments() {
        let heavy = |q: &str| {
            let doc = parse_query(q).expect("parses");
            check_document(&doc, false).expect("passes").heavy
        };
        assert!(heavy(
            "{ a: planProgress(planId: \"x\", quarter: \"q\") { quarter } }"
        ));
        assert!(heavy(
            "query Q { ...F } fragment F on Query { dataFreshness { months } }"
        ));
        assert!(heavy(
            "{ ... on Query { incidentStats { total { count } } } }"
        ));
        assert!(!heavy("{ plans { title } }"));
        let case_data = |q: &str| {
            let doc = async_graphql::parser::parse_query(q).expect("parses");
            check_document(&doc, false).expect("passes").case_data
        };
        assert!(case_data("{ cases { totalCount } }"));
        assert!(case_data(
            "{ p: plans { title } c: case(id: \"x\") { ref } }"
        ));
        assert!(case_data(
            "query { ...F } fragment F on Query { searchPeople(name: \"ab\") { fullName } }"
        ));
        assert!(case_data(
            "mutation { addCaseNote(input: {caseId: \"x\", text: \"t\", visibility: SHARED}) { id } }"
        ));
        assert!(!case_data("{ plans { title } incidents { totalCount } }"));
        assert!(heavy(
            "mutation M { x } query Q { incidentStats { total { count } } }"
        ));
    }
}
