//! `explain`: where a value of a merged service, or a field of a rendered
//! object, comes from. Problems in the pair's files are printed as
//! diagnostics (exit 1); a key, object or field that names nothing is a
//! usage error (exit 2).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, anyhow};

use manifold::compile;
use manifold::explain;
use manifold::input::load;

use super::report::{exit, report};
use super::{ExplainFormat, Format};

/// What is asked.
pub enum Query {
    /// The whole merged service.
    Service,
    /// One key and everything under it.
    Key(String),
    /// A field of a rendered object.
    Field { object: String, field: String },
}

pub fn explain(
    root: &Path,
    environment: &str,
    service: &str,
    query: Query,
    format: ExplainFormat,
) -> Result<ExitCode> {
    let project = load::load(root)?;
    let render = matches!(query, Query::Field { .. });
    let traced = match compile::trace(&project, environment, service, render)? {
        Ok(traced) => traced,
        Err(diagnostics) => {
            let as_format = match format {
                ExplainFormat::Text => Format::Human,
                ExplainFormat::Json => Format::Json,
            };
            report(&diagnostics, &project.sources, as_format)?;
            return Ok(exit(false));
        }
    };
    let sources = &project.sources;
    let output = match query {
        Query::Service => explain::service(&traced, sources, environment),
        Query::Key(key) => {
            explain::key(&traced, sources, environment, &key).map_err(|e| anyhow!(e))?
        }
        Query::Field { object, field } => {
            explain::field(&traced, sources, environment, &object, &field)
                .map_err(|e| anyhow!(e))?
        }
    };
    let text = match format {
        ExplainFormat::Text => output.text,
        ExplainFormat::Json => format!("{}\n", serde_json::to_string_pretty(&output.json)?),
    };
    // A closed pipe is not our failure.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(ExitCode::SUCCESS)
}
