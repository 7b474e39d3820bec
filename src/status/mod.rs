//! `manifold status`: which version runs where. The matrix of services by
//! environments, read from the merged model (no checks, no rendering): each
//! cell holds a service's version, replicas or autoscale range, tracks and
//! the track its Services serve, or that it is disabled there; and what
//! differs from the environment it is compared with, the nearest one it is
//! promoted from among those shown.
//!
//! This file builds the matrix; `text`, `markdown`, `json` and `html`
//! render it. Pure: no I/O, nothing printed.

use crate::compile::Merged;
use crate::model::{STABLE, Service, WorkloadKind};

mod html;
mod json;
mod markdown;
mod text;

pub use html::render_html;
pub use json::render_json;
pub use markdown::render_markdown;
pub use text::render_text;

/// One environment of the matrix, a column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// Its `promote_from`.
    pub promote_from: Option<String>,
    /// The environment its cells are compared with: the nearest one it is
    /// promoted from (directly or through others) among those shown.
    pub compared_with: Option<String>,
}

/// What a cell shows, and what may differ between two cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Aspect {
    Enabled,
    Version,
    Replicas,
    Tracks,
    Serve,
}

impl Aspect {
    pub const ALL: [Aspect; 5] = [
        Aspect::Enabled,
        Aspect::Version,
        Aspect::Replicas,
        Aspect::Tracks,
        Aspect::Serve,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Aspect::Enabled => "enabled",
            Aspect::Version => "version",
            Aspect::Replicas => "replicas",
            Aspect::Tracks => "tracks",
            Aspect::Serve => "serve",
        }
    }
}

/// How many pods: a fixed count, or what the autoscaler may choose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replicas {
    Fixed(i32),
    Autoscale { min: i32, max: i32 },
}

/// A track beside the main one (`stable`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackCell {
    pub name: String,
    /// The track's version, or the service's.
    pub version: Option<String>,
    /// The track's replicas, or the service's (1 when neither says).
    pub replicas: i32,
    pub weight: Option<i32>,
    pub header: Option<String>,
    pub header_value: Option<String>,
    pub cookie: Option<String>,
}

/// A service in an environment; every value `None` (and no tracks) where
/// the service is disabled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    pub enabled: bool,
    pub kind: Option<WorkloadKind>,
    pub version: Option<String>,
    /// `None` for kinds without replicas (daemonset, cronjob, job).
    pub replicas: Option<Replicas>,
    pub tracks: Vec<TrackCell>,
    /// The track the Services send traffic to.
    pub serve: Option<String>,
    /// What differs from the cell of the compared environment.
    pub differs: Vec<Aspect>,
}

impl Cell {
    fn disabled() -> Cell {
        Cell {
            enabled: false,
            kind: None,
            version: None,
            replicas: None,
            tracks: Vec::new(),
            serve: None,
            differs: Vec::new(),
        }
    }

    fn of(svc: &Service) -> Cell {
        let replicas = svc.kind.has_replicas().then(|| match &svc.autoscale {
            Some(a) => Replicas::Autoscale {
                min: a.min.unwrap_or(1),
                max: a.max,
            },
            None => Replicas::Fixed(svc.replicas.unwrap_or(1)),
        });
        let tracks = svc
            .tracks
            .iter()
            .map(|t| TrackCell {
                name: t.name.clone(),
                version: t.version.clone().or_else(|| svc.version.clone()),
                replicas: t.replicas.or(svc.replicas).unwrap_or(1),
                weight: t.weight,
                header: t.header.clone(),
                header_value: t.header_value.clone(),
                cookie: t.cookie.clone(),
            })
            .collect();
        Cell {
            enabled: true,
            kind: Some(svc.kind),
            version: svc.version.clone(),
            replicas,
            tracks,
            serve: Some(svc.serve.clone().unwrap_or_else(|| STABLE.to_string())),
            differs: Vec::new(),
        }
    }

    fn differs_from(&self, other: &Cell) -> Vec<Aspect> {
        Aspect::ALL
            .into_iter()
            .filter(|a| match a {
                Aspect::Enabled => self.enabled != other.enabled,
                Aspect::Version => self.version != other.version,
                Aspect::Replicas => self.replicas != other.replicas,
                Aspect::Tracks => self.tracks != other.tracks,
                Aspect::Serve => self.serve != other.serve,
            })
            .collect()
    }
}

/// One service, a row: its cells in the order of the columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub name: String,
    /// The service file (`services/web.toml`).
    pub file: String,
    pub cells: Vec<Cell>,
}

impl Row {
    /// Whether any cell has tracks: the views leave the row out otherwise.
    pub fn has_tracks(&self) -> bool {
        self.cells.iter().any(|c| !c.tracks.is_empty())
    }

    /// Whether any cell serves another track than `stable`.
    pub fn serves_a_track(&self) -> bool {
        self.cells
            .iter()
            .any(|c| c.serve.as_deref().is_some_and(|s| s != STABLE))
    }
}

