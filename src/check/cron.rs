//! Cron schedules: a cronjob needs `cron.schedule`, written as five fields
//! (minute hour day-of-month month day-of-week) or a macro like `@daily`,
//! checked here as Kubernetes would.

use super::{ServiceCheck, key};
use crate::diag::{Code, Diagnostic, one_of};
use crate::model::WorkloadKind;

impl ServiceCheck<'_> {
    pub(super) fn cron_schedule(&mut self) {
        if self.svc.kind != WorkloadKind::CronJob {
            return;
        }
        match &self.svc.cron.schedule {
            None => {
                let d = Diagnostic::error(Code::MissingKey, "a cronjob needs `cron.schedule`")
                    .hint("add `[cron]` with `schedule = \"0 0 * * *\"`");
                self.report(&[key("kind")], false, d);
            }
            Some(s) => {
                if let Err(e) = check_cron(s) {
                    let d = Diagnostic::error(Code::InvalidValue, format!("invalid cron schedule `{s}`: {e}"))
                        .hint("write five fields: minute hour day-of-month month day-of-week, e.g. `0 0 * * *`, or a macro like `@daily`");
                    self.report(&[key("cron"), key("schedule")], false, d);
                }
            }
        }
    }
}

/// Checks a five-field cron expression or a macro.
fn check_cron(s: &str) -> Result<(), String> {
    const MACROS: [&str; 7] = [
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
    ];
    let s = s.trim();
    if s.starts_with('@') {
        return if MACROS.contains(&s) {
            Ok(())
        } else {
            Err(format!("unknown macro, expected {}", one_of(&MACROS)))
        };
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!("expected 5 fields, found {}", fields.len()));
    }
    const MONTHS: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    let specs: [(&str, u32, u32, &[&str]); 5] = [
        ("minute", 0, 59, &[]),
        ("hour", 0, 23, &[]),
        ("day of month", 1, 31, &[]),
        ("month", 1, 12, &MONTHS),
        ("day of week", 0, 7, &DAYS),
    ];
    for (field, (what, lo, hi, names)) in fields.iter().zip(specs) {
        for part in field.split(',') {
            check_cron_part(part, lo, hi, names).map_err(|e| format!("{what} `{field}`: {e}"))?;
        }
    }
    Ok(())
}

fn check_cron_part(part: &str, lo: u32, hi: u32, names: &[&str]) -> Result<(), String> {
    let (range, step) = match part.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (part, None),
    };
    if let Some(step) = step {
        match step.parse::<u32>() {
            Ok(n) if n > 0 => {}
            _ => return Err(format!("invalid step `{step}`")),
        }
    }
    if range == "*" || range == "?" {
        return Ok(());
    }
    let value = |v: &str| -> Result<u32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(v)) {
            // Month names count from 1, day names from 0.
            return Ok(i as u32 + lo);
        }
        let n: u32 = v.parse().map_err(|_| format!("`{v}` is not a number"))?;
        if n < lo || n > hi {
            return Err(format!("{n} is outside {lo}-{hi}"));
        }
        Ok(n)
    };
    match range.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (value(a)?, value(b)?);
            if a > b {
                return Err(format!("range {a}-{b} is backwards"));
            }
        }
        None => {
            value(range)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_accepts_the_seed_schedule_and_macros() {
        assert_eq!(check_cron("0 0 * * *"), Ok(()));
        assert_eq!(check_cron("*/15 9-18 * JAN-MAR mon-fri"), Ok(()));
        assert_eq!(check_cron("@daily"), Ok(()));
    }

    #[test]
    fn cron_rejects_what_kubernetes_would() {
        assert_eq!(
            check_cron("0 0 * *"),
            Err("expected 5 fields, found 4".into())
        );
        assert_eq!(
            check_cron("61 0 * * *"),
            Err("minute `61`: 61 is outside 0-59".into())
        );
        assert_eq!(
            check_cron("0 0 * * */0"),
            Err("day of week `*/0`: invalid step `0`".into())
        );
        assert!(check_cron("@sometimes").is_err());
    }
}
