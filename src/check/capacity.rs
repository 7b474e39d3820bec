//! The environment's capacity: the cpu and memory its services request at
//! full scale must fit `[capacity]`. Runs once per environment, on the
//! requests of every service ([`requests`]), called by the compiler.
//!
//! Jobs and cronjobs are not counted (they come and go), and a daemonset
//! counts as one pod: it runs one on every node, and the environment does
//! not say how many nodes it has, so its total is a lower bound.

use super::overridden;
use crate::diag::{Code, Diagnostic};
use crate::input::load::EnvInput;
use crate::input::merge::Layers;
use crate::input::tree::{Node, Step};
use crate::model::{self, Environment, Service, WorkloadKind, quantity_value};

/// A service's requests at full scale in one environment, and where the
/// numbers they are made of are written.
#[derive(Clone, Debug)]
pub(crate) struct Requests {
    /// Cores and bytes: per pod, times the pods.
    pub cpu: f64,
    pub memory: f64,
    /// Per pod, side containers included.
    per_pod: (f64, f64),
    pods: i32,
    /// `replicas` or `autoscale.max`, where written (`None` for a
    /// daemonset, which counts one pod).
    count: Option<Node>,
    /// The main container's cpu and memory request, where written.
    request: (Option<Node>, Option<Node>),
    layers: Layers,
}

/// Requests at full scale: per pod, times replicas (or the autoscaler's max),
/// for every track; one pod for a daemonset. `tree` is the merged service,
/// for where the numbers are written.
pub(crate) fn requests(svc: &Service, tree: &Node, layers: Layers) -> Requests {
    let key = |k: &str| Step::Key(k.to_string());
    let request = |what: &str| {
        let node = tree.at(&[key("resources"), key(what)])?;
        Some(node.get("request").unwrap_or(node).clone())
    };
    let mut out = Requests {
        cpu: 0.0,
        memory: 0.0,
        per_pod: (0.0, 0.0),
        pods: 0,
        count: None,
        request: (request("cpu"), request("memory")),
        layers,
    };
    if !svc.kind.runs_forever() {
        return out;
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
    out.per_pod = per_pod;
    if svc.kind == WorkloadKind::DaemonSet {
        (out.pods, out.cpu, out.memory) = (1, per_pod.0, per_pod.1);
        return out;
    }
    let main = svc
        .autoscale
        .as_ref()
        .map_or(svc.replicas.unwrap_or(1), |a| a.max);
    out.count = match svc.autoscale {
        Some(_) => tree.at(&[key("autoscale"), key("max")]),
        None => tree.get("replicas"),
    }
    .cloned();
    let tracks: i32 = svc
        .tracks
        .iter()
        .map(|t| t.replicas.or(svc.replicas).unwrap_or(1))
        .sum();
    out.pods = main + tracks;
    let pods = f64::from(out.pods);
    (out.cpu, out.memory) = (per_pod.0 * pods, per_pod.1 * pods);
    out
}

/// Reports each resource whose total request in the environment (`cpu`
/// cores, `memory` bytes) is above the environment's `[capacity]`: at the
/// largest requester's `replicas` (or `autoscale.max`, or its request when
/// it runs one pod), with its request, the capacity and the next largest
/// requesters shown beside it.
pub(crate) fn capacity(
    env_input: &EnvInput,
    env: &Environment,
    services: &mut [(String, Requests)],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let Some(tree) = env_input.input.tree.as_ref() else {
        return;
    };
    for (what, limit, index) in [
        ("cpu", &env.capacity.cpu, 0),
        ("memory", &env.capacity.memory, 1),
    ] {
        let Some(limit_q) = limit else { continue };
        let Some(limit) = quantity_value(limit_q) else {
            continue;
        };
        let amount = |r: &Requests| if index == 0 { r.cpu } else { r.memory };
        let format = |x: f64| {
            if index == 0 {
                format_cpu(x)
            } else {
                format_bytes(x)
            }
        };
        let used: f64 = services.iter().map(|(_, r)| amount(r)).sum();
        if used <= limit {
            continue;
        }
        services.sort_by(|a, b| {
            amount(&b.1)
                .total_cmp(&amount(&a.1))
                .then_with(|| a.0.cmp(&b.0))
        });
        let top: Vec<String> = services
            .iter()
            .take(3)
            .map(|(n, r)| format!("`{n}` {}", format(amount(r))))
            .collect();
        let capacity = tree.nearest(&[Step::Key("capacity".into()), Step::Key(what.into())]);
        let d = Diagnostic::error(
            Code::Capacity,
            format!(
                "{what} requests of environment `{}` add up to {}, above its capacity {}",
                env_input.input.name,
                format(used),
                format(limit)
            ),
        )
        .hint(format!(
            "pods beyond capacity stay Pending; lower requests or replicas, or raise the capacity (largest: {})",
            top.join(", ")
        ));
        let d = match services.first() {
            Some((name, r)) => largest(d, name, r, index, &format),
            None => d,
        };
        let others = services
            .iter()
            .skip(1)
            .take(2)
            .filter(|(_, r)| amount(r) > 0.0);
        let d = others.fold(d, |d, (name, r)| {
            let request = if index == 0 {
                &r.request.0
            } else {
                &r.request.1
            };
            match request.as_ref().or(r.count.as_ref()) {
                Some(n) => d.related(
                    n.origin.file,
                    n.origin.span.clone(),
                    format!("`{name}`: {} in all", format(amount(r))),
                ),
                None => d,
            }
        });
        let d = if d.file.is_some() {
            d.related(
                capacity.origin.file,
                capacity.span(false),
                format!("the capacity of `{}`", env_input.input.name),
            )
        } else {
            d.at(capacity.origin.file, capacity.span(false))
        };
        diagnostics.push(d);
    }
}

/// Points `d` at the largest requester's pod count, its request beside it
/// (or at the request alone for one pod), with the layers that set them.
fn largest(
    d: Diagnostic,
    name: &str,
    r: &Requests,
    index: usize,
    format: &dyn Fn(f64) -> String,
) -> Diagnostic {
    let per_pod = if index == 0 { r.per_pod.0 } else { r.per_pod.1 };
    let request = if index == 0 {
        &r.request.0
    } else {
        &r.request.1
    };
    let total = format(per_pod * f64::from(r.pods));
    let each = format(per_pod);
    match (&r.count, request) {
        (Some(count), _) if r.pods > 1 => {
            let d = d
                .at(count.origin.file, count.origin.span.clone())
                .label(format!(
                    "`{name}`: {} pods of {each}, {total} in all",
                    r.pods
                ));
            let d = overridden(d, count, r.layers);
            match request {
                Some(n) => d.related(
                    n.origin.file,
                    n.origin.span.clone(),
                    format!("`{name}` requests {each} a pod"),
                ),
                None => d,
            }
        }
        (_, Some(n)) => {
            let label = if r.pods == 1 {
                format!("`{name}`: one pod of {each}")
            } else {
                format!("`{name}`: {} pods of {each}, {total} in all", r.pods)
            };
            overridden(
                d.at(n.origin.file, n.origin.span.clone()).label(label),
                n,
                r.layers,
            )
        }
        _ => d,
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