/// The matrix: environments in promotion order by services in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matrix {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

impl Matrix {
    /// The matrix of a merged model without errors.
    pub fn new(merged: &Merged) -> Matrix {
        let shown: Vec<&str> = merged
            .environments
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        let columns: Vec<Column> = shown
            .iter()
            .map(|name| Column {
                name: name.to_string(),
                promote_from: parent(merged, name).map(str::to_string),
                compared_with: compared_with(merged, name, &shown).map(str::to_string),
            })
            .collect();
        let services = merged.environments.first().map_or(0, |e| e.services.len());
        let mut rows: Vec<Row> = (0..services)
            .map(|s| {
                let named = merged
                    .environments
                    .iter()
                    .map(|e| &e.services[s])
                    .find(|m| m.service.is_some())
                    .unwrap_or(&merged.environments[0].services[s]);
                Row {
                    name: named.name.clone(),
                    file: named.file.clone(),
                    cells: merged
                        .environments
                        .iter()
                        .map(|e| {
                            e.services[s]
                                .service
                                .as_ref()
                                .map_or_else(Cell::disabled, Cell::of)
                        })
                        .collect(),
                }
            })
            .collect();
        for row in &mut rows {
            for (i, column) in columns.iter().enumerate() {
                let Some(base) = column.compared_with.as_ref() else {
                    continue;
                };
                let Some(b) = columns.iter().position(|c| c.name == *base) else {
                    continue;
                };
                row.cells[i].differs = row.cells[i].differs_from(&row.cells[b]);
            }
        }
        Matrix { columns, rows }
    }
}

fn parent<'a>(merged: &'a Merged, name: &str) -> Option<&'a str> {
    merged
        .promotion
        .iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, from)| from.as_deref())
}

/// The nearest environment `name` is promoted from that is shown; the
/// promotion check keeps the chain free of circles, and the walk is
/// bounded anyway.
fn compared_with<'a>(merged: &'a Merged, name: &str, shown: &[&str]) -> Option<&'a str> {
    let mut at = parent(merged, name);
    for _ in 0..merged.promotion.len() {
        let here = at?;
        if shown.contains(&here) {
            return Some(here);
        }
        at = parent(merged, here);
    }
    None
}

/// The version as the views show it: a digest cut to the twelve hex digits
/// `docker images` shows (the JSON keeps it whole).
pub fn short_version(version: &str) -> String {
    match version.split_once("sha256:") {
        Some((before, hex)) if hex.len() > 12 => format!("{before}sha256:{}", &hex[..12]),
        _ => version.to_string(),
    }
}

/// What a cell shows for one aspect, as plain text; empty where a disabled
/// service has nothing to show, `-` where the kind has no replicas.
pub fn cell_text(cell: &Cell, aspect: Aspect) -> String {
    if !cell.enabled {
        return match aspect {
            Aspect::Version => "disabled".to_string(),
            _ => String::new(),
        };
    }
    match aspect {
        Aspect::Enabled => "enabled".to_string(),
        Aspect::Version => cell
            .version
            .as_deref()
            .map_or_else(|| "-".to_string(), short_version),
        Aspect::Replicas => match cell.replicas {
            Some(Replicas::Fixed(n)) => n.to_string(),
            Some(Replicas::Autoscale { min, max }) => format!("{min}-{max}"),
            None => "-".to_string(),
        },
        Aspect::Tracks if cell.tracks.is_empty() => "-".to_string(),
        Aspect::Tracks => cell
            .tracks
            .iter()
            .map(track_text)
            .collect::<Vec<_>>()
            .join(", "),
        Aspect::Serve => cell.serve.clone().unwrap_or_default(),
    }
}

/// `canary 1.0.3 10%`, `beta 2.0 header Version`, `blue 1.0 cookie canary`.
fn track_text(t: &TrackCell) -> String {
    let mut s = t.name.clone();
    if let Some(v) = &t.version {
        s.push(' ');
        s.push_str(&short_version(v));
    }
    if let Some(w) = t.weight {
        s.push_str(&format!(" {w}%"));
    }
    if let Some(h) = &t.header {
        s.push_str(&format!(" header {h}"));
        if let Some(v) = &t.header_value {
            s.push_str(&format!("={v}"));
        }
    }
    if let Some(c) = &t.cookie {
        s.push_str(&format!(" cookie {c}"));
    }
    s
}

/// The aspects a row shows, one line each: version and replicas always,
/// tracks and serve where some environment has them.
pub fn shown_aspects(row: &Row) -> Vec<Aspect> {
    let mut aspects = vec![Aspect::Version, Aspect::Replicas];
    if row.has_tracks() {
        aspects.push(Aspect::Tracks);
    }
    if row.serves_a_track() {
        aspects.push(Aspect::Serve);
    }
    aspects
}

