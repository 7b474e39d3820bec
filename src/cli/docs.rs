//! `completions` and `man`: shell completions and manual pages, generated
//! from the command-line definition itself so they cannot drift from it.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::CommandFactory;

use super::Cli;

pub fn completions(shell: clap_complete::Shell) -> Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "manifold", &mut script);
    // A closed pipe is not our failure.
    let _ = std::io::stdout().lock().write_all(&script);
    Ok(ExitCode::SUCCESS)
}

pub fn man(out: Option<&Path>) -> Result<ExitCode> {
    let command = Cli::command();
    match out {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command).render(&mut page)?;
            let _ = std::io::stdout().lock().write_all(&page);
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create `{}`", dir.display()))?;
            clap_mangen::generate_to(command, dir)
                .with_context(|| format!("cannot write the pages into `{}`", dir.display()))?;
            eprintln!(
                "wrote manifold.1 and a page for each command into `{}`",
                dir.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
