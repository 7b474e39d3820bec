//! `status`: which version runs where, from the merged configuration.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use manifold::compile;
use manifold::input::load;
use manifold::status::{self, Matrix};

use super::report::{exit, report};
use super::{Format, StatusFormat};

pub fn status(root: &Path, envs: &[String], format: StatusFormat) -> Result<ExitCode> {
    let project = load::load(root)?;
    let merged = compile::merged(&project, envs)?;
    if !report(&merged.diagnostics, &project.sources, Format::Human)? {
        return Ok(exit(false));
    }
    let matrix = Matrix::new(&merged);
    let text = match format {
        StatusFormat::Text => {
            let color =
                anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never;
            status::render_text(&matrix, color)
        }
        StatusFormat::Markdown => status::render_markdown(&matrix),
        StatusFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&status::render_json(&matrix))?
        ),
        StatusFormat::Html => status::render_html(&matrix, "manifold status"),
    };
    // A closed pipe (`| head`) is not our failure.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(ExitCode::SUCCESS)
}
