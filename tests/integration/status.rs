//! `manifold status --format html` in a real browser: headless Chromium
//! loads the page, and the table it built has the cells it should. The
//! text, Markdown and JSON forms are data cases (`tests/cases/status-*`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// The DOM of `page` after Chromium (`chromium --headless --dump-dom`)
/// loaded and rendered it.
fn dump_dom(page: &Path, profile: &Path) -> String {
    require("chromium");
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    // A browser that hangs must not hang the test suite.
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "chromium failed");
    String::from_utf8(output.stdout).unwrap()
}

/// Every `<td>` of the DOM by (service, environment, aspect): its classes
/// and its text.
fn cells(dom: &str) -> BTreeMap<(String, String, String), (String, String)> {
    let td = regex::Regex::new(r"<td ([^>]*)>([^<]*)</td>").unwrap();
    let attr = regex::Regex::new(r#"([-a-z]+)="([^"]*)""#).unwrap();
    td.captures_iter(dom)
        .map(|c| {
            let attrs: BTreeMap<&str, &str> = attr
                .captures_iter(c.get(1).unwrap().as_str())
                .map(|a| (a.get(1).unwrap().as_str(), a.get(2).unwrap().as_str()))
                .collect();
            let get = |k: &str| attrs.get(k).copied().unwrap_or_default().to_string();
            (
                (get("data-service"), get("data-env"), get("data-aspect")),
                (get("class"), c.get(2).unwrap().as_str().to_string()),
            )
        })
        .collect()
}

/// The page is one file a CI job keeps as an artifact: a browser renders
/// it as the table of the matrix, cells that differ from the previous
/// environment highlighted.
#[test]
fn the_html_status_renders_in_a_browser_with_the_right_cells() {
    let repo = fixture("promotion");
    let run = manifold(repo.path(), &["status", "--format", "html"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let page = repo.path().join("status.html");
    std::fs::write(&page, &run.stdout).unwrap();
    let dom = dump_dom(&page, &repo.path().join("profile"));
    assert!(dom.contains("<title>manifold status</title>"), "{dom}");
    let header = regex::Regex::new(r#"<th scope="col" data-env="([^"]+)">"#).unwrap();
    let columns: Vec<&str> = header
        .captures_iter(&dom)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    assert_eq!(columns, ["dev", "staging", "prod"], "promotion order");
    let cells = cells(&dom);
    let cell = |service: &str, env: &str, aspect: &str| {
        cells
            .get(&(service.into(), env.into(), aspect.into()))
            .map(|(class, text)| (class.as_str(), text.as_str()))
            .unwrap_or_else(|| panic!("no cell {service}/{env}/{aspect} in {dom}"))
    };
    assert_eq!(cell("web", "dev", "version"), ("", "1.5.0-rc.1"));
    assert_eq!(cell("web", "staging", "version"), ("differs", "1.4.2"));
    assert_eq!(cell("web", "prod", "version"), ("", "1.4.2"));
    assert_eq!(cell("web", "prod", "replicas"), ("differs", "3-10"));
    assert_eq!(
        cell("web", "prod", "tracks"),
        ("differs", "blue 1.4.1, canary 1.4.2 header X-Canary")
    );
    assert_eq!(cell("web", "prod", "serve"), ("differs", "blue"));
    assert_eq!(
        cell("worker", "prod", "version"),
        ("disabled differs", "disabled")
    );
    assert_eq!(cell("worker", "prod", "replicas"), ("disabled", ""));
    assert_eq!(cell("nightly", "staging", "replicas"), ("", "-"));
    // Three services: 2 + 4 + 2 lines of 3 environments.
    assert_eq!(cells.len(), 24, "{dom}");
}
