//! The fuzz harness: one input is a small configuration repository, run
//! through everything `manifold build` does short of writing files.
//!
//! The input is split at NUL bytes (a TOML or YAML file never holds a raw
//! NUL) into
//! at most [`PATHS`]`.len()` parts, which become the files of [`PATHS`] in
//! order; an empty part is a missing file, bytes after the last path are
//! ignored. [`run`] loads them with `load_files`, compiles every environment
//! and renders the diagnostics, and panics when an invariant breaks:
//!
//! - nothing panics, and compiling all environments is never a usage error;
//! - every diagnostic's span lies inside its file, on character boundaries;
//! - with errors there is no output; without errors every output file is
//!   UTF-8 YAML that [`check_yaml`] accepts, except a SOPS-encrypted Secret
//!   of `manifests/`, published byte for byte as written: one mapping with
//!   a string `apiVersion` and `kind` and a `sops` key.
//!
//! The fuzz target (`fuzz_targets/compile.rs`) calls [`run`]; so does
//! `tests/properties.rs`, which replays every file of `corpus/compile/` under
//! `cargo test`.

use manifold::compile::compile;
use manifold::diag;
use manifold::input::load::load_files;

/// The files the parts of an input become, in order.
pub const PATHS: [&str; 11] = [
    "services/web.toml",
    "environments/dev.toml",
    "environments/dev/web.toml",
    "services/db.toml",
    "environments/prod.toml",
    "environments/prod/db.toml",
    "environments/prod/web.toml",
    "environments/dev/db.toml",
    "crds/crd.yaml",
    "manifests/app.yaml",
    "environments/prod/manifests/app.yaml",
];

/// The byte between two files of an input.
pub const SEPARATOR: u8 = 0;

/// The files of an input: (path, content), missing files left out.
pub fn split(data: &[u8]) -> Vec<(String, &[u8])> {
    data.split(|&b| b == SEPARATOR)
        .zip(PATHS)
        .filter(|(part, _)| !part.is_empty())
        .map(|(part, path)| (path.to_string(), part))
        .collect()
}

/// What an input gave.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Error diagnostics.
    pub errors: usize,
    /// Output files of all environments.
    pub files: usize,
}

/// Runs one input; panics when an invariant breaks (see the module docs).
pub fn run(data: &[u8]) -> Outcome {
    let files = split(data);
    let project = load_files(&files);
    let compiled = match compile(&project, &[]) {
        Ok(c) => c,
        Err(e) => panic!("compiling all environments is a usage error: {e:#}"),
    };
    for d in &compiled.diagnostics {
        if let (Some(file), Some(span)) = (d.file, &d.span) {
            let text = &project.sources.get(file).text;
            assert!(
                span.start <= span.end
                    && span.end <= text.len()
                    && text.is_char_boundary(span.start)
                    && text.is_char_boundary(span.end),
                "diagnostic `{}` has span {span:?} outside `{}` ({} bytes)",
                d.message,
                project.sources.get(file).path,
                text.len()
            );
        }
    }
    // Rendering (both formats) is most of the time of a run with many
    // errors: the first two and the last two show that every kind renders.
    let all = &compiled.diagnostics;
    let shown: Vec<_> = if all.len() <= 4 {
        all.clone()
    } else {
        [&all[..2], &all[all.len() - 2..]].concat()
    };
    let human = diag::render_human(&shown, &project.sources, false);
    assert_eq!(shown.is_empty(), human.is_empty());
    let records = diag::records(&shown, &project.sources);
    assert_eq!(records.len(), shown.len());

    let errors = compiled.diagnostics.iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        assert!(
            compiled.environments.is_empty(),
            "a project with errors has output"
        );
    }
    let mut count = 0;
    for env in &compiled.environments {
        for (path, bytes) in &env.files {
            let Ok(text) = std::str::from_utf8(bytes) else {
                panic!("{}/{path} is not UTF-8", env.name);
            };
            let checked = match is_sops_secret(text) {
                true => Ok(()),
                false => check_yaml(text),
            };
            if let Err(e) = checked {
                panic!("{}/{path}: {e}\n{text}", env.name);
            }
            count += 1;
        }
    }
    Outcome {
        errors,
        files: count,
    }
}

