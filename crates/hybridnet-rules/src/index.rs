//! Overlap searches over sets of CIDR blocks, with no pairwise scan.
//!
//! Two CIDR blocks overlap exactly when one contains the other, so the blocks form a
//! forest under containment. Sorted by (first address, prefix length) the blocks come in
//! pre-order of that forest. [`first_overlapping`] answers, for every block of a list at
//! once, which block listed first overlaps it, in one sweep of that order.
//! [`OverlapIndex`] answers the same kind of question for blocks outside the set, one
//! query at a time in O(log n), from two facts:
//!
//! - the blocks contained in a query block `q` (including `q` itself) are one contiguous
//!   run of the sorted order, found by two binary searches; a segment tree gives the
//!   minimum weight of the run;
//! - the blocks strictly containing `q` are the ancestors of the last block sorted before
//!   `q` that contains it, reached through parent links in at most 32 steps (each step
//!   shortens the prefix); each block stores the minimum weight along its ancestor chain.
//!
//! Weights are positions in some list (list order), so "minimum weight" means "earliest
//! listed".

use super::Ipv4Net;

/// One distinct block of the index.
#[derive(Debug)]
struct Node {
    /// First address.
    first: u32,
    /// Last address.
    last: u32,
    /// Prefix length.
    prefix: u8,
    /// The nearest block strictly containing this one (index into `nodes`).
    parent: Option<usize>,
    /// The minimum weight over this block and every block containing it.
    chain_min: usize,
}

/// A set of weighted CIDR blocks; duplicates keep their smallest weight.
#[derive(Debug)]
pub(super) struct OverlapIndex {
    /// Distinct blocks sorted by (first address, prefix length).
    nodes: Vec<Node>,
    /// Iterative segment tree over the nodes' own weights: leaves at `len..2 * len`.
    tree: Vec<usize>,
}

impl OverlapIndex {
    /// Builds the index in O(n log n). Host bits of the blocks are ignored.
    pub(super) fn new(items: impl IntoIterator<Item = (Ipv4Net, usize)>) -> Self {
        let mut blocks: Vec<(u32, u8, usize, u32)> = items
            .into_iter()
            .map(|(net, weight)| (super::first(&net), net.prefix_len(), weight, super::last(&net)))
            .collect();
        blocks.sort_unstable_by_key(|&(first, prefix, weight, _)| (first, prefix, weight));
        // Of identical blocks keep the first, which has the smallest weight.
        blocks.dedup_by_key(|&mut (first, prefix, _, _)| (first, prefix));

        let mut nodes: Vec<Node> = Vec::with_capacity(blocks.len());
        let mut weights: Vec<usize> = Vec::with_capacity(blocks.len());
        // The chain of blocks containing the current position (at most 33 deep).
        let mut stack: Vec<usize> = Vec::with_capacity(33);
        for (first, prefix, weight, last) in blocks {
            // A block sorted before this one contains it iff it reaches its first
            // address (it starts no later; blocks cannot partially overlap).
            while let Some(&top) = stack.last() {
                match nodes.get(top) {
                    Some(t) if t.last >= first => break,
                    _ => {
                        stack.pop();
                    }
                }
            }
            let parent = stack.last().copied();
            let chain_min = parent.and_then(|p| nodes.get(p)).map_or(weight, |p| p.chain_min.min(weight));
            stack.push(nodes.len());
            nodes.push(Node { first, last, prefix, parent, chain_min });
            weights.push(weight);
        }

        let len = weights.len();
        let mut tree = vec![usize::MAX; len];
        tree.extend(weights);
        for i in (1..len).rev() {
            let min = at(&tree, 2 * i).min(at(&tree, 2 * i + 1));
            if let Some(slot) = tree.get_mut(i) {
                *slot = min;
            }
        }
        OverlapIndex { nodes, tree }
    }

    /// The smallest weight among blocks equal to or containing `q`.
    pub(super) fn min_containing(&self, q: &Ipv4Net) -> Option<usize> {
        let (first, last, prefix) = (super::first(q), super::last(q), q.prefix_len());
        let lo = self.lower_bound(first, prefix);
        match self.nodes.get(lo) {
            Some(n) if n.first == first && n.prefix == prefix => Some(n.chain_min),
            _ => self.ancestors_min(lo, first, last),
        }
    }

