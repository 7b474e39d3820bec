//! `promote_from` across the environment files: it names an environment
//! that has a file, not the environment itself, and the references do not
//! go in a circle. What the order then is lives in `model::promotion`.

use crate::diag::{Code, Diagnostic, did_you_mean};
use crate::input::tree::Node;
use crate::model::promotion_circles;

/// One environment file: its name, and its `promote_from` value, if set.
pub struct Promoted<'a> {
    pub name: &'a str,
    pub from: Option<&'a Node>,
}

/// For each environment, the index of the one it is promoted from, where
/// that names an environment; then the problems of every reference.
pub fn promotion(envs: &[Promoted]) -> (Vec<Option<usize>>, Vec<Diagnostic>) {
    let names: Vec<&str> = envs.iter().map(|e| e.name).collect();
    let mut diagnostics = Vec::new();
    let mut from = Vec::with_capacity(envs.len());
    for env in envs {
        let Some(node) = env.from else {
            from.push(None);
            continue;
        };
        let target = node.as_str().unwrap_or_default();
        let at = |d: Diagnostic| d.at(node.origin.file, node.span(false));
        match names.iter().position(|n| *n == target) {
            Some(i) if names[i] == env.name => {
                from.push(None);
                diagnostics.push(at(Diagnostic::error(
                    Code::InvalidValue,
                    format!("environment `{target}` is promoted from itself"),
                )
                .hint("name the environment releases reach this one from, or remove `promote_from` if none does")));
            }
            Some(i) => from.push(Some(i)),
            None => {
                from.push(None);
                let others = names.iter().copied().filter(|n| *n != env.name);
                let hint = match did_you_mean(target, others.clone()) {
                    Some(better) => format!("did you mean `{better}`?"),
                    None => format!(
                        "`promote_from` names an environment file of `environments/`: {}",
                        crate::diag::one_of(&others.collect::<Vec<_>>())
                    ),
                };
                diagnostics.push(at(Diagnostic::error(
                    Code::UnknownEnvironment,
                    format!("`promote_from` names environment `{target}`, which has no file"),
                )
                .hint(hint)));
            }
        }
    }
    for circle in promotion_circles(&from) {
        let first = circle[0];
        let links: Vec<String> = circle
            .iter()
            .enumerate()
            .map(|(k, i)| {
                let next = names[circle[(k + 1) % circle.len()]];
                let verb = if k == 0 { " is promoted" } else { "" };
                format!("`{}`{verb} from `{next}`", names[*i])
            })
            .collect();
        if let Some(node) = envs[first].from {
            diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("promotion goes in a circle: {}", links.join(", ")),
                )
                .at(node.origin.file, node.span(false))
                .hint("one environment of the circle is where releases start: remove its `promote_from`"),
            );
        }
    }
    (from, diagnostics)
}
