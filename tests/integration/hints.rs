//! Hints that lead to a fix: each value a schema diagnostic suggests
//! ("quote the value", "remove the quotes", a duration's or a quantity's
//! unit) is written into the file in place of the wrong one, and the
//! repository then validates. A suggestion that led to another error would
//! send the user round in circles.

use std::fs;

use crate::support::*;

/// One wrong value in the `minimal` fixture: `file`'s line `line` becomes
/// `wrong`, which ends with the wrong `value`.
struct Hint {
    file: &'static str,
    line: &'static str,
    wrong: &'static str,
    value: &'static str,
}

impl Hint {
    /// Validates the fixture with the wrong line: exit 1 and exactly
    /// `stderr`; then, for each of `fixes`, with the value replaced by it:
    /// exit 0.
    fn check(&self, stderr: &str, fixes: &[&str]) {
        self.check_exit(1, stderr, fixes);
    }

    /// As `check`, with the exit code `code` before the fix (0 for a
    /// warning).
    fn check_exit(&self, code: i32, stderr: &str, fixes: &[&str]) {
        let repo = fixture("minimal");
        let path = repo.path().join(self.file);
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(self.line),
            "{} has no `{}`",
            self.file,
            self.line
        );
        fs::write(&path, text.replacen(self.line, self.wrong, 1)).unwrap();
        let run = manifold(repo.path(), &["validate"]);
        // A run with warnings only ends with the usual `ok:` line, and its time.
        let shown = match run.stderr.find("\nok: ") {
            Some(end) if code == 0 => &run.stderr[..=end],
            _ => run.stderr.as_str(),
        };
        assert_eq!(shown, stderr);
        assert_eq!(run.code, code);
        for fix in fixes {
            assert!(
                stderr.contains(&format!("`{fix}`")),
                "`{fix}` is not suggested"
            );
            // The value is the last thing on the wrong line.
            let at = self.wrong.rfind(self.value).unwrap();
            let fixed = format!(
                "{}{fix}{}",
                &self.wrong[..at],
                &self.wrong[at + self.value.len()..]
            );
            fs::write(&path, text.replacen(self.line, &fixed, 1)).unwrap();
            let run = manifold(repo.path(), &["validate"]);
            assert_eq!(run.code, 0, "after `{fixed}`: {}", run.stderr);
            assert!(
                run.stderr.starts_with("ok: "),
                "after `{fixed}`: {}",
                run.stderr
            );
        }
    }
}

const PERIOD: &str = "period = \"5s\"";
const MEMORY: &str = "memory = \"256Mi\"";
const REPLICAS: &str = "replicas = 3";
const KUBE_VERSION: &str = "kube_version = \"1.35\"";

#[test]
fn a_duration_written_as_a_number_gets_its_unit_not_quotes() {
    Hint {
        file: "services/web.toml",
        line: PERIOD,
        wrong: "period = \"5s\"\ninitial_delay = 5",
        value: "5",
    }
    .check(
        r#"error: `probes.readiness.initial_delay` must be a string, found an integer
  --> services/web.toml:15:17
   |
15 | initial_delay = 5
   |                 ^
   |
   = help: a duration needs its unit: `"5s"` (5 seconds; `m` counts minutes, `h` hours)

1 error found
"#,
        &["\"5s\""],
    );
}

#[test]
fn a_duration_quoted_without_its_unit_or_with_words_gets_its_unit() {
    let hint = |wrong, value| Hint {
        file: "services/web.toml",
        line: PERIOD,
        wrong,
        value,
    };
    hint("period = \"5\"", "\"5\"").check(
        r#"error: invalid value `5` for `probes.readiness.period`
  --> services/web.toml:14:10
   |
14 | period = "5"
   |          ^^^
   |
   = help: write `"5s"`: a duration is whole seconds written with units, `s`, `m` and `h`, like `10s`, `5m` or `1h30m`

1 error found
"#,
        &["\"5s\""],
    );
    hint("period = \"1 min 30 sec\"", "\"1 min 30 sec\"").check(
        r#"error: invalid value `1 min 30 sec` for `probes.readiness.period`
  --> services/web.toml:14:10
   |
14 | period = "1 min 30 sec"
   |          ^^^^^^^^^^^^^^
   |
   = help: write `"1m30s"`: a duration is whole seconds written with units, `s`, `m` and `h`, like `10s`, `5m` or `1h30m`

1 error found
"#,
        &["\"1m30s\""],
    );
}

#[test]
fn true_where_a_secret_name_is_expected_is_not_told_to_quote_it() {
    // `tls = "true"` would validate and name a Secret `true`.
    Hint {
        file: "services/web.toml",
        line: "[service]",
        wrong: "[ingress]\nhost = \"shop.example.com\"\ntls = true\n\n[service]",
        value: "true",
    }
    .check(
        r#"error: `ingress.tls` must be a string, found a boolean
  --> services/web.toml:22:7
   |
22 | tls = true
   |       ^^^^
   |
   = help: `ingress.tls` takes text, not `true` or `false` (name of the TLS Secret for every host): write it as a string, like `"game-tls"`

1 error found
"#,
        &["\"game-tls\""],
    );
}

#[test]
fn memory_in_megabytes_is_told_the_two_units_kubernetes_reads() {
    Hint {
        file: "services/web.toml",
        line: MEMORY,
        wrong: "memory = \"512MB\"",
        value: "\"512MB\"",
    }
    .check(
        r#"error: invalid value `512MB` for `resources.memory`
  --> services/web.toml:18:10
   |
18 | memory = "512MB"
   |          ^^^^^^^
   |
   = help: `MB` is not a Kubernetes unit (Kubernetes units have no `B`): write `"512M"` (megabytes, 1000² bytes) or `"512Mi"` (mebibytes, 1024² bytes)

1 error found
"#,
        &["\"512M\"", "\"512Mi\""],
    );
}