/// Whether the cell's line for `aspect` is highlighted: the aspect differs,
/// or (on the version line) whether the service is enabled does. A
/// disabled cell shows only its version line, so only that one.
pub fn highlighted(cell: &Cell, aspect: Aspect) -> bool {
    if !cell.enabled && aspect != Aspect::Version {
        return false;
    }
    cell.differs.contains(&aspect)
        || (aspect == Aspect::Version && cell.differs.contains(&Aspect::Enabled))
}

/// `test from dev, prod from test`: which environment each is compared with.
pub fn comparisons(columns: &[Column]) -> String {
    columns
        .iter()
        .filter_map(|c| {
            c.compared_with
                .as_ref()
                .map(|base| format!("{} from {base}", c.name))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::compile::{MergedEnv, MergedService};

    fn service(toml_text: &str) -> Service {
        let value: serde_json::Value = toml::from_str(toml_text).unwrap();
        serde_json::from_value(value).unwrap()
    }

    fn env(name: &str, services: Vec<Option<Service>>) -> MergedEnv {
        MergedEnv {
            name: name.into(),
            services: services
                .into_iter()
                .zip(["web", "worker"])
                .map(|(service, name)| MergedService {
                    name: name.into(),
                    file: format!("services/{name}.toml"),
                    service,
                })
                .collect(),
        }
    }

    /// dev, test (from dev), prod (from test): web's version moves along,
    /// prod autoscales and runs a canary; the worker is off in prod.
    pub(crate) fn sample() -> Matrix {
        let web = |extra: &str| service(&format!("image = \"web\"\n{extra}"));
        let merged = Merged {
            diagnostics: Vec::new(),
            promotion: vec![
                ("dev".into(), None),
                ("test".into(), Some("dev".into())),
                ("prod".into(), Some("test".into())),
            ],
            environments: vec![
                env(
                    "dev",
                    vec![Some(web("version = \"1.3\"")), Some(web("version = \"7\""))],
                ),
                env(
                    "test",
                    vec![
                        Some(web("version = \"1.2\"\nreplicas = 2")),
                        Some(web("version = \"7\"")),
                    ],
                ),
                env(
                    "prod",
                    vec![
                        Some(web(
                            "version = \"1.2\"\nserve = \"blue\"\nautoscale = { min = 3, max = 12 }\n[[tracks]]\nname = \"canary\"\nversion = \"1.3\"\nweight = 10\n[[tracks]]\nname = \"blue\"\nheader = \"X-Track\"",
                        )),
                        None,
                    ],
                ),
            ],
        };
        Matrix::new(&merged)
    }

    #[test]
    fn cells_differ_from_the_environment_they_are_promoted_from() {
        let m = sample();
        let names: Vec<(&str, Option<&str>)> = m
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.compared_with.as_deref()))
            .collect();
        assert_eq!(
            names,
            [("dev", None), ("test", Some("dev")), ("prod", Some("test"))]
        );
        let differs: Vec<Vec<Vec<Aspect>>> = m
            .rows
            .iter()
            .map(|r| r.cells.iter().map(|c| c.differs.clone()).collect())
            .collect();
        use Aspect::*;
        assert_eq!(
            differs,
            vec![
                vec![
                    vec![],
                    vec![Version, Replicas],
                    vec![Replicas, Tracks, Serve]
                ],
                vec![vec![], vec![], vec![Enabled, Version, Replicas, Serve]],
            ]
        );
        let web = &m.rows[0];
        assert_eq!(cell_text(&web.cells[2], Replicas), "3-12");
        assert_eq!(
            cell_text(&web.cells[2], Tracks),
            "canary 1.3 10%, blue 1.2 header X-Track"
        );
        assert_eq!(cell_text(&m.rows[1].cells[2], Version), "disabled");
        assert_eq!(shown_aspects(web), [Version, Replicas, Tracks, Serve]);
        assert_eq!(shown_aspects(&m.rows[1]), [Version, Replicas]);
    }

    #[test]
    fn a_hidden_environment_between_two_shown_ones_is_skipped() {
        let mut merged = Merged {
            diagnostics: Vec::new(),
            promotion: vec![
                ("dev".into(), None),
                ("test".into(), Some("dev".into())),
                ("prod".into(), Some("test".into())),
            ],
            environments: vec![env("dev", vec![]), env("prod", vec![])],
        };
        let m = Matrix::new(&merged);
        assert_eq!(m.columns[1].compared_with.as_deref(), Some("dev"));
        assert_eq!(m.columns[1].promote_from.as_deref(), Some("test"));
        merged.environments.remove(0);
        assert_eq!(Matrix::new(&merged).columns[0].compared_with, None);
    }

    #[test]
    fn digests_are_shortened_for_people() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(short_version(&digest), "sha256:abababababab");
        assert_eq!(
            short_version(&format!("1.2@{digest}")),
            "1.2@sha256:abababababab"
        );
        assert_eq!(short_version("1.2"), "1.2");
    }
}
