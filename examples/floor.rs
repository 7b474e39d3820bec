//! The floor of the benchmark: the least it can cost to put a built output
//! tree on this file system.
//!
//! ```sh
//! cargo run --release --example floor -- SRC_DIR DEST_DIR
//! ```
//!
//! Reads every file under `SRC_DIR` into memory first, then, on one thread,
//! creates the directories and writes every file into `DEST_DIR` (missing or
//! empty) with plain `create_dir` and `fs::write`: no rendering, no
//! comparison with a previous tree, no temporary files, no renames, no
//! `fsync` (`manifold build` does not sync either). Only this write phase is
//! timed; the last line on stderr is `floor: wrote <files> files, <bytes>
//! bytes in <seconds> s`, which `bench/run.py` reads. Reading is left out
//! on purpose: it would count the source tree's cost in the floor and make
//! any tool look closer to it than it is.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [src, dest] = args.as_slice() else {
        eprintln!("usage: floor SRC_DIR DEST_DIR");
        return ExitCode::from(2);
    };
    match run(Path::new(src), Path::new(dest)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("floor: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(src: &Path, dest: &Path) -> Result<(), String> {
    if fs::read_dir(dest).is_ok_and(|mut d| d.next().is_some()) {
        return Err(format!("`{}` is not empty", dest.display()));
    }
    let mut dirs = Vec::new();
    let mut files = Vec::new();
    read_tree(src, Path::new(""), &mut dirs, &mut files)
        .map_err(|e| format!("cannot read `{}`: {e}", src.display()))?;
    let bytes: usize = files.iter().map(|(_, content)| content.len()).sum();

    let start = Instant::now();
    fs::create_dir_all(dest).map_err(|e| format!("cannot create `{}`: {e}", dest.display()))?;
    // Parents come before their children: `read_tree` records a directory
    // before it descends into it.
    for dir in &dirs {
        let path = dest.join(dir);
        fs::create_dir(&path).map_err(|e| format!("cannot create `{}`: {e}", path.display()))?;
    }
    for (file, content) in &files {
        let path = dest.join(file);
        fs::write(&path, content).map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    }
    let seconds = start.elapsed().as_secs_f64();

    eprintln!(
        "floor: wrote {} files, {bytes} bytes in {seconds:.6} s",
        files.len()
    );
    Ok(())
}

/// Appends the directories and files under `root.join(rel)`, in sorted order,
/// as paths relative to `root`.
fn read_tree(
    root: &Path,
    rel: &Path,
    dirs: &mut Vec<PathBuf>,
    files: &mut Vec<(PathBuf, Vec<u8>)>,
) -> std::io::Result<()> {
    let mut entries = fs::read_dir(root.join(rel))?.collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = rel.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            dirs.push(path.clone());
            read_tree(root, &path, dirs, files)?;
        } else {
            files.push((path.clone(), fs::read(root.join(&path))?));
        }
    }
    Ok(())
}
