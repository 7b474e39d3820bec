//! Printing diagnostics, and the small words every command shares.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use manifold::diag::{self, Diagnostic, Sources};

use super::Format;

pub fn check_branch(branch: &str) -> Result<()> {
    if !manifold::git::is_valid_branch_name(branch) {
        anyhow::bail!("`{branch}` is not a valid branch name");
    }
    Ok(())
}

pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

pub fn exit(clean: bool) -> ExitCode {
    if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Prints diagnostics; returns whether there were no errors.
pub fn report(diags: &[Diagnostic], sources: &Sources, format: Format) -> Result<bool> {
    report_denying(diags, sources, format, false)
}

/// Prints diagnostics; returns whether there were no errors, nor
/// warnings when `deny_warnings`.
pub fn report_denying(
    diags: &[Diagnostic],
    sources: &Sources,
    format: Format,
    deny_warnings: bool,
) -> Result<bool> {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let denied = deny_warnings && errors < diags.len();
    match format {
        Format::Sarif | Format::CodeQuality => {
            let anchors = manifold::input::tree::anchors(diags, sources);
            let value = match format {
                Format::Sarif => diag::sarif(diags, sources, &anchors),
                _ => diag::code_quality(diags, sources, &anchors),
            };
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{}", serde_json::to_string_pretty(&value)?);
        }
        Format::Json => {
            let value = serde_json::json!({
                "diagnostics": diag::records(diags, sources),
                "errors": errors,
                "warnings": diags.len() - errors,
            });
            let mut stdout = std::io::stdout().lock();
            // A closed pipe is not our failure.
            let _ = writeln!(stdout, "{}", serde_json::to_string_pretty(&value)?);
        }
        Format::Human => {
            if !diags.is_empty() {
                let mut err = anstream::stderr().lock();
                let color = anstream::AutoStream::choice(&std::io::stderr())
                    != anstream::ColorChoice::Never;
                let _ = write!(err, "{}", diag::render_human(diags, sources, color));
                let warnings = diags.len() - errors;
                let summary = match (errors, warnings) {
                    (_, 0) => plural(errors, "error"),
                    (0, _) => plural(warnings, "warning"),
                    _ => format!(
                        "{} and {}",
                        plural(errors, "error"),
                        plural(warnings, "warning")
                    ),
                };
                let _ = writeln!(err, "{summary} found");
                if denied {
                    let _ = writeln!(err, "failed: `--deny warnings` fails on warnings");
                }
            }
        }
    }
    Ok(errors == 0 && !denied)
}
