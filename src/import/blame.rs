//! Why a difference stays: what an existing environment's `[defaults]`
//! sets reaches every service, and a service file can replace a value but
//! never take one away (no key unsets `run_as_user`, say). A material
//! difference that goes away when the services are compiled without the
//! environment's `[defaults]` is caused by them; the key is found by
//! leaving out one at a time (two levels deep: `security.run_as_user`).

use super::compare::Difference;
use super::toml::Toml;

/// Sets `cause` on the material differences that the environment's
/// `[defaults]` cause. `differences` compiles the files and compares them
/// with the input (`None` when they do not compile).
pub fn defaults(
    diffs: &mut [Difference],
    written: &[(String, String)],
    env: &str,
    differences: impl Fn(&[(String, String)]) -> Option<Vec<Difference>>,
) {
    let path = format!("environments/{env}.toml");
    let Some((_, text)) = written.iter().find(|(p, _)| *p == path) else {
        return;
    };
    let Ok(table) = text.parse::<::toml::Table>() else {
        return;
    };
    let Ok(serde_json::Value::Object(env_json)) = serde_json::to_value(&table) else {
        return;
    };
    let Some(serde_json::Value::Object(defaults)) = env_json.get("defaults") else {
        return;
    };
    if diffs.iter().all(|d| d.allowed) {
        return;
    }
    // The files with the environment's `[defaults]` less `keys` (all of
    // it for none).
    let without = |keys: &[&str]| {
        let mut json = serde_json::Value::Object(env_json.clone());
        match keys.split_last() {
            None => {
                json.as_object_mut().map(|m| m.remove("defaults"));
            }
            Some((last, parents)) => {
                let mut at = &mut json["defaults"];
                for k in parents {
                    at = &mut at[*k];
                }
                at.as_object_mut().map(|m| m.remove(*last));
            }
        }
        let text = match Toml::from_json(&json) {
            Some(Toml::Table(t)) => t.to_document(""),
            _ => String::new(),
        };
        let files: Vec<(String, String)> = written
            .iter()
            .map(|(p, t)| (p.clone(), if *p == path { text.clone() } else { t.clone() }))
            .collect();
        files
    };
    let same = |a: &Difference, b: &Difference| a.object == b.object && a.path == b.path;
    let gone = |remaining: &[Difference], d: &Difference| {
        !d.allowed && !remaining.iter().any(|r| !r.allowed && same(r, d))
    };
    let Some(without_all) = differences(&without(&[])) else {
        return;
    };
    if !diffs.iter().any(|d| gone(&without_all, d)) {
        return;
    }
    let mut keys: Vec<Vec<&str>> = Vec::new();
    for (k, v) in defaults {
        match v.as_object() {
            Some(sub) => keys.extend(sub.keys().map(|s| vec![k.as_str(), s.as_str()])),
            None => keys.push(vec![k.as_str()]),
        }
    }
    let mut causes: Vec<(Vec<&str>, Vec<Difference>)> = Vec::new();
    for k in keys {
        if let Some(remaining) = differences(&without(&k)) {
            causes.push((k, remaining));
        }
    }
    for d in diffs.iter_mut().filter(|d| gone(&without_all, d)) {
        let key = causes
            .iter()
            .find(|(_, remaining)| gone(remaining, d))
            .map(|(k, _)| key_words(k));
        d.cause = Some(format!(
            "set by {} in {path}, which a service file cannot take away: move it out of `[defaults]` into the services that need it",
            key.unwrap_or_else(|| "`[defaults]`".to_string())
        ));
    }
}

/// `` `[defaults.security] run_as_user` `` or `` `[defaults] replicas` ``.
fn key_words(key: &[&str]) -> String {
    match key {
        [table, k] => format!("`[defaults.{table}] {k}`"),
        [k] => format!("`[defaults] {k}`"),
        _ => "`[defaults]`".to_string(),
    }
}
