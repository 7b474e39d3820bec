//! The staging directory of a fresh build, and the sweep of those that killed
//! runs left behind.
//!
//! A fresh build writes `.<out>.manifold-tmp-<pid>` beside the output
//! directory and renames it into place. A run killed before the rename leaves
//! it there, so every build removes the ones of dead runs first. Only
//! manifold's own are touched: a real directory (not a link) beside this
//! output, named exactly so, holding the marker written when it was created,
//! whose process is gone. The marker names the process's machine (boot id and
//! pid namespace): on the same one, `/proc/<pid>` tells whether it still runs;
//! from another machine or container, or where there is no `/proc`, the
//! directory goes only once its marker is more than a day old.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

use super::TMP_SUFFIX;

/// The marker file inside a staging directory, removed before the rename.
pub(super) const MARKER: &str = ".manifold-staging";
const MARKER_HEADER: &str = "manifold staging directory";
/// How old the marker of a run that cannot be asked must be to be swept.
const ABANDONED: Duration = Duration::from_secs(24 * 60 * 60);

/// The directory holding `out`, and `out`'s name.
fn parts(out: &Path) -> (PathBuf, String) {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    (parent.to_path_buf(), name)
}

fn prefix(name: &str) -> String {
    format!(".{name}{TMP_SUFFIX}-")
}

/// The directory holding `out`, and this process's staging directory in it.
pub(super) fn paths(out: &Path) -> (PathBuf, PathBuf) {
    let (parent, name) = parts(out);
    let staging = parent.join(format!("{}{}", prefix(&name), std::process::id()));
    (parent, staging)
}

/// This machine and pid namespace, where `/proc` says; `None` elsewhere.
fn machine() -> Option<String> {
    let boot = fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let ns = fs::read_link("/proc/self/ns/pid").ok()?;
    Some(format!("{} {}", boot.trim(), ns.display()))
}

/// Marks `staging` as this process's: the first file written in it.
pub(super) fn mark(staging: &Path) -> Result<()> {
    let mut text = format!("{MARKER_HEADER}\npid {}\n", std::process::id());
    if let Some(machine) = machine() {
        text.push_str(&format!("machine {machine}\n"));
    }
    let marker = staging.join(MARKER);
    fs::write(&marker, text).with_context(|| format!("cannot write `{}`", marker.display()))
}

/// Removes the staging directories of dead runs beside `out`; returns them.
pub(super) fn sweep(out: &Path) -> Result<Vec<PathBuf>> {
    let (parent, name) = parts(out);
    let prefix = prefix(&name);
    let entries = match fs::read_dir(&parent) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", parent.display())),
    };
    let me = machine();
    let mut swept = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read `{}`", parent.display()))?;
        let file_name = entry.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let dir = entry.path();
        if pid == std::process::id() || !abandoned(&dir, pid, me.as_deref()) {
            continue;
        }
        fs::remove_dir_all(&dir).with_context(|| {
            format!(
                "cannot remove `{}`, the staging directory of a killed build; remove it by hand",
                dir.display()
            )
        })?;
        swept.push(dir);
    }
    Ok(swept)
}

/// Whether `dir` is a staging directory of manifold's whose run is gone.
fn abandoned(dir: &Path, pid: u32, me: Option<&str>) -> bool {
    // A link or a file is not manifold's making, whatever its name.
    if !fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
        return false;
    }
    let marker = dir.join(MARKER);
    let Ok(meta) = fs::symlink_metadata(&marker) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    let Ok(text) = fs::read_to_string(&marker) else {
        return false;
    };
    let mut lines = text.lines();
    if lines.next() != Some(MARKER_HEADER) || lines.next() != Some(&format!("pid {pid}")) {
        return false;
    }
    let same_machine =
        me.is_some_and(|me| lines.next().and_then(|l| l.strip_prefix("machine ")) == Some(me));
    if same_machine {
        return !Path::new("/proc").join(pid.to_string()).exists();
    }
    meta.modified()
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age > ABANDONED)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A staging directory as a run of `pid` on this machine leaves it.
    fn left_by(out: &Path, pid: u32) -> PathBuf {
        let (parent, name) = parts(out);
        let dir = parent.join(format!("{}{pid}", prefix(&name)));
        fs::create_dir_all(dir.join("dev")).unwrap();
        fs::write(dir.join("dev/x.yaml"), "x").unwrap();
        let machine = machine().map(|m| format!("machine {m}\n"));
        fs::write(
            dir.join(MARKER),
            format!(
                "{MARKER_HEADER}\npid {pid}\n{}",
                machine.unwrap_or_default()
            ),
        )
        .unwrap();
        dir
    }

    /// A pid no process has: above the kernel's limit.
    fn dead_pid() -> u32 {
        fs::read_to_string("/proc/sys/kernel/pid_max")
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .map_or(4_194_304, |max| max + 1)
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn only_marked_directories_of_dead_runs_beside_this_output_go() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let dead = left_by(&out, dead_pid());
        let live = left_by(&out, 1);
        let other = left_by(&dir.path().join("other"), dead_pid());
        let unmarked = left_by(&out, dead_pid() + 1);
        fs::remove_file(unmarked.join(MARKER)).unwrap();
        let swept = sweep(&out).unwrap();
        assert_eq!(swept, vec![dead.clone()]);
        assert!(!dead.exists());
        assert!(live.join("dev/x.yaml").is_file());
        assert!(other.join("dev/x.yaml").is_file());
        assert!(unmarked.join("dev/x.yaml").is_file());
    }

    #[test]
    fn a_run_on_another_machine_is_given_a_day() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let staging = left_by(&out, dead_pid());
        fs::write(
            staging.join(MARKER),
            format!("{MARKER_HEADER}\npid {}\nmachine elsewhere\n", dead_pid()),
        )
        .unwrap();
        assert!(sweep(&out).unwrap().is_empty());
        assert!(staging.exists());
        let old = SystemTime::now() - ABANDONED - Duration::from_secs(60);
        fs::File::options()
            .write(true)
            .open(staging.join(MARKER))
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert_eq!(sweep(&out).unwrap(), vec![staging.clone()]);
    }
}