    /// The smallest weight among blocks overlapping `q` (containing it, equal to it, or
    /// contained in it).
    pub(super) fn min_overlapping(&self, q: &Ipv4Net) -> Option<usize> {
        let (first, last, prefix) = (super::first(q), super::last(q), q.prefix_len());
        let lo = self.lower_bound(first, prefix);
        let hi = self.nodes.partition_point(|n| n.first <= last);
        let inside = self.range_min(lo, hi);
        let outside = self.ancestors_min(lo, first, last);
        match (inside, outside) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Position of the first node sorted at or after (first, prefix).
    fn lower_bound(&self, first: u32, prefix: u8) -> usize {
        self.nodes.partition_point(|n| (n.first, n.prefix) < (first, prefix))
    }

    /// The smallest weight among blocks strictly containing [first, last], where `lo` is
    /// the position the block would be sorted at. Every such block is an ancestor (or
    /// is) the node just before `lo`, so walk up from there to the first that contains
    /// the range: its chain minimum covers all of them.
    fn ancestors_min(&self, lo: usize, first: u32, last: u32) -> Option<usize> {
        let mut cur = lo.checked_sub(1);
        while let Some(i) = cur {
            let n = self.nodes.get(i)?;
            if n.first <= first && last <= n.last {
                return Some(n.chain_min);
            }
            cur = n.parent;
        }
        None
    }

    /// The smallest weight among nodes `lo..hi`.
    fn range_min(&self, lo: usize, hi: usize) -> Option<usize> {
        let len = self.nodes.len();
        if lo >= hi || hi > len {
            return None;
        }
        let (mut l, mut r) = (lo + len, hi + len);
        let mut min = usize::MAX;
        while l < r {
            if l & 1 == 1 {
                min = min.min(at(&self.tree, l));
                l += 1;
            }
            if r & 1 == 1 {
                r -= 1;
                min = min.min(at(&self.tree, r));
            }
            l /= 2;
            r /= 2;
        }
        (min != usize::MAX).then_some(min)
    }
}

/// For each block of `blocks`, the position of the first block in `blocks` overlapping
/// it: the block itself when none before it does. O(n log n): one sort, then one sweep
/// in pre-order of the containment forest with a stack of enclosing blocks (at most 33
/// deep), where each block learns the minimum position above it (its ancestors, from the
/// stack) and below it (its descendants, gathered as they are closed).
pub(super) fn first_overlapping(blocks: &[Ipv4Net]) -> Vec<usize> {
    /// A distinct block on the stack.
    struct Frame {
        /// Last address.
        last: u32,
        /// Its copies: a run of `order`.
        members: std::ops::Range<usize>,
        /// The smallest position of its copies.
        own: usize,
        /// The smallest position among the blocks strictly containing it.
        above: usize,
        /// The smallest position in its subtree (itself and the blocks it contains) so far.
        below: usize,
    }

    /// Settles a frame whose subtree is complete.
    fn close(frame: Frame, order: &[(u32, u8, usize)], stack: &mut [Frame], out: &mut [usize]) {
        let first = frame.above.min(frame.below);
        for &(_, _, pos) in order.get(frame.members).unwrap_or_default() {
            if let Some(slot) = out.get_mut(pos) {
                *slot = first;
            }
        }
        if let Some(parent) = stack.last_mut() {
            parent.below = parent.below.min(frame.below);
        }
    }

    let mut order: Vec<(u32, u8, usize)> =
        blocks.iter().enumerate().map(|(pos, n)| (super::first(n), n.prefix_len(), pos)).collect();
    order.sort_unstable();
    let mut out: Vec<usize> = (0..blocks.len()).collect();
    let mut stack: Vec<Frame> = Vec::with_capacity(33);
    let mut start = 0;
    while let Some(&(first, prefix, own)) = order.get(start) {
        let copies = order.get(start..).unwrap_or_default().iter().take_while(|&&(f, p, _)| (f, p) == (first, prefix));
        let end = start + copies.count();
        let last = first | u32::MAX.checked_shr(u32::from(prefix)).unwrap_or(0);
        // Close the blocks that end before this one starts: they do not contain it.
        while let Some(frame) = stack.pop_if(|top| top.last < first) {
            close(frame, &order, &mut stack, &mut out);
        }
        let above = stack.last().map_or(usize::MAX, |top| top.above.min(top.own));
        stack.push(Frame { last, members: start..end, own, above, below: own });
        start = end;
    }
    while let Some(frame) = stack.pop() {
        close(frame, &order, &mut stack, &mut out);
    }
    out
}

/// `tree[i]`, or the neutral element when out of range (never, by construction).
fn at(tree: &[usize], i: usize) -> usize {
    tree.get(i).copied().unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::super::tests::net;
    use super::*;

    fn index(items: &[(&str, usize)]) -> OverlapIndex {
        OverlapIndex::new(items.iter().map(|&(s, w)| (net(s), w)))
    }

    #[test]
    fn empty_index_finds_nothing() {
        let idx = index(&[]);
        assert_eq!(idx.min_overlapping(&net("0.0.0.0/0")), None);
        assert_eq!(idx.min_containing(&net("10.0.0.0/8")), None);
    }

    #[test]
    fn overlapping_combines_ancestors_and_descendants() {
        let idx = index(&[
            ("10.0.0.0/8", 5),
            ("10.1.0.0/16", 3),
            ("10.1.2.0/24", 1),
            ("10.1.3.0/24", 0),
            ("10.2.0.0/16", 2),
            ("192.168.0.0/16", 4),
        ]);
        assert_eq!(idx.min_overlapping(&net("10.1.2.128/25")), Some(1));
        assert_eq!(idx.min_overlapping(&net("10.1.0.0/16")), Some(0));
        assert_eq!(idx.min_overlapping(&net("10.1.4.0/24")), Some(3));
        assert_eq!(idx.min_overlapping(&net("10.3.0.0/16")), Some(5));
        assert_eq!(idx.min_overlapping(&net("11.0.0.0/8")), None);
        assert_eq!(idx.min_overlapping(&net("0.0.0.0/0")), Some(0));
        assert_eq!(idx.min_overlapping(&net("192.168.1.1/32")), Some(4));
        assert_eq!(idx.min_containing(&net("10.1.2.0/24")), Some(1));
        assert_eq!(idx.min_containing(&net("10.1.2.7/32")), Some(1));
        assert_eq!(idx.min_containing(&net("10.1.0.0/16")), Some(3));
        assert_eq!(idx.min_containing(&net("10.0.0.0/7")), None);
    }

    #[test]
    fn duplicates_keep_smallest_weight() {
        let idx = index(&[("10.0.0.0/16", 7), ("10.0.0.0/16", 2), ("10.0.0.0/16", 9)]);
        assert_eq!(idx.min_overlapping(&net("10.0.0.0/16")), Some(2));
        assert_eq!(idx.min_containing(&net("10.0.5.0/24")), Some(2));
    }

    #[test]
    fn first_overlapping_positions() {
        let blocks: Vec<Ipv4Net> =
            ["10.1.2.0/24", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "192.168.0.0/16", "10.2.0.0/16", "10.1.3.0/24"]
                .iter()
                .map(|s| net(s))
                .collect();
        assert_eq!(first_overlapping(&blocks), [0, 0, 0, 0, 4, 1, 1]);
        assert_eq!(first_overlapping(&[]), Vec::<usize>::new());
        assert_eq!(first_overlapping(&[net("0.0.0.0/0"), net("255.255.255.255/32")]), [0, 0]);
        assert_eq!(first_overlapping(&[net("255.255.255.255/32"), net("0.0.0.0/0")]), [0, 0]);
        assert_eq!(first_overlapping(&[net("10.0.0.0/24"), net("10.0.1.0/24")]), [0, 1]);
    }

    #[test]
    fn host_bits_are_ignored() {
        let idx = OverlapIndex::new([("10.0.0.5/16".parse().unwrap(), 0)]);
        assert_eq!(idx.min_containing(&net("10.0.1.0/24")), Some(0));
    }
}
