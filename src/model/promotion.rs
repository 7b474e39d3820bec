//! Promotion order: the environments as a release goes through them, from
//! the `promote_from` key of each environment file.
//!
//! Each environment comes after the one it is promoted from; those without
//! `promote_from` start a chain, in file-name order, and each chain is
//! followed to its end before the next starts (environments promoted from
//! the same one follow it in file-name order). A name that is no
//! environment, or a circle, is reported by `check`; here it only must not
//! lose an environment: such an environment starts a chain of its own.

/// The environments in promotion order, as indices into `from`, which gives
/// for each environment (in file-name order) the index of the environment
/// it is promoted from, if any.
pub fn promotion_order(from: &[Option<usize>]) -> Vec<usize> {
    let n = from.len();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, parent) in from.iter().enumerate() {
        if let Some(p) = parent.filter(|p| *p < n && *p != i) {
            children[p].push(i);
        }
    }
    let mut order = Vec::with_capacity(n);
    let mut placed = vec![false; n];
    // Roots first, then whatever a circle kept unreached, in file order.
    let roots = (0..n).filter(|i| from[*i].is_none_or(|p| p >= n || p == *i));
    for start in roots.chain(0..n).collect::<Vec<_>>() {
        let mut stack = vec![start];
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut placed[i], true) {
                continue;
            }
            order.push(i);
            stack.extend(children[i].iter().rev().filter(|c| !placed[**c]));
        }
    }
    order
}

/// The environments of `from` that lie on a circle of `promote_from`
/// references, each circle once, as the indices along it from its lowest.
pub fn promotion_circles(from: &[Option<usize>]) -> Vec<Vec<usize>> {
    let n = from.len();
    let mut circles = Vec::new();
    let mut seen = vec![false; n];
    for start in 0..n {
        let mut path = Vec::new();
        let mut at = Some(start);
        while let Some(i) = at.filter(|i| *i < n) {
            if let Some(pos) = path.iter().position(|p| *p == i) {
                let mut circle: Vec<usize> = path[pos..].to_vec();
                let low = (0..circle.len()).min_by_key(|k| circle[*k]).unwrap_or(0);
                circle.rotate_left(low);
                if !circle.iter().any(|c| seen[*c]) {
                    circles.push(circle);
                }
                break;
            }
            if seen[i] {
                break;
            }
            path.push(i);
            at = from[i];
        }
        for p in path {
            seen[p] = true;
        }
    }
    circles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_environment_follows_the_one_it_is_promoted_from() {
        // dev, prod (from test), prod-us (from prod), test (from dev)
        assert_eq!(
            promotion_order(&[None, Some(3), Some(1), Some(0)]),
            [0, 3, 1, 2]
        );
        // Without the key: file-name order.
        assert_eq!(promotion_order(&[None, None, None]), [0, 1, 2]);
        // Two promoted from one, and a second chain after the first ends.
        // a, b (from a), c (from a), d, e (from b)
        assert_eq!(
            promotion_order(&[None, Some(0), Some(0), None, Some(1)]),
            [0, 1, 4, 2, 3]
        );
    }

    #[test]
    fn a_circle_or_a_bad_reference_loses_no_environment() {
        assert_eq!(promotion_order(&[Some(1), Some(0), None]), [2, 0, 1]);
        assert_eq!(promotion_order(&[Some(0), Some(9)]), [0, 1]);
        assert_eq!(
            promotion_circles(&[Some(1), Some(2), Some(1), None, Some(4)]),
            vec![vec![1, 2], vec![4]]
        );
        assert!(promotion_circles(&[None, Some(0), Some(1)]).is_empty());
    }
}
