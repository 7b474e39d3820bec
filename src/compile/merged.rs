//! The merged model of every (environment, service) pair without checks or
//! rendering: the first half of a pair's compile (schema, merge, variables,
//! typed model), for views of the configuration such as `manifold status`
//! that need the values, not the objects. Also the promotion order of the
//! environments, checked as every compile checks it.

use std::collections::BTreeSet;

use anyhow::Result;
use rayon::prelude::*;

use crate::check::{Promoted, promotion};
use crate::diag::{Diagnostic, FileId, normalize};
use crate::input::load::{Input, Project};
use crate::model::{Service, promotion_order};

use super::pair::prepare_pair;
use super::{check_selection, selected, validate_files};

/// One service in one environment.
#[derive(Debug)]
pub struct MergedService {
    /// `name`, or the file stem.
    pub name: String,
    /// The service file, as diagnostics name it (`services/web.toml`).
    pub file: String,
    /// The merged service; `None` where it is disabled (`enabled = false`).
    pub service: Option<Service>,
}

/// One environment's merged services, in the order of their files.
#[derive(Debug)]
pub struct MergedEnv {
    pub name: String,
    pub services: Vec<MergedService>,
}

/// The merged model of the selected environments.
#[derive(Debug, Default)]
pub struct Merged {
    pub diagnostics: Vec<Diagnostic>,
    /// Every environment in promotion order, with the one it is promoted
    /// from (selected or not).
    pub promotion: Vec<(String, Option<String>)>,
    /// The selected environments, in promotion order; empty when there are
    /// errors.
    pub environments: Vec<MergedEnv>,
}

/// Every environment's `promote_from` checked, and the environments in
/// promotion order with the one each is promoted from.
pub(super) fn promotion_of(
    project: &Project,
    invalid: &BTreeSet<FileId>,
) -> (Vec<(String, Option<String>)>, Vec<Diagnostic>) {
    let envs: Vec<Promoted> = project
        .environments
        .iter()
        .map(|e| Promoted {
            name: &e.input.name,
            from: e
                .input
                .tree
                .as_ref()
                .filter(|_| !invalid.contains(&e.input.file))
                .and_then(|t| t.get("promote_from")),
        })
        .collect();
    let (from, diagnostics) = promotion(&envs);
    let order = promotion_order(&from)
        .into_iter()
        .map(|i| {
            let parent = from[i].map(|p| envs[p].name.to_string());
            (envs[i].name.to_string(), parent)
        })
        .collect();
    (order, diagnostics)
}

/// Merges every service in the selected environments (all when `select`
/// is empty). Unknown names in `select` are a usage error.
pub fn merged(project: &Project, select: &[String]) -> Result<Merged> {
    check_selection(project, select)?;
    let mut diagnostics = project.diagnostics.clone();
    let invalid = validate_files(project, &mut diagnostics);
    let (promotion, problems) = promotion_of(project, &invalid);
    diagnostics.extend(problems);
    let environments = selected(project, select, &invalid);
    let pairs: Vec<(usize, &Input)> = (0..environments.len())
        .flat_map(|e| project.services.iter().map(move |s| (e, s)))
        .collect();
    let results: Vec<(MergedService, Vec<Diagnostic>)> = pairs
        .par_iter()
        .map(|&(e, svc)| {
            let (env_input, env, defaults) = &environments[e];
            let mut merged = MergedService {
                name: svc.name.clone(),
                file: project.sources.get(svc.file).path.clone(),
                service: None,
            };
            match prepare_pair(env_input, env, *defaults, svc, &invalid) {
                Some(Ok(p)) => {
                    merged.name = p.name;
                    merged.service = Some(p.svc);
                    (merged, Vec::new())
                }
                Some(Err(failed)) => (merged, failed.diagnostics),
                None => (merged, Vec::new()),
            }
        })
        .collect();
    let mut per_env: Vec<Vec<MergedService>> = environments.iter().map(|_| Vec::new()).collect();
    for ((e, _), (merged, problems)) in pairs.iter().zip(results) {
        diagnostics.extend(problems);
        per_env[*e].push(merged);
    }
    normalize(&mut diagnostics);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Ok(Merged {
            diagnostics,
            promotion,
            environments: Vec::new(),
        });
    }
    let mut by_name: Vec<MergedEnv> = environments
        .iter()
        .zip(per_env)
        .map(|((env_input, _, _), services)| MergedEnv {
            name: env_input.input.name.clone(),
            services,
        })
        .collect();
    let mut environments = Vec::with_capacity(by_name.len());
    for (name, _) in &promotion {
        if let Some(i) = by_name.iter().position(|e| e.name == *name) {
            environments.push(by_name.remove(i));
        }
    }
    Ok(Merged {
        diagnostics,
        promotion,
        environments,
    })
}
