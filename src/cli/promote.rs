//! `promote`: chosen values of services copied from one environment's
//! merged view into another's overlays.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};

use manifold::edit::{self, Promotion, What};

use super::WhatArg;
use super::set::finish;

pub struct Options<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub what: &'a [WhatArg],
    pub all: bool,
    pub dry_run: bool,
}

pub fn promote(root: &Path, services: &[String], o: Options<'_>) -> Result<ExitCode> {
    if o.all != services.is_empty() {
        bail!("name the services to promote, or pass `--all` (not both)");
    }
    let what = What {
        version: o.what.contains(&WhatArg::Version),
        tracks: o.what.contains(&WhatArg::Tracks),
        config: o.what.contains(&WhatArg::Config),
    };
    let request = Promotion {
        services,
        all: o.all,
        from: o.from,
        to: o.to,
        what,
    };
    let outcome = edit::promote(root, &request)?;
    let idle = format!("nothing to promote: `{}` has `{}`'s values", o.to, o.from);
    finish(root, outcome, o.dry_run, &idle)
}
