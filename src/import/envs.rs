//! Several environments imported at once: each environment's objects are
//! imported on their own (as a single-environment import would), then each
//! service's files are split into what the environments share (the service
//! file) and what each changes (its overlay), and the round trip runs again
//! per environment on the files written.
//!
//! The split, key by key (tables recurse): a value every environment has
//! the same goes in the service file; a value every environment has, but
//! not alike, goes in the service file as the first environment has it,
//! and in the overlays of the others that differ; a value only some
//! environments have, or a list merged item by item by `name` (ports,
//! volumes, side containers: an overlay could not take an item or key
//! away), goes in the
//! overlays of the environments that have it, and so does a whole table
//! whose keys the merge would write in another order than an environment's
//! input (an overlay's new keys follow the service file's). A service
//! missing in an environment is `enabled = false` in that environment's
//! overlay.

use std::collections::BTreeSet;

use super::environment::is_name;
use super::map::Mapped;
use super::toml::{Table, Toml};
use super::{
    Failure, File, Imported, differences, header, prepare, read, read_all, report, roundtrip,
};

/// One environment's inputs.
pub struct EnvInput {
    pub name: String,
    /// Input texts, by the name to show (a path, or `-`).
    pub inputs: Vec<(String, Vec<u8>)>,
}

/// What a multi-environment import is given.
pub enum MultiRequest {
    /// `--env NAME=PATH`: the environments in the order given.
    Given(Vec<EnvInput>),
    /// `--namespace-as-env`: one input, an environment per namespace
    /// (sorted by name), named like it.
    ByNamespace(Vec<(String, Vec<u8>)>),
}

/// The result: the files, and per environment what a single import reports
/// (its differences those of the files written).
#[derive(Debug, Default)]
pub struct Imports {
    pub files: Vec<File>,
    pub environments: Vec<Imported>,
}

/// Imports several environments into the repository whose environment
/// files are `environments`.
pub fn import_environments(
    request: MultiRequest,
    environments: &[(String, String)],
) -> Result<Imports, Failure> {
    let split = split(request)?;
    let mut prepared = Vec::new();
    let mut problems = Vec::new();
    for (name, objects, read_problems) in split {
        match prepare(objects, read_problems, environments, Some(&name)) {
            Ok(p) => prepared.push(p),
            Err(Failure::Input(found)) => problems.extend(
                found
                    .into_iter()
                    .map(|p| format!("environment `{name}`: {p}")),
            ),
            Err(e) => return Err(e),
        }
    }
    if !problems.is_empty() {
        return Err(Failure::Input(problems));
    }
    let mut written: Vec<(String, String)> = prepared
        .iter()
        .filter(|p| p.env.new)
        .map(|p| {
            (
                format!("environments/{}.toml", p.env.name),
                p.env.text.clone(),
            )
        })
        .collect();
    let envs: Vec<&str> = prepared.iter().map(|p| p.env.name.as_str()).collect();
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for p in &prepared {
        names.extend(p.mapped.iter().map(|m| m.name.as_str()));
    }
    for name in names {
        let found: Vec<Option<&Mapped>> = prepared
            .iter()
            .map(|p| p.mapped.iter().find(|m| m.name == name))
            .collect();
        written.extend(service_files(name, &envs, &found));
    }
    let mut every: Vec<(String, String)> = environments
        .iter()
        .map(|(n, text)| (format!("environments/{n}.toml"), text.clone()))
        .collect();
    every.extend(written.iter().cloned());
    let mut out = Imports::default();
    for p in prepared {
        let rendered = roundtrip::render(&every, &p.env.name).map_err(Failure::Compile)?;
        let mut imported = p.imported;
        imported.differences = differences(&p.mapped, &rendered, &p.env.namespace);
        imported.services = p
            .mapped
            .iter()
            .map(|m| report(m, &imported.differences))
            .collect();
        out.environments.push(imported);
    }
    out.files = written
        .into_iter()
        .map(|(path, text)| File { path, text })
        .collect();
    Ok(out)
}

type Split = Vec<(String, Vec<read::Object>, Vec<String>)>;

