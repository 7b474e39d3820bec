//! The `manifold` command: parses arguments, runs the library, prints, and
//! chooses the exit code (0 clean, 1 findings or changes asked about, 2 the
//! tool failed). Each command lives in `cli/`.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

mod cli;

// Compiling is allocation-heavy work on every core; mimalloc's per-thread
// heaps keep the allocator off the profile that glibc's arenas dominate.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            let mut err = anstream::stderr();
            let _ = writeln!(err, "error: {e:#}");
            ExitCode::from(2)
        }
    }
}
