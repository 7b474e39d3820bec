//! What a repository knows of its history and refs: commit trailers,
//! ancestry (as far as a shallow clone shows it), dates, and the refs under
//! a prefix, for the checks and the sweep that `gitops` runs before it
//! publishes.

use anyhow::{Result, bail};

use super::Repo;

impl Repo {
    /// The trailers of a commit's message, as git parses them (the last
    /// paragraph, continuation lines unfolded): (key, value) in order.
    pub fn trailers(&self, commit: &str) -> Result<Vec<(String, String)>> {
        let out = self.check(
            &[
                "log",
                "-1",
                "--format=%(trailers:only,unfold)",
                "--end-of-options",
                commit,
                "--",
            ],
            None,
        )?;
        Ok(String::from_utf8_lossy(&out)
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect())
    }

    /// Whether the repository has the commit `id` (a shallow clone or a
    /// fetch of one branch may not).
    pub fn has_commit(&self, id: &str) -> Result<bool> {
        let spec = format!("{id}^{{commit}}");
        Ok(self.run(&["cat-file", "-e", &spec], None)?.ok)
    }

    /// Whether `ancestor` is `descendant` or one of its ancestors, as far as
    /// the history in the repository shows (a shallow clone may cut it).
    pub fn is_ancestor(&self, ancestor: &str, descendant: &str) -> Result<bool> {
        let out = self.run(&["merge-base", "--is-ancestor", ancestor, descendant], None)?;
        if out.ok {
            return Ok(true);
        }
        if out.stderr.trim().is_empty() {
            return Ok(false);
        }
        bail!("`git merge-base` failed: {}", out.stderr.trim());
    }

    /// Whether the repository is a shallow clone, its history cut short.
    pub fn is_shallow(&self) -> Result<bool> {
        let out = self.check(&["rev-parse", "--is-shallow-repository"], None)?;
        Ok(String::from_utf8_lossy(&out).trim() == "true")
    }

    /// The refs under `prefix` (`refs/manifold/`) and their values.
    pub fn refs(&self, prefix: &str) -> Result<Vec<(String, String)>> {
        let out = self.check(
            &[
                "for-each-ref",
                "--format=%(refname)%00%(objectname)",
                prefix,
            ],
            None,
        )?;
        Ok(String::from_utf8_lossy(&out)
            .lines()
            .filter_map(|l| l.split_once('\0'))
            .map(|(name, id)| (name.to_string(), id.to_string()))
            .collect())
    }

    /// Deletes `name` if it still points at `id`; false when it did not.
    pub fn delete_ref(&self, name: &str, id: &str) -> Result<bool> {
        Ok(self.run(&["update-ref", "-d", name, id], None)?.ok)
    }
}

/// Seconds since the epoch of a date in git's strict ISO 8601 format
/// (`2024-05-01T12:00:00+02:00`, or `Z`), as `%cI` prints it.
pub fn parse_iso_date(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let sep = |at: usize, c: u8| b.get(at) == Some(&c);
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let offset = match b.get(19..)? {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let minutes = num(20, 2)? * 60 + num(23, 2)?;
            if *sign == b'+' {
                minutes * 60
            } else {
                -minutes * 60
            }
        }
        _ => return None,
    };
    // Days from 1970-01-01 to the civil date (proleptic Gregorian).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_read_as_git_writes_them() {
        assert_eq!(parse_iso_date("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso_date("1970-01-01T00:00:00+00:00"), Some(0));
        // `git log --format=%ct%n%cI` of a commit made at this time.
        assert_eq!(
            parse_iso_date("2024-02-29T13:14:15+02:00"),
            Some(1_709_205_255)
        );
        assert_eq!(
            parse_iso_date("2023-12-31T23:59:59-05:30"),
            Some(1_704_086_999)
        );
        for bad in [
            "",
            "1700000000",
            "2024-13-01T00:00:00Z",
            "2024-02-29 13:14:15 +0200",
        ] {
            assert_eq!(parse_iso_date(bad), None, "{bad}");
        }
    }
}