/// Checks one emitted file: only characters YAML allows unescaped (as strict
/// readers such as libyaml, PyYAML and Go's yaml check them), one document
/// that is a mapping with a string `apiVersion` and `kind`, and every plain
/// (unquoted) scalar meaning the same to a YAML 1.1 reader as to a YAML 1.2
/// reader.
pub fn check_yaml(text: &str) -> Result<(), String> {
    use yaml_rust2::parser::{Event, Parser};
    use yaml_rust2::scanner::TScalarStyle;
    use yaml_rust2::{Yaml, YamlLoader};

    check_yaml_characters(text)?;
    let docs = YamlLoader::load_from_str(text).map_err(|e| format!("not YAML: {e}"))?;
    let [doc] = docs.as_slice() else {
        return Err(format!("{} documents, not one", docs.len()));
    };
    if !matches!(doc, Yaml::Hash(_)) {
        return Err("the document is not a mapping".into());
    }
    for key in ["apiVersion", "kind"] {
        if doc[key].as_str().is_none() {
            return Err(format!("no string `{key}`"));
        }
    }
    let mut parser = Parser::new_from_str(text);
    loop {
        let (event, _) = parser.next_token().map_err(|e| format!("not YAML: {e}"))?;
        match event {
            Event::StreamEnd => return Ok(()),
            Event::Scalar(value, TScalarStyle::Plain, _, _) => {
                let (old, new) = (yaml11(&value), yaml12(&value));
                if old != new {
                    return Err(format!(
                        "plain scalar `{value}` is {old:?} in YAML 1.1 but {new:?} in YAML 1.2"
                    ));
                }
                if new == Type::Int && !is_canonical_int(&value) {
                    return Err(format!(
                        "plain integer `{value}` has another value in YAML 1.1"
                    ));
                }
            }
            _ => {}
        }
    }
}

/// Whether `text` is one mapping with a string `apiVersion` and `kind` and a
/// `sops` key: a SOPS-encrypted Secret of `manifests/`, the input's own
/// bytes rather than manifold's writing.
pub fn is_sops_secret(text: &str) -> bool {
    use yaml_rust2::{Yaml, YamlLoader};
    let Ok(docs) = YamlLoader::load_from_str(text) else {
        return false;
    };
    let [doc @ Yaml::Hash(map)] = docs.as_slice() else {
        return false;
    };
    map.contains_key(&Yaml::String("sops".into()))
        && doc["apiVersion"].as_str().is_some()
        && doc["kind"].as_str().is_some()
}

/// Checks that `text` holds only characters YAML allows unescaped.
pub fn check_yaml_characters(text: &str) -> Result<(), String> {
    check_characters(text, &[])
}

/// Checks that `text` holds only characters YAML allows unescaped, or in
/// `tolerated`.
pub fn check_characters(text: &str, tolerated: &[char]) -> Result<(), String> {
    match text
        .chars()
        .find(|&c| !is_yaml_printable(c) && !tolerated.contains(&c))
    {
        Some(c) => Err(format!("character U+{:04X} must be escaped", c as u32)),
        None => Ok(()),
    }
}

/// The characters a YAML stream may hold unescaped (YAML 1.2 `c-printable`),
/// less the byte order mark, which libyaml refuses inside a document.
pub fn is_yaml_printable(c: char) -> bool {
    matches!(c,
        '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}'
        | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
        && c != '\u{feff}'
}

/// What a plain scalar resolves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    Null,
    Bool,
    Int,
    Float,
    /// YAML 1.1 only: timestamps, `<<` and `=`.
    Other,
    Str,
}

macro_rules! re {
    ($name:ident, $pattern:expr) => {
        static $name: std::sync::LazyLock<regex::Regex> =
            std::sync::LazyLock::new(|| regex::Regex::new($pattern).unwrap());
    };
}

// The YAML 1.1 type repository (yaml.org/type), as PyYAML resolves it, with
// the one-letter booleans of the specification that Go's yaml.v2 reads.
re!(
    BOOL_11,
    r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$"
);
re!(
    INT_11,
    r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$"
);
re!(
    FLOAT_11,
    r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
);
re!(NULL_11, r"^(?:~|null|Null|NULL|)$");
re!(
    OTHER_11,
    r"^(?:<<|=|[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$"
);
// The YAML 1.2 core schema.
re!(BOOL_12, r"^(?:true|True|TRUE|false|False|FALSE)$");
re!(INT_12, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$");
re!(
    FLOAT_12,
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
);
re!(NULL_12, r"^(?:~|null|Null|NULL|)$");
re!(CANONICAL_INT, r"^-?(?:0|[1-9][0-9]*)$");

/// What a plain scalar is to a YAML 1.1 reader.
pub fn yaml11(s: &str) -> Type {
    if NULL_11.is_match(s) {
        Type::Null
    } else if BOOL_11.is_match(s) {
        Type::Bool
    } else if INT_11.is_match(s) {
        Type::Int
    } else if FLOAT_11.is_match(s) {
        Type::Float
    } else if OTHER_11.is_match(s) {
        Type::Other
    } else {
        Type::Str
    }
}

/// What a plain scalar is to a YAML 1.2 reader (core schema).
pub fn yaml12(s: &str) -> Type {
    if NULL_12.is_match(s) {
        Type::Null
    } else if BOOL_12.is_match(s) {
        Type::Bool
    } else if INT_12.is_match(s) {
        Type::Int
    } else if FLOAT_12.is_match(s) {
        Type::Float
    } else {
        Type::Str
    }
}

fn is_canonical_int(s: &str) -> bool {
    CANONICAL_INT.is_match(s)
}
