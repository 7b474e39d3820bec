//! `manifold new`: one service file, with the keys its kind needs.

use super::{Refused, SCHEMA_DIR, name_problem};
use crate::model::WorkloadKind;

/// The text of `services/<name>.toml` for a service of `kind`: the common
/// keys, each with a comment. An invalid name is refused.
pub fn service(name: &str, kind: WorkloadKind) -> Result<String, Refused> {
    if let Some(problem) = name_problem("service", name) {
        return Err(problem);
    }
    let mut text = format!(
        r#"#:schema ../{SCHEMA_DIR}/service.schema.json
# The `{name}` service (named after this file). Your editor describes each
# key from the schema above; manifold's README has the whole format.
kind = "{kind}"
# The image repository, without tag; the environment's `registry` is
# prepended. `version` is the tag, and the `version` label.
image = "{name}"
version = "1.0.0"
"#,
        kind = kind.as_str()
    );
    text.push_str(match kind {
        WorkloadKind::Deployment | WorkloadKind::StatefulSet => REPLICAS,
        _ => "",
    });
    text.push_str(ENV);
    text.push_str(match kind {
        WorkloadKind::Deployment | WorkloadKind::StatefulSet => SERVED,
        WorkloadKind::DaemonSet => AGENT,
        WorkloadKind::CronJob => CRON,
        WorkloadKind::Job => JOB,
    });
    text.push_str(RESOURCES);
    Ok(text)
}

const REPLICAS: &str = "\
# Pods running at once; an environment's overlay may set another number.
replicas = 2
";

const ENV: &str = r#"
# Variables of the container, in this order. Numbers and booleans become
# strings; a Secret is referred to, never written here:
# DB_PASSWORD = { secret = "db", key = "password" }
[env]
LOG_LEVEL = "info"
"#;

const SERVED: &str = r#"
# The container's ports, referred to by name below.
[[ports]]
name = "http"
port = 8080

# A pod gets traffic once this answers.
[probes.readiness]
http = { path = "/healthz", port = "http" }
period = "5s"

# The Service in front of the pods: its port 80 to the container's `http`.
[service]
ports = [{ name = "http", port = 80 }]
"#;

const AGENT: &str = r#"
# One pod on every node. Its port, for the probe below.
[[ports]]
name = "http"
port = 8080

# The pod counts as ready once this answers.
[probes.readiness]
http = { path = "/healthz", port = "http" }
period = "10s"
"#;

const CRON: &str = r#"
# When it runs: five cron fields (minute, hour, day of month, month, day of
# week), here every day at 03:00 in the controller's time zone.
[cron]
schedule = "0 3 * * *"
concurrency = "forbid"

# Each run is a Job: retries before a run fails, and its longest run.
[job]
backoff_limit = 2
active_deadline = "1h"
"#;

const JOB: &str = r#"
# Runs once to completion on each publish of a new template (the Job's name
# carries a hash of it): retries before it fails, and its longest run.
[job]
backoff_limit = 2
active_deadline = "1h"
"#;

const RESOURCES: &str = r#"
# What a pod asks for (request) and may use at most (limit).
[resources]
cpu = { request = "100m", limit = "500m" }
memory = { request = "128Mi", limit = "256Mi" }

# The pods run as non-root: the numeric user of the image, which the
# kubelet can check (a user name it cannot).
[security]
run_as_user = 10001
"#;