/// Each environment's name, objects and reading problems, after checking
/// the names.
fn split(request: MultiRequest) -> Result<Split, Failure> {
    let out: Split = match request {
        MultiRequest::Given(envs) => envs
            .into_iter()
            .map(|e| {
                let (objects, problems) = read_all(&e.inputs);
                (e.name, objects, problems)
            })
            .collect(),
        MultiRequest::ByNamespace(inputs) => {
            let (objects, problems) = read_all(&inputs);
            if !problems.is_empty() {
                return Err(Failure::Input(problems));
            }
            let mut by: std::collections::BTreeMap<String, Vec<read::Object>> = Default::default();
            for o in objects {
                let ns = match o.kind() {
                    "Namespace" => o.name().to_string(),
                    _ => o.namespace().unwrap_or("default").to_string(),
                };
                by.entry(ns).or_default().push(o);
            }
            by.into_iter().map(|(n, o)| (n, o, Vec::new())).collect()
        }
    };
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (name, _, _) in &out {
        if !is_name(name) {
            problems.push(format!(
                "`{name}` cannot name an environment: use lowercase letters, digits and `-` (at most 63)"
            ));
        } else if !seen.insert(name.as_str()) {
            problems.push(format!(
                "environment `{name}` is given twice: give all its paths after one `--env {name}=`"
            ));
        }
    }
    match out.len() {
        0 => problems.push("no environment to import".to_string()),
        _ if problems.is_empty() => return Ok(out),
        _ => {}
    }
    Err(Failure::Input(problems))
}

/// The service file and the overlays of service `name`, found (or not)
/// in each environment.
fn service_files(name: &str, envs: &[&str], found: &[Option<&Mapped>]) -> Vec<(String, String)> {
    let tables: Vec<Option<&Table>> = found.iter().flatten().map(|m| Some(&m.table)).collect();
    let (shared, split) = split_table(&tables);
    let mut split = split.into_iter();
    let mut overlays: Vec<Table> = found
        .iter()
        .map(|m| match m {
            Some(_) => split.next().unwrap_or_default(),
            None => Table::new(),
        })
        .collect();
    let mut origins = BTreeSet::new();
    for m in found.iter().flatten() {
        origins.extend(m.targets.iter().map(|t| t.input.file()));
    }
    let mut out = vec![(
        format!("services/{name}.toml"),
        shared.to_document(&header(origins)),
    )];
    for (i, env) in envs.iter().enumerate() {
        if found[i].is_none() {
            overlays[i].set("enabled", false);
            overlays[i].comment(
                "enabled",
                &format!("no `{name}` in this environment's input"),
            );
        }
        if overlays[i].is_empty() {
            continue;
        }
        let header = format!(
            "Imported by `manifold import`: what environment `{env}` changes of services/{name}.toml."
        );
        out.push((
            format!("environments/{env}/{name}.toml"),
            overlays[i].to_document(&header),
        ));
    }
    out
}

