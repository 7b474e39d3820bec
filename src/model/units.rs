//! Units with a grammar: durations, quantities and image references, read
//! the same way by the checks and by rendering.

use super::Quantity;

/// Seconds in a duration that already matched the schema's pattern.
pub fn duration_seconds(d: &str) -> i64 {
    let mut total = 0i64;
    let mut n = 0i64;
    for c in d.chars() {
        match c {
            '0'..='9' => {
                n = n
                    .saturating_mul(10)
                    .saturating_add(i64::from(c as u8 - b'0'))
            }
            'h' => (total, n) = (total.saturating_add(n.saturating_mul(3600)), 0),
            'm' => (total, n) = (total.saturating_add(n.saturating_mul(60)), 0),
            's' => (total, n) = (total.saturating_add(n), 0),
            _ => {}
        }
    }
    total + n
}

/// Whether an image's first path segment is a registry host.
pub fn is_image_host(image: &str) -> bool {
    match image.split_once('/') {
        Some((first, _)) => first.contains('.') || first.contains(':') || first == "localhost",
        None => false,
    }
}

/// A quantity in base units (cores, bytes), or `None` if it is not one.
pub fn quantity_value(q: &Quantity) -> Option<f64> {
    match q {
        Quantity::Number(n) => Some(*n),
        Quantity::Text(s) => parse_quantity(s),
    }
}

pub fn parse_quantity(s: &str) -> Option<f64> {
    const SUFFIXES: [(&str, f64); 13] = [
        ("Ki", 1024.0),
        ("Mi", 1048576.0),
        ("Gi", 1073741824.0),
        ("Ti", 1099511627776.0),
        ("Pi", 1125899906842624.0),
        ("Ei", 1152921504606846976.0),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    let (number, factor) = SUFFIXES
        .iter()
        .find_map(|(suffix, f)| s.strip_suffix(suffix).map(|n| (n, *f)))
        .unwrap_or((s, 1.0));
    number.parse::<f64>().ok().map(|n| n * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_add_up_their_units() {
        assert_eq!(duration_seconds("10s"), 10);
        assert_eq!(duration_seconds("1h30m5s"), 5405);
        assert_eq!(duration_seconds("0"), 0);
    }

    #[test]
    fn quantities_parse_with_binary_and_decimal_suffixes() {
        assert_eq!(parse_quantity("100m"), Some(0.1));
        assert_eq!(parse_quantity("0.5"), Some(0.5));
        assert_eq!(parse_quantity("200Mi"), Some(200.0 * 1048576.0));
        assert_eq!(parse_quantity("1G"), Some(1e9));
        assert_eq!(parse_quantity("abc"), None);
    }

    #[test]
    fn image_hosts_are_recognised() {
        assert!(is_image_host("docker.io/library/mysql"));
        assert!(is_image_host("localhost/app"));
        assert!(is_image_host("registry:5000/app"));
        assert!(!is_image_host("game/http"));
        assert!(!is_image_host("mysql"));
    }
}
