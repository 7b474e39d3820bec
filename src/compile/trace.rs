//! One (environment, service) pair as `explain` reads it: the merged tree,
//! in which every value keeps its origin and the lower layers' values it
//! replaced, the files of its layers, and, when asked, the objects it
//! renders to (patches applied, before YAML).
//!
//! Only the pair's own files are checked against their schemas, and the
//! service's checks run only when its objects are asked for: a problem in
//! another service does not stop an explanation. A disabled service is
//! still merged, so that `enabled = false` can be explained too. No I/O.

use std::collections::BTreeSet;

use anyhow::{Result, bail};

use crate::check::{EnvContext, ServiceCheck};
use crate::diag::{Code, Diagnostic, FileId, did_you_mean};
use crate::input::load::{EnvInput, Input, Project};
use crate::input::merge::Layers;
use crate::input::tree::{Node, Value, deserialize};
use crate::model::{Directory, Environment, Service, WorkloadKind};
use crate::render::{self, Context, Object};
use crate::schema::{self, Kind};

use super::kinds::Kinds;
use super::pair::{expand, merged, overlay, peer, prepare_pair, unmatched_patches};
use super::{check_selection, selected};

/// A pair, merged, with what it renders to.
pub struct Traced<'a> {
    /// The service's name: `name`, or its file stem.
    pub name: String,
    pub layers: Layers,
    /// The environment file: its keys outside `[defaults]` (`registry`,
    /// `labels`, `annotations`, ...) reach the objects too.
    pub environment: &'a Node,
    /// The merged service, variables expanded.
    pub tree: Node,
    pub kind: WorkloadKind,
    /// `false` when `enabled = false` leaves the service out.
    pub enabled: bool,
    /// The objects, in output order, when they were asked for and the
    /// service is enabled.
    pub objects: Vec<Object>,
}

/// Merges `service` in `environment` (a usage error when either does not
/// exist) and, with `render`, checks and renders it. `Ok(Err(..))` holds
/// the problems that stop it.
pub fn trace<'a>(
    project: &'a Project,
    environment: &str,
    service: &str,
    render: bool,
) -> Result<Result<Traced<'a>, Vec<Diagnostic>>> {
    check_selection(project, &[environment.to_string()])?;
    let svc_input = find_service(project, service)?;
    let Some(env_input) = project
        .environments
        .iter()
        .find(|e| e.input.name == environment)
    else {
        bail!("unknown environment `{environment}`");
    };
    let overlay_input = env_input.overlays.iter().find(|o| o.name == svc_input.name);
    let mut files = vec![
        (Kind::Environment, &env_input.input),
        (Kind::Service, svc_input),
    ];
    files.extend(overlay_input.map(|o| (Kind::Overlay, o)));
    let problems = file_problems(project, &files);
    if problems.iter().any(Diagnostic::is_error) {
        return Ok(Err(problems));
    }
    let invalid = BTreeSet::new();
    let select = [environment.to_string()];
    let Some((_, env, defaults)) = selected(project, &select, &invalid).into_iter().next() else {
        return Ok(Err(vec![internal(env_input.input.file)]));
    };
    let Some(env_tree) = env_input.input.tree.as_ref() else {
        return Ok(Err(vec![internal(env_input.input.file)]));
    };
    let prepared = match prepare_pair(env_input, &env, defaults, svc_input, &invalid) {
        Some(Ok(p)) => p,
        Some(Err(failed)) => return Ok(Err(failed.diagnostics)),
        None => return Ok(disabled(env_input, &env, defaults, svc_input, env_tree)),
    };
    let mut traced = Traced {
        name: prepared.name.clone(),
        layers: prepared.layers,
        environment: env_tree,
        tree: prepared.tree.clone(),
        kind: prepared.svc.kind,
        enabled: true,
        objects: Vec::new(),
    };
    if !render {
        return Ok(Ok(traced));
    }
    let directory: Directory = project
        .services
        .iter()
        .filter_map(|s| peer(env_input, &env, defaults, s, &invalid))
        .collect();
    let kinds = Kinds::read(&project.crds, &project.sources, &mut Vec::new());
    let env_name = env_input.input.name.as_str();
    let mut diagnostics = ServiceCheck::new(
        &prepared.svc,
        &prepared.name,
        &prepared.tree,
        prepared.layers,
        EnvContext {
            name: env_name,
            settings: &env,
            directory: &directory,
        },
    )
    .run();
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Ok(Err(diagnostics));
    }
    let rendered = render::render(
        &prepared.svc,
        &Context {
            env_name,
            env: &env,
            name: &prepared.name,
            directory: &directory,
            scopes: &kinds.scopes,
        },
    );
    unmatched_patches(&rendered, &prepared.tree, &mut diagnostics);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Ok(Err(diagnostics));
    }
    traced.objects = rendered.objects;
    Ok(Ok(traced))
}

