//! The private refs a publish writes its commits to, and the sweep of those
//! that killed publishes left behind.
//!
//! A publish names its refs `refs/manifold/publish-<pid>-<n>` and deletes
//! them in the transaction that moves the branches; a publish killed between
//! `git fast-import` and that transaction leaves them. The next publish
//! deletes every such ref whose process is gone, and only those: a ref of a
//! running publish, or one whose name it does not recognise, stays.

use anyhow::Result;

use crate::git::Repo;

const PREFIX: &str = "refs/manifold/publish-";

/// The private ref of the `n`th commit this process writes.
pub(super) fn scratch_ref(n: usize) -> String {
    format!("{PREFIX}{}-{n}", std::process::id())
}

/// The process id in a private ref's name, if it is one.
fn owner(refname: &str) -> Option<u32> {
    let (pid, n) = refname.strip_prefix(PREFIX)?.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(pid) && digits(n)).then(|| pid.parse().ok())?
}

/// Deletes the private refs of publishes that no longer run; returns their
/// names. A ref that moved meanwhile is left alone.
pub(super) fn sweep(repo: &Repo) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for (name, id) in repo.refs("refs/manifold/")? {
        let Some(pid) = owner(&name) else { continue };
        if pid != std::process::id() && !alive(pid) && repo.delete_ref(&name, &id)? {
            removed.push(name);
        }
    }
    Ok(removed)
}

/// Whether process `pid` runs on this machine. When that cannot be known,
/// it is taken to run: a leftover ref costs nothing, deleting a running
/// publish's ref would fail it.
fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        // A killed process not yet reaped by its parent is a zombie (`Z`):
        // it will never delete its refs.
        return match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => stat
                .rsplit_once(')')
                .is_none_or(|(_, rest)| !rest.trim_start().starts_with('Z')),
            Err(e) => e.kind() != std::io::ErrorKind::NotFound,
        };
    }
    if cfg!(unix) {
        return std::process::Command::new("kill")
            .args(["-0", &pid.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map_or(true, |s| s.success());
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_refs_name_their_process() {
        let own = scratch_ref(3);
        assert_eq!(owner(&own), Some(std::process::id()));
        assert!(own.ends_with("-3"));
        assert_eq!(owner("refs/manifold/publish-123-0"), Some(123));
        for other in [
            "refs/manifold/publish-123",
            "refs/manifold/publish-abc-0",
            "refs/manifold/publish--0",
            "refs/manifold/publish-1-0-x",
            "refs/manifold/other-1-0",
            "refs/heads/publish-1-0",
        ] {
            assert_eq!(owner(other), None, "{other}");
        }
    }

    #[test]
    fn this_process_is_alive_and_a_finished_one_is_not() {
        assert!(alive(std::process::id()));
        if cfg!(unix) {
            let mut child = std::process::Command::new("true").spawn().unwrap();
            let pid = child.id();
            child.wait().unwrap();
            assert!(!alive(pid));
        }
    }
}
