//! The order a plan is decided in, and the cycle that stops one.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The nodes `0..n` in topological order of `edges` (`from` before `to`),
/// ties broken by the lower index (document order), so one plan always
/// orders the same way. `Err` holds a cycle: node indices, each with an
/// edge to the next and the last with an edge to the first.
pub(crate) fn topological(n: usize, edges: &[(usize, usize)]) -> Result<Vec<usize>, Vec<usize>> {
    let mut children = vec![Vec::new(); n];
    let mut indegree = vec![0usize; n];
    for &(from, to) in edges {
        children[from].push(to);
        indegree[to] += 1;
    }
    let mut ready: BinaryHeap<Reverse<usize>> =
        (0..n).filter(|&i| indegree[i] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse(node)) = ready.pop() {
        order.push(node);
        for &child in &children[node] {
            indegree[child] -= 1;
            if indegree[child] == 0 {
                ready.push(Reverse(child));
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    Err(cycle_among(&children, &indegree))
}

/// A cycle through the nodes Kahn's algorithm left (those with edges still
/// coming in): walking back along incoming edges from any of them must
/// come round, since every one has a predecessor that is also left.
fn cycle_among(children: &[Vec<usize>], indegree: &[usize]) -> Vec<usize> {
    let n = children.len();
    // One remaining predecessor per remaining node.
    let mut parent = vec![usize::MAX; n];
    for (from, outs) in children.iter().enumerate() {
        if indegree[from] == 0 {
            continue;
        }
        for &to in outs {
            if indegree[to] > 0 && parent[to] == usize::MAX {
                parent[to] = from;
            }
        }
    }
    let Some(start) = (0..n).find(|&i| indegree[i] > 0) else {
        return Vec::new();
    };
    // Walk back n steps: we are then surely on the cycle.
    let mut at = start;
    for _ in 0..n {
        at = parent[at];
    }
    let mut cycle = vec![at];
    let mut next = parent[at];
    while next != at {
        cycle.push(next);
        next = parent[next];
    }
    cycle.reverse();
    cycle
}

/// The ancestors of `node` (every node with a path of edges to it), a bit
/// per node index in `bits`, which is cleared first.
pub(crate) fn ancestors(parents: &[Vec<usize>], node: usize, bits: &mut Vec<u64>) {
    bits.clear();
    bits.resize(parents.len().div_ceil(64), 0);
    let mut stack: Vec<usize> = parents.get(node).cloned().unwrap_or_default();
    while let Some(p) = stack.pop() {
        let (word, bit) = (p / 64, 1u64 << (p % 64));
        if bits[word] & bit != 0 {
            continue;
        }
        bits[word] |= bit;
        stack.extend_from_slice(&parents[p]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_go_to_document_order() {
        assert_eq!(topological(4, &[(3, 1), (2, 0)]), Ok(vec![2, 0, 3, 1]));
        assert_eq!(topological(3, &[]), Ok(vec![0, 1, 2]));
    }

    #[test]
    fn a_cycle_is_named_in_edge_order() {
        let cycle = topological(4, &[(0, 1), (1, 2), (2, 3), (3, 1)]).unwrap_err();
        assert_eq!(cycle.len(), 3);
        for (i, &node) in cycle.iter().enumerate() {
            let next = cycle[(i + 1) % cycle.len()];
            assert!(
                [(1, 2), (2, 3), (3, 1)].contains(&(node, next)),
                "{cycle:?}"
            );
        }
        assert_eq!(topological(1, &[(0, 0)]), Err(vec![0]));
    }

    #[test]
    fn ancestors_follow_edges_back_and_leave_other_branches_out() {
        // 0 -> 1 -> 3, 2 -> 3, 4 alone; 5 after 3.
        let parents = vec![vec![], vec![0], vec![], vec![1, 2], vec![], vec![3]];
        let mut bits = Vec::new();
        super::ancestors(&parents, 5, &mut bits);
        let of = |bits: &[u64]| {
            (0..6)
                .filter(|&i| bits[0] & (1 << i) != 0)
                .collect::<Vec<_>>()
        };
        assert_eq!(of(&bits), [0, 1, 2, 3]);
        super::ancestors(&parents, 1, &mut bits);
        assert_eq!(of(&bits), [0]);
        super::ancestors(&parents, 4, &mut bits);
        assert_eq!(of(&bits), Vec::<usize>::new());
    }
}
