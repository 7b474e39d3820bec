//! What a publish may replace. A gitops branch whose tip manifold did not
//! make (no `Source-Commit` trailer) is not taken over, and a source commit
//! older than the one the branch was published from does not replace it,
//! unless asked (`take_over`, `allow_older`).
//!
//! "Older" is decided by the history when the repository has both source
//! commits and their history connects them; otherwise (a shallow clone, a
//! source fetched from elsewhere) by the source commits' committer dates,
//! the published one read from the `Source-Date` trailer; and when that
//! trailer is missing too, it cannot be decided and the publish goes ahead
//! with a note. Every answer says which rule decided.

use std::fmt;

use anyhow::Result;

use crate::git::{Repo, Source, Tip, parse_iso_date};

use super::Options;

/// A publish refused because it would take over a branch manifold did not
/// make, or go back to an older source; the message names the branch, both
/// commits and the flag that overrides.
#[derive(Debug)]
pub struct Refused {
    pub message: String,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Refused {}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

/// Whether publishing `source` may replace the tip of `branch`: `Ok(None)`
/// when nothing needs saying, `Ok(Some(note))` when it may and how that was
/// decided is worth telling, `Err(Refused)` when it may not. `raced` says
/// that the tip is another publish's, made while this one ran.
pub(super) fn check(
    repo: &Repo,
    branch: &str,
    tip: &Tip,
    source: &Source,
    options: &Options,
    raced: bool,
) -> Result<Option<String>> {
    let ours = source.commit.as_str();
    let meanwhile = if raced {
        " (moved there while this publish ran)"
    } else {
        ""
    };
    let trailers = repo.trailers(&tip.commit)?;
    let value = |key: &str| {
        trailers
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    };
    let id_len = repo.format.zero().len();
    let theirs = value("Source-Commit")
        .filter(|v| v.len() == id_len && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase);
    let Some(theirs) = theirs else {
        if options.take_over {
            return Ok(Some(format!(
                "took over `{branch}`: its tip {} has no `Source-Commit` trailer; {} replaces its files",
                short(&tip.commit),
                short(ours)
            )));
        }
        return Err(refused(format!(
            "`{branch}` was not made by manifold: its tip {}{meanwhile} has no `Source-Commit` trailer, so publishing {} would replace its files\n  = help: check that `{branch}` is the gitops branch, then pass `--take-over` to publish on top of it",
            short(&tip.commit),
            short(ours)
        )));
    };
    if theirs == ours || options.allow_older {
        return Ok(None);
    }
    let older = |rule: String| {
        refused(format!(
            "`{branch}` was published from {theirs_short}{meanwhile}, and {ours_short} is older ({rule}): publishing it would go back in time\n  = help: publish {theirs_short} or a later commit, or pass `--allow-older` to publish {ours_short} anyway",
            theirs_short = short(&theirs),
            ours_short = short(ours),
        ))
    };
    let shallow = repo.is_shallow()?;
    let why_dates = if repo.has_commit(&theirs)? {
        if repo.is_ancestor(ours, &theirs)? {
            return Err(older(format!(
                "an ancestor of {} in the history",
                short(&theirs)
            )));
        }
        if !shallow || repo.is_ancestor(&theirs, ours)? {
            return Ok(None);
        }
        format!(
            "this shallow clone's history does not connect {} and {}",
            short(ours),
            short(&theirs)
        )
    } else {
        format!(
            "{} is not in this repository{}",
            short(&theirs),
            if shallow { " (a shallow clone)" } else { "" }
        )
    };
    let ours_time = parse_iso_date(&source.date);
    let published = value("Source-Date");
    let (Some(ours_time), Some(theirs_time)) = (ours_time, published.and_then(parse_iso_date))
    else {
        return Ok(Some(format!(
            "cannot tell whether {} is older than {}, which `{branch}` was published from: {why_dates}, and its commit has no `Source-Date` trailer; publishing",
            short(ours),
            short(&theirs)
        )));
    };
    let (ours_date, theirs_date) = (source.date.as_str(), published.unwrap_or_default());
    if ours_time < theirs_time {
        return Err(older(format!(
            "by committer date, {ours_date} before {theirs_date}, since {why_dates}"
        )));
    }
    Ok(Some(format!(
        "{} is not older than {}, which `{branch}` was published from, by committer date ({ours_date}, {theirs_date}), since {why_dates}",
        short(ours),
        short(&theirs)
    )))
}

fn refused(message: String) -> anyhow::Error {
    Refused { message }.into()
}