#[test]
fn a_unit_in_the_wrong_case_or_after_a_space_is_written_right() {
    let hint = |wrong, value| Hint {
        file: "services/web.toml",
        line: MEMORY,
        wrong,
        value,
    };
    hint("memory = \"256mi\"", "\"256mi\"").check(
        r#"error: invalid value `256mi` for `resources.memory`
  --> services/web.toml:18:10
   |
18 | memory = "256mi"
   |          ^^^^^^^
   |
   = help: `mi` is not a Kubernetes unit (units are case-sensitive): write `"256Mi"` (mebibytes, 1024² bytes)

1 error found
"#,
        &["\"256Mi\""],
    );
    hint("memory = { request = \"1 Gi\" }", "\"1 Gi\"").check(
        r#"error: invalid value `1 Gi` for `resources.memory.request`
  --> services/web.toml:18:22
   |
18 | memory = { request = "1 Gi" }
   |                      ^^^^^^
   |
   = help: a quantity is written without spaces: write `"1Gi"` (gibibytes, 1024³ bytes)

1 error found
"#,
        &["\"1Gi\""],
    );
}

#[test]
fn kube_version_written_as_a_number_is_quoted_as_written() {
    Hint {
        file: "environments/dev.toml",
        line: KUBE_VERSION,
        wrong: "kube_version = 1.35",
        value: "1.35",
    }
    .check(
        r#"error: invalid value `1.35` for `kube_version`
 --> environments/dev.toml:2:16
  |
2 | kube_version = 1.35
  |                ^^^^
  |
  = help: quote the value: `"1.35"`

1 error found
"#,
        &["\"1.35\""],
    );
}

#[test]
fn a_kube_version_float_that_lost_its_zero_is_not_guessed() {
    // `1.30` and `1.3` are one number: which string was meant is unknown.
    Hint {
        file: "environments/dev.toml",
        line: KUBE_VERSION,
        wrong: "kube_version = 1.3",
        value: "1.3",
    }
    .check(
        r#"error: invalid value `1.3` for `kube_version`
 --> environments/dev.toml:2:16
  |
2 | kube_version = 1.3
  |                ^^^
  |
  = help: write one of `1.33`, `1.34`, `1.35`, `1.36` or `1.37` as a string: TOML reads `1.3` as a number, and a number cannot be trusted to keep trailing zeros (`1.30` is the number `1.3`)

1 error found
"#,
        &[],
    );
}

#[test]
fn a_quoted_number_or_boolean_loses_its_quotes_in_every_layer() {
    Hint {
        file: "environments/prod.toml",
        line: REPLICAS,
        wrong: "replicas = \"3\"",
        value: "\"3\"",
    }
    .check(
        r#"error: `defaults.replicas` must be an integer, found a string
 --> environments/prod.toml:6:12
  |
6 | replicas = "3"
  |            ^^^
  |
  = help: remove the quotes: `3`

1 error found
"#,
        &["3"],
    );
    Hint {
        file: "services/web.toml",
        line: "version = \"1.0\"",
        wrong: "version = \"1.0\"\nenabled = \"True\"",
        value: "\"True\"",
    }
    .check(
        r#"error: `enabled` must be a boolean, found a string
 --> services/web.toml:3:11
  |
3 | enabled = "True"
  |           ^^^^^^
  |
  = help: remove the quotes: `true`

1 error found
"#,
        &["true"],
    );
}

#[test]
fn a_negative_quantity_is_not_offered_a_fix_that_fails() {
    Hint {
        file: "services/web.toml",
        line: MEMORY,
        wrong: "memory = -1",
        value: "-1",
    }
    .check(
        r#"error: `resources.memory` is too small
  --> services/web.toml:18:10
   |
18 | memory = -1
   |          ^^
   |
   = help: use a value of at least 0

1 error found
"#,
        &[],
    );
}

#[test]
fn memory_as_a_bare_number_of_bytes_is_told_its_unit() {
    let hint = |wrong, value| Hint {
        file: "services/web.toml",
        line: MEMORY,
        wrong,
        value,
    };
    hint("memory = 512", "512").check_exit(
        0,
        r#"warning: memory `512` is 512 bytes, too little for a container to start
  --> services/web.toml:18:10
   |
18 | memory = 512
   |          ^^^
   |
   = help: a quantity without a unit counts bytes: write `"512Mi"` (mebibytes, 1024² bytes) or `"512M"` (megabytes, 1000² bytes)

1 warning found
"#,
        &["\"512Mi\"", "\"512M\""],
    );
    hint("memory = { limit = \"256m\" }", "\"256m\"").check_exit(
        0,
        r#"warning: memory `256m` is 0.256 bytes, too little for a container to start
  --> services/web.toml:18:20
   |
18 | memory = { limit = "256m" }
   |                    ^^^^^^
   |
   = help: `m` means thousandths (millicores, for cpu): write `"256Mi"` (mebibytes, 1024² bytes) or `"256M"` (megabytes, 1000² bytes)

1 warning found
"#,
        &["\"256Mi\"", "\"256M\""],
    );
}

#[test]
fn a_quoted_count_where_a_count_or_percentage_goes_loses_its_quotes() {
    Hint {
        file: "environments/prod/web.toml",
        line: "max_unavailable = 1",
        wrong: "max_unavailable = \"1\"",
        value: "\"1\"",
    }
    .check(
        r#"error: invalid value `1` for `rollout.max_unavailable`
 --> environments/prod/web.toml:4:19
  |
4 | max_unavailable = "1"
  |                   ^^^
  |
  = help: remove the quotes: `1`, a number

1 error found
"#,
        &["1"],
    );
}
