//! The audit of a protected table set against the interval attack (docs/small-numbers.md): the
//! bounds the PCC can derive for each cell from the shown ones and the sums between them, and
//! the next cell to withhold for one that is pinned too closely. Cells are indices; a relation
//! is a total followed by its parts. Knows nothing of categories, areas or periods.

/// The fewest values a withheld cell may take, given everything the PCC can read.
pub const MIN_CANDIDATES: i64 = 3;

/// No upper bound is known.
pub const UNBOUNDED: i64 = i64::MAX;

/// The interval attack, as the PCC could run it: each cell's lowest and highest value given the
/// shown cells, that a withheld cell is at least 1 (a cell with no records is never withheld),
/// and every sum relation (`relations[i][0]` is the total of the rest), carried through every
/// relation until nothing narrows further.
pub fn bounds(relations: &[Vec<usize>], counts: &[i64], hidden: &[bool]) -> Vec<(i64, i64)> {
    let n = counts.len();
    let mut lo: Vec<i64> = (0..n)
        .map(|i| if hidden[i] { 1 } else { counts[i] })
        .collect();
    let mut hi: Vec<i64> = (0..n)
        .map(|i| if hidden[i] { UNBOUNDED } else { counts[i] })
        .collect();
    let mut of_cell: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (ri, r) in relations.iter().enumerate() {
        for &c in r {
            of_cell[c].push(ri);
        }
    }
    let mut queued: Vec<bool> = relations
        .iter()
        .map(|r| r.iter().any(|c| hidden[*c]))
        .collect();
    let mut queue: std::collections::VecDeque<usize> =
        (0..relations.len()).filter(|r| queued[*r]).collect();
    let mut changed: Vec<usize> = Vec::new();
    while let Some(ri) = queue.pop_front() {
        queued[ri] = false;
        let Some((&total, parts)) = relations[ri].split_first() else {
            continue;
        };
        changed.clear();
        // The parts' sums as they stand (bounds only narrow, so these stay sound below).
        let sum_lo: i64 = parts.iter().map(|p| lo[*p]).sum();
        let unbounded = parts.iter().filter(|p| hi[**p] == UNBOUNDED).count();
        let sum_hi: i64 = parts
            .iter()
            .map(|p| hi[*p])
            .filter(|h| *h != UNBOUNDED)
            .sum();
        if sum_lo > lo[total] {
            lo[total] = sum_lo;
            changed.push(total);
        }
        if unbounded == 0 && sum_hi < hi[total] {
            hi[total] = sum_hi;
            changed.push(total);
        }
        let (t_lo, t_hi) = (lo[total], hi[total]);
        for &p in parts {
            let (p_lo, p_hi) = (lo[p], hi[p]);
            if t_hi != UNBOUNDED {
                let h = t_hi - (sum_lo - p_lo);
                if h < p_hi {
                    hi[p] = h;
                    changed.push(p);
                }
            }
            let others_unbounded = unbounded - usize::from(p_hi == UNBOUNDED);
            if others_unbounded == 0 {
                let others_hi = sum_hi - if p_hi == UNBOUNDED { 0 } else { p_hi };
                let l = t_lo - others_hi;
                if l > lo[p] {
                    lo[p] = l;
                    changed.push(p);
                }
            }
        }
        for c in &changed {
            for &r in &of_cell[*c] {
                if !queued[r] {
                    queued[r] = true;
                    queue.push_back(r);
                }
            }
        }
    }
    lo.into_iter().zip(hi).collect()
}

/// The shown cell to withhold next for a withheld cell `x` that is pinned too closely: the
/// smallest shown cell (never a 0) of the relation that pins `x` most narrowly and has one, else
/// of the nearest relation through other withheld cells.
pub fn nearest_shown(
    x: usize,
    relations: &[Vec<usize>],
    of_cell: &[Vec<usize>],
    counts: &[i64],
    hidden: &[bool],
    b: &[(i64, i64)],
) -> Option<usize> {
    let width = |c: usize| {
        let (lo, hi) = b[c];
        if hi == UNBOUNDED { UNBOUNDED } else { hi - lo }
    };
    // x needs this many more values; a part at least as large gives them at once. Parts come
    // before the total: withholding a total spreads upward to larger figures.
    let deficit = (MIN_CANDIDATES - 1).saturating_sub(width(x));
    // Relations in which a cell, once withheld, would be the only withheld one: each needs
    // another cell withheld in turn, so fewer is better.
    let lonely = |c: usize| {
        of_cell[c]
            .iter()
            .filter(|ri| !relations[**ri].iter().any(|o| hidden[*o]))
            .count()
    };
    let smallest_shown = |r: &[usize]| {
        r.iter()
            .enumerate()
            .filter(|(_, c)| !hidden[**c] && counts[**c] > 0)
            .min_by_key(|(i, c)| {
                (
                    *i == 0,
                    lonely(**c),
                    counts[**c] < deficit,
                    counts[**c],
                    **c,
                )
            })
            .map(|(_, c)| *c)
    };
    // The relations of x, narrowest first: how wide x would be from that relation alone.
    let mut own: Vec<(i64, usize)> = of_cell[x]
        .iter()
        .map(|&ri| {
            let w = relations[ri]
                .iter()
                .filter(|c| **c != x)
                .map(|c| width(*c))
                .try_fold(0i64, |acc, w| acc.checked_add(w))
                .unwrap_or(UNBOUNDED);
            (w, ri)
        })
        .collect();
    own.sort_unstable();
    if let Some(c) = own
        .iter()
        .find_map(|(_, ri)| smallest_shown(&relations[*ri]))
    {
        return Some(c);
    }
    let mut seen = vec![false; counts.len()];
    let mut seen_relation = vec![false; relations.len()];
    seen[x] = true;
    let mut frontier = vec![x];
    while !frontier.is_empty() {
        let mut next = Vec::new();
        let mut best: Option<usize> = None;
        for c in frontier {
            for &ri in &of_cell[c] {
                if std::mem::replace(&mut seen_relation[ri], true) {
                    continue;
                }
                for &o in &relations[ri] {
                    if std::mem::replace(&mut seen[o], true) {
                        continue;
                    }
                    if hidden[o] {
                        next.push(o);
                    } else if counts[o] > 0 && best.is_none_or(|b| (counts[o], o) < (counts[b], b))
                    {
                        best = Some(o);
                    }
                }
            }
        }
        if best.is_some() {
            return best;
        }
        frontier = next;
    }
    None
}