/// The service of that file stem, or a usage error that names the closest.
fn find_service<'a>(project: &'a Project, service: &str) -> Result<&'a Input> {
    if let Some(found) = project.services.iter().find(|s| s.name == service) {
        return Ok(found);
    }
    let names: Vec<&str> = project.services.iter().map(|s| s.name.as_str()).collect();
    match did_you_mean(service, names.iter().copied()) {
        Some(better) => bail!("unknown service `{service}`; did you mean `{better}`?"),
        None => bail!(
            "unknown service `{service}`; services are: {}",
            names.join(", ")
        ),
    }
}

/// The problems of the pair's files: reading, naming and their schemas.
fn file_problems(project: &Project, files: &[(Kind, &Input)]) -> Vec<Diagnostic> {
    let ids: Vec<FileId> = files.iter().map(|(_, input)| input.file).collect();
    let mut problems: Vec<Diagnostic> = project
        .diagnostics
        .iter()
        .filter(|d| d.file.is_some_and(|f| ids.contains(&f)))
        .cloned()
        .collect();
    for (kind, input) in files {
        let text = &project.sources.get(input.file).text;
        match &input.tree {
            Some(tree) => problems.extend(schema::validate(*kind, tree, text)),
            None if problems.is_empty() => problems.push(internal(input.file)),
            None => {}
        }
    }
    problems
}

/// A service that `enabled = false` leaves out: merged all the same, so
/// that the layer that disabled it can be shown.
fn disabled<'a>(
    env_input: &EnvInput,
    env: &Environment,
    defaults: Option<&Node>,
    svc_input: &Input,
    env_tree: &'a Node,
) -> Result<Traced<'a>, Vec<Diagnostic>> {
    let invalid = BTreeSet::new();
    let overlay_tree = overlay(env_input, &svc_input.name, &invalid)
        .flatten()
        .and_then(|o| o.tree.as_ref());
    let Some(service_tree) = svc_input.tree.as_ref() else {
        return Err(vec![internal(svc_input.file)]);
    };
    let mut tree = merged(defaults, service_tree, overlay_tree);
    let text = |key: &str| tree.get(key).and_then(Node::as_str).map(str::to_string);
    let name = text("name").unwrap_or_else(|| svc_input.name.clone());
    let namespace = text("namespace").unwrap_or_else(|| env.namespace.clone());
    let mut diagnostics = Vec::new();
    expand(
        &mut tree,
        &name,
        &env_input.input.name,
        &namespace,
        &mut diagnostics,
    );
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    let kind = deserialize::<Service>(&tree).map_or(WorkloadKind::default(), |s| s.kind);
    let enabled = !matches!(
        tree.get("enabled").map(|n| &n.value),
        Some(Value::Boolean(false))
    );
    Ok(Traced {
        name,
        layers: Layers {
            environment: env_input.input.file,
            service: svc_input.file,
            overlay: overlay_tree.map(|o| o.origin.file),
        },
        environment: env_tree,
        tree,
        kind,
        enabled,
        objects: Vec::new(),
    })
}

fn internal(file: FileId) -> Diagnostic {
    Diagnostic::error(Code::Internal, "cannot read this file's tree")
        .in_file(file)
        .hint("this is a bug in manifold: the file was read without problems but has no tree")
}