/// The shared table and one overlay per table (empty where a table is
/// missing), key by key in the order the tables write them.
fn split_table(tables: &[Option<&Table>]) -> (Table, Vec<Table>) {
    let mut shared = Table::new();
    let mut overlays = vec![Table::new(); tables.len()];
    let mut keys: Vec<&str> = Vec::new();
    for t in tables.iter().flatten() {
        for k in t.keys() {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    for key in keys {
        let values: Vec<Option<&Toml>> =
            tables.iter().map(|t| t.and_then(|t| t.get(key))).collect();
        let comment = tables.iter().flatten().find_map(|t| t.comment_of(key));
        let present: Vec<&Toml> = values.iter().flatten().copied().collect();
        let everywhere = present.len() == tables.len();
        let (common, each) = if everywhere && present.iter().all(|v| *v == present[0]) {
            (Some(present[0].clone()), vec![None; tables.len()])
        } else if let Some(nested) = everywhere.then(|| split_nested(&present)).flatten() {
            nested
        } else if everywhere && !present.iter().any(|v| named_items(v) || is_table(v)) {
            let first = present[0];
            let each = present
                .iter()
                .map(|v| (*v != first).then(|| (*v).clone()))
                .collect();
            (Some(first.clone()), each)
        } else {
            (None, values.iter().map(|v| v.cloned()).collect())
        };
        if let Some(v) = common.filter(|v| !matches!(v, Toml::Table(t) if t.is_empty())) {
            shared.set(key, v);
            if let Some(c) = comment {
                shared.comment(key, c);
            }
        }
        for (overlay, v) in overlays.iter_mut().zip(each) {
            if let Some(v) = v {
                overlay.set(key, v);
                if let Some(c) = comment {
                    overlay.comment(key, c);
                }
            }
        }
    }
    (shared, overlays)
}

/// Tables split key by key, unless the merge would write an environment's
/// keys in another order than its input (a variable only some
/// environments have, before others: the merge appends an overlay's new
/// keys), where each keeps its whole table in its overlay instead.
fn split_nested(present: &[&Toml]) -> Option<(Option<Toml>, Vec<Option<Toml>>)> {
    let inner: Vec<Option<&Table>> = present
        .iter()
        .map(|v| match v {
            Toml::Table(t) => Some(t),
            _ => None,
        })
        .collect();
    if inner.iter().any(Option::is_none) {
        return None;
    }
    let (shared, overlays) = split_table(&inner);
    for (table, overlay) in inner.iter().flatten().zip(&overlays) {
        let mut merged: Vec<&str> = shared.keys().collect();
        merged.extend(overlay.keys().filter(|k| shared.get(k).is_none()));
        if !merged.iter().copied().eq(table.keys()) {
            return None;
        }
    }
    let each = overlays
        .into_iter()
        .map(|t| (!t.is_empty()).then_some(Toml::Table(t)))
        .collect();
    Some((Some(Toml::Table(shared)), each))
}

fn is_table(v: &Toml) -> bool {
    matches!(v, Toml::Table(_))
}

/// Whether a value is a list the merge takes item by item (tables with a
/// `name` or a `port`), which an overlay cannot replace as a whole.
fn named_items(v: &Toml) -> bool {
    match v {
        Toml::Array(items) => {
            !items.is_empty()
                && items.iter().all(|i| {
                    matches!(i, Toml::Table(t) if t.get("name").is_some() || t.get("port").is_some())
                })
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(name: &str, port: i64) -> Toml {
        let mut t = Table::new();
        t.set("name", name);
        t.set("port", port);
        Toml::Table(t)
    }

    /// Shared values stay, the first environment's value is the service
    /// file's, a key some environments lack and a list merged by `name`
    /// go to the overlays of the environments that have them, and a table
    /// whose keys the merge would reorder (`labels` of `test`) goes whole
    /// into every overlay.
    #[test]
    fn the_split_of_a_service() {
        let mut dev = Table::new();
        dev.set("image", "web");
        dev.set("replicas", 1);
        dev.table_mut("env").set("PORT", "8080");
        dev.table_mut("env").set("LOG", "debug");
        dev.set("ports", Toml::Array(vec![port("http", 8080)]));
        let mut prod = dev.clone();
        prod.set("replicas", 3);
        prod.table_mut("env").set("LOG", "warn");
        prod.set("ports", Toml::Array(vec![port("web", 8080)]));
        prod.set("group", "shop");
        let mut labels = Table::new();
        labels.set("team", "shop");
        dev.set("labels", Toml::Table(labels.clone()));
        labels.set("tier", "front");
        prod.set("labels", Toml::Table(labels));
        let mut test = dev.clone();
        test.set("labels", Toml::Table(Table::new()));
        test.table_mut("labels").set("tier", "front");
        test.table_mut("labels").set("team", "shop");
        let (shared, overlays) = split_table(&[Some(&dev), Some(&prod), Some(&test)]);
        assert_eq!(
            shared.to_document("s"),
            "# s\nimage = \"web\"\nreplicas = 1\nenv = { PORT = \"8080\", LOG = \"debug\" }\n"
        );
        assert_eq!(
            overlays[0].to_document("dev"),
            "# dev\nlabels = { team = \"shop\" }\n\n[[ports]]\nname = \"http\"\nport = 8080\n"
        );
        assert_eq!(
            overlays[1].to_document("prod"),
            "# prod\nreplicas = 3\nenv = { LOG = \"warn\" }\nlabels = { team = \"shop\", tier = \"front\" }\ngroup = \"shop\"\n\n[[ports]]\nname = \"web\"\nport = 8080\n"
        );
        assert_eq!(
            overlays[2].to_document("test"),
            "# test\nlabels = { tier = \"front\", team = \"shop\" }\n\n[[ports]]\nname = \"http\"\nport = 8080\n"
        );
    }
}
