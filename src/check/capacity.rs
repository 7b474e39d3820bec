//! The environment's capacity: the cpu and memory its services request at
//! full scale must fit `[capacity]`. Runs once per environment, on the
//! requests of every service ([`requests`]), called by the compiler.
//!
//! Jobs and cronjobs are not counted (they come and go), and a daemonset
//! counts as one pod: it runs one on every node, and the environment does
//! not say how many nodes it has, so its total is a lower bound.

use crate::diag::{Code, Diagnostic};
use crate::input::load::EnvInput;
use crate::input::tree::Step;
use crate::model::{self, Environment, Service, WorkloadKind, quantity_value};

/// Requests at full scale: per pod, times replicas (or the autoscaler's max),
/// for every track; one pod for a daemonset.
pub(crate) fn requests(svc: &Service) -> (f64, f64) {
    if !svc.kind.runs_forever() {
        return (0.0, 0.0);
    }
    let pod = |r: &model::Resources| {
        let get = |x: &Option<model::Resource>| {
            x.as_ref()
                .and_then(|r| r.request())
                .and_then(quantity_value)
                .unwrap_or(0.0)
        };
        (get(&r.cpu), get(&r.memory))
    };
    let mut per_pod = pod(&svc.resources);
    for c in &svc.containers {
        let (cpu, mem) = pod(&c.resources);
        per_pod.0 += cpu;
        per_pod.1 += mem;
    }
    if svc.kind == WorkloadKind::DaemonSet {
        return per_pod;
    }
    let main = svc
        .autoscale
        .as_ref()
        .map_or(svc.replicas.unwrap_or(1), |a| a.max);
    let tracks: i32 = svc
        .tracks
        .iter()
        .map(|t| t.replicas.or(svc.replicas).unwrap_or(1))
        .sum();
    let pods = f64::from(main + tracks);
    (per_pod.0 * pods, per_pod.1 * pods)
}

/// Reports each resource whose total request in the environment (`cpu`
/// cores, `memory` bytes) is above the environment's `[capacity]`, naming the
/// largest requesters among `biggest` (cpu, memory, service).
pub(crate) fn capacity(
    env_input: &EnvInput,
    env: &Environment,
    cpu: f64,
    memory: f64,
    biggest: &mut [(f64, f64, String)],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let Some(tree) = env_input.input.tree.as_ref() else {
        return;
    };
    for (what, used, limit, index) in [
        ("cpu", cpu, &env.capacity.cpu, 0),
        ("memory", memory, &env.capacity.memory, 1),
    ] {
        let Some(limit_q) = limit else { continue };
        let Some(limit) = quantity_value(limit_q) else {
            continue;
        };
        if used <= limit {
            continue;
        }
        biggest.sort_by(|a, b| {
            let (x, y) = if index == 0 { (a.0, b.0) } else { (a.1, b.1) };
            y.total_cmp(&x).then_with(|| a.2.cmp(&b.2))
        });
        let top: Vec<String> = biggest
            .iter()
            .take(3)
            .map(|(c, m, n)| {
                format!(
                    "`{n}` {}",
                    if index == 0 {
                        format_cpu(*c)
                    } else {
                        format_bytes(*m)
                    }
                )
            })
            .collect();
        let (used_s, limit_s) = if index == 0 {
            (format_cpu(used), format_cpu(limit))
        } else {
            (format_bytes(used), format_bytes(limit))
        };
        let node = tree.nearest(&[Step::Key("capacity".into()), Step::Key(what.into())]);
        diagnostics.push(
            Diagnostic::error(
                Code::Capacity,
                format!("{what} requests of environment `{}` add up to {used_s}, above its capacity {limit_s}", env_input.input.name),
            )
            .at(node.origin.file, node.span(false))
            .hint(format!(
                "pods beyond capacity stay Pending; lower requests or replicas, or raise the capacity (largest: {})",
                top.join(", ")
            )),
        );
    }
}

fn format_cpu(cores: f64) -> String {
    let milli = (cores * 1000.0).round();
    if milli % 1000.0 == 0.0 {
        format!("{}", milli / 1000.0)
    } else {
        format!("{milli}m")
    }
}

fn format_bytes(bytes: f64) -> String {
    let mi = bytes / 1048576.0;
    if mi >= 1024.0 && (mi / 1024.0).fract() == 0.0 {
        format!("{}Gi", mi / 1024.0)
    } else {
        format!("{}Mi", mi.round())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_and_memory_print_like_kubernetes_quantities() {
        assert_eq!(format_cpu(18.5), "18500m");
        assert_eq!(format_cpu(16.0), "16");
        assert_eq!(format_bytes(64.0 * 1073741824.0), "64Gi");
        assert_eq!(format_bytes(200.0 * 1048576.0), "200Mi");
    }
}
