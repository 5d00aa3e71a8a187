//! Input splitting for low-dimensional inputs (ACAS Xu has 5): over a large box most ReLUs are
//! unstable and one MILP does not finish, but over small boxes bounds alone decide most of them.
//!
//! Each box is bounded by the cheap pass [`crate::bounds::forward_then_rows`] (forward affine
//! functions of the input, unstable ReLU inputs and the property's rows back-substituted): per
//! box it costs a fraction of the full back-substitution, which on ACAS Xu was 11 of the ~15 ms a
//! box took. If every disjunct is ruled out the box is safe; its centre is replayed and a short
//! climb searches it; if few ReLUs are left unstable (or the box is small) the
//! MILP decides it, else it is halved on the input whose halves' bounds (cheapest pass, both
//! halves of every input probed) come closest to ruling the open disjuncts out; when no halving
//! improves on the box, on the input with the largest influence: box width times the gradient
//! of the open rows at the centre (the "smear"), the widest input on ties. The
//! boxes of one generation are processed in parallel (rayon) and their results read in order,
//! so the verdict and the counterexample do not depend on the thread count unless a time limit
//! cuts the run.

use super::decide::{remaining, BoxProblem, Outcome};
use super::falsify::Candidate;
use super::spec::SpecNet;
use crate::front::vnnlib::Case;
use rayon::prelude::*;
use std::time::Instant;

/// Inputs up to which splitting is used (beyond, a box has too many faces to split).
pub const MAX_SPLIT_INPUTS: usize = 16;

/// Boxes with more unstable ReLUs than this skip the certified LP (on ACAS Xu's large boxes,
/// with ~260 of 300 unstable, one LP per disjunct cost 0.4 s per box and decided none).
const LP_MAX_UNSTABLE: usize = 60;

#[derive(Clone, Debug)]
pub struct Settings {
    /// A box with at most this many unstable ReLUs goes to the MILP.
    pub milp_unstable: usize,
    /// Seconds one box's MILP may take (then the box is split further).
    pub milp_seconds: f64,
    /// Largest number of boxes (all generations); beyond, the case is left open.
    pub max_boxes: usize,
    /// Deepest halving of one box (then its MILP decides it, whatever it costs).
    pub max_depth: usize,
    /// Choose the input to halve by bounding both halves of every input ([`Work::probe_dim`])
    /// rather than by the gradient at the centre (ACAS Xu 1_6 property 1: 69 boxes and 1.6 s,
    /// against a time-out after 5,033 boxes in 40 s; 1_7 property 2: 437 against 2,213 boxes).
    pub probe_splits: bool,
    /// Try certified LP bounds on the disjuncts the symbolic bounds leave open. Off by default:
    /// since the per-box bounds cost well under a millisecond, splitting a box twice more is
    /// cheaper than its LPs (ACAS Xu 1_7 property 2: 6.3 s and 2,213 boxes without, 17.4 s
    /// and 1,457 boxes with, load ~14 on 2 cores).
    pub lp: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            milp_unstable: 12,
            milp_seconds: 5.0,
            max_boxes: 2_000_000,
            max_depth: 40,
            probe_splits: true,
            lp: false,
        }
    }
}

/// What splitting did to a case.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Stats {
    pub boxes: usize,
    pub safe_by_bounds: usize,
    /// Boxes the certified LP bounds decided (after the symbolic ones did not).
    pub safe_by_lp: usize,
    pub safe_by_milp: usize,
    pub milps: usize,
    pub max_depth: usize,
    /// Thread-seconds spent in bounds and in MILPs (they run in parallel, so these can add up
    /// to more than the wall clock).
    pub bounds_seconds: f64,
    pub lp_seconds: f64,
    pub certify_seconds: f64,
    pub milp_seconds: f64,
}

impl Stats {
    fn add(&mut self, s: &Stats) {
        self.safe_by_bounds += s.safe_by_bounds;
        self.safe_by_lp += s.safe_by_lp;
        self.safe_by_milp += s.safe_by_milp;
        self.milps += s.milps;
        self.bounds_seconds += s.bounds_seconds;
        self.lp_seconds += s.lp_seconds;
        self.certify_seconds += s.certify_seconds;
        self.milp_seconds += s.milp_seconds;
    }
}

/// A box and the disjuncts already ruled out over a box containing it (they stay ruled out).
type Boxed = (Vec<f64>, Vec<f64>, Vec<bool>);

enum Step {
    Done(Outcome),
    Split([Boxed; 2]),
}

struct Work<'a> {
    spec: &'a SpecNet,
    case: &'a Case,
    case_index: usize,
    settings: &'a Settings,
    seed: Option<&'a Candidate>,
    deadline: Instant,
}

impl Work<'_> {
    fn step(&self, (lo, hi, inherited): Boxed, depth: usize, stats: &mut Stats) -> Step {
        if remaining(self.deadline) <= 0.0 {
            return Step::Done(Outcome::Open {
                reason: "time limit".into(),
                margin_bound: None,
            });
        }
        let p = BoxProblem {
            spec: self.spec,
            case: self.case,
            case_index: self.case_index,
            lo,
            hi,
        };
        let t0 = Instant::now();
        let bounds = p.split_bounds();
        stats.bounds_seconds += t0.elapsed().as_secs_f64();
        let mut ruled = self.spec.ruled_out(&bounds);
        ruled.iter_mut().zip(&inherited).for_each(|(r, i)| *r |= *i);
        if !ruled.iter().all(|r| *r) {
            self.spec.rule_out_jointly(&p.lo, &p.hi, &bounds, &mut ruled);
        }
        if ruled.iter().all(|r| *r) {
            stats.safe_by_bounds += 1;
            return Step::Done(Outcome::Safe);
        }
        let base = self.spec.base_bounds(&bounds);
        let (_, unstable) = base.relu_stability(&self.spec.base);
        // The LP's cost grows with the unstable ReLUs; over large boxes it rarely decides.
        if self.settings.lp && unstable <= LP_MAX_UNSTABLE {
            let (lp, cert) = p.lp_rule_out(&bounds, &mut ruled);
            stats.lp_seconds += lp;
            stats.certify_seconds += cert;
            if ruled.iter().all(|r| *r) {
                stats.safe_by_lp += 1;
                return Step::Done(Outcome::Safe);
            }
        }
        let centre: Vec<f64> = p.lo.iter().zip(&p.hi).map(|(l, h)| 0.5 * (l + h)).collect();
        if let Some(c) = p.replay(&centre) {
            if c.is_counterexample() {
                return Step::Done(Outcome::Violated(c));
            }
        }
        // A short search inside the box, on the disjuncts still open: small boxes are where the
        // counterexamples the global search missed are found.
        let local = crate::front::vnnlib::Property {
            inputs: p.lo.len(),
            outputs: self.spec.base.output_size(),
            cases: vec![Case {
                lo: p.lo.clone(),
                hi: p.hi.clone(),
                disjuncts: (0..ruled.len())
                    .filter(|&d| !ruled[d])
                    .map(|d| self.case.disjuncts[d].clone())
                    .collect(),
            }],
        };
        // Kept small: on a property that holds it is pure overhead, and the monotone climb
        // needs few steps to reach a sliver a box is small enough to contain.
        let search = super::falsify::Settings {
            seed: depth as u64,
            samples: Some(4),
            climbs: 1,
            steps: 12,
            rounds: 1,
        };
        if let Some(mut c) = super::falsify::falsify(&self.spec.base, &local, &search, self.deadline) {
            if c.is_counterexample() {
                c.case = self.case_index;
                if let Some(c) = p.replay(&c.x) {
                    if c.is_counterexample() {
                        return Step::Done(Outcome::Violated(c));
                    }
                }
            }
        }
        if unstable <= self.settings.milp_unstable || depth >= self.settings.max_depth {
            let t0 = Instant::now();
            let limit = if depth >= self.settings.max_depth {
                remaining(self.deadline)
            } else {
                self.settings.milp_seconds.min(remaining(self.deadline))
            };
            let out = p.milp(&bounds, &ruled, limit, 1, self.seed);
            stats.milps += 1;
            stats.milp_seconds += t0.elapsed().as_secs_f64();
            match out {
                Ok(Outcome::Safe) => {
                    stats.safe_by_milp += 1;
                    return Step::Done(Outcome::Safe);
                }
                Ok(Outcome::Violated(c)) => return Step::Done(Outcome::Violated(c)),
                Ok(open) if depth >= self.settings.max_depth => return Step::Done(open),
                Ok(Outcome::Open { .. }) => {} // split further
                Err(e) => {
                    return Step::Done(Outcome::Open {
                        reason: e.to_string(),
                        margin_bound: None,
                    })
                }
            }
        }
        let dim = if self.settings.probe_splits {
            self.probe_dim(&p, &ruled)
        } else {
            None
        }
        .unwrap_or_else(|| self.split_dim(&p, &bounds, &ruled, &centre));
        let mid = 0.5 * (p.lo[dim] + p.hi[dim]);
        let (mut lo2, mut hi1) = (p.lo.clone(), p.hi.clone());
        lo2[dim] = mid;
        hi1[dim] = mid;
        Step::Split([(p.lo.clone(), hi1, ruled.clone()), (lo2, p.hi.clone(), ruled)])
    }

    /// How close the bounds `b` come to ruling out every open disjunct: the smallest, over the
    /// disjuncts not `ruled` out, of its best row's lower bound (`> 0` for all: safe).
    fn progress(&self, b: &crate::bounds::Bounds, ruled: &[bool]) -> f64 {
        let (rlo, _) = self.spec.row_bounds(b);
        self.spec
            .disjunct_rows
            .iter()
            .enumerate()
            .filter(|(d, _)| !ruled[*d])
            .map(|(_, r)| r.clone().map(|i| rlo[i]).fold(f64::NEG_INFINITY, f64::max))
            .fold(f64::INFINITY, f64::min)
    }

    /// The input whose halving most improves the worse half's [`Self::progress`], each half
    /// bounded by the cheapest pass (forward functions and the rows back-substituted, no
    /// refinement): a few forward passes per input, against a tree that a poor choice makes
    /// exponentially larger. `None` when no halving improves on the box itself (then the
    /// gradient rule decides).
    fn probe_dim(&self, p: &BoxProblem, ruled: &[bool]) -> Option<usize> {
        let bound = |lo: &[f64], hi: &[f64]| {
            let b = crate::bounds::InputBox {
                lo: lo.to_vec(),
                hi: hi.to_vec(),
            };
            crate::bounds::forward_then_rows(&self.spec.net, &b, false)
        };
        let here = self.progress(&bound(&p.lo, &p.hi), ruled);
        let mut best: Option<(usize, f64, f64)> = None;
        for i in 0..p.lo.len() {
            if p.hi[i] <= p.lo[i] {
                continue;
            }
            let mid = 0.5 * (p.lo[i] + p.hi[i]);
            let (mut lo2, mut hi1) = (p.lo.clone(), p.hi.clone());
            lo2[i] = mid;
            hi1[i] = mid;
            let a = self.progress(&bound(&p.lo, &hi1), ruled);
            let b = self.progress(&bound(&lo2, &p.hi), ruled);
            let (worse, sum) = (a.min(b), a + b);
            if best.is_none_or(|(_, w, s)| worse > w || (worse == w && sum > s)) {
                best = Some((i, worse, sum));
            }
        }
        best.filter(|&(_, w, s)| w > here || s > 2.0 * here).map(|(i, _, _)| i)
    }

    /// The input to halve: largest width × |gradient of the open rows at the centre|.
    fn split_dim(&self, p: &BoxProblem, bounds: &crate::bounds::Bounds, ruled: &[bool], centre: &[f64]) -> usize {
        let (rlo, _) = self.spec.row_bounds(bounds);
        let net = &self.spec.base;
        let mut g = vec![0.0; net.output_size()];
        for (d, range) in self.spec.disjunct_rows.iter().enumerate() {
            if ruled[d] {
                continue;
            }
            for r in range.clone() {
                if rlo[r] <= 0.0 {
                    for &(j, a) in &self.spec.rows[r].coeffs {
                        g[j] += a;
                    }
                }
            }
        }
        let width: Vec<f64> = p.lo.iter().zip(&p.hi).map(|(l, h)| h - l).collect();
        let grad = net
            .forward_all(centre)
            .map(|v| net.input_gradient(&v, &g))
            .unwrap_or_default();
        let score = |i: usize| grad.get(i).map_or(0.0, |g| g.abs()) * width[i];
        let widest = |i: usize| width[i] / (self.case.hi[i] - self.case.lo[i]).max(f64::MIN_POSITIVE);
        (0..width.len())
            .filter(|&i| width[i] > 0.0)
            .max_by(|&a, &b| {
                score(a)
                    .total_cmp(&score(b))
                    .then(widest(a).total_cmp(&widest(b)))
                    .then(b.cmp(&a))
            })
            .unwrap_or(0)
    }
}

/// Decides one case by splitting its box; `ruled` are the disjuncts already ruled out over it.
pub fn run(
    spec: &SpecNet,
    case: &Case,
    case_index: usize,
    settings: &Settings,
    seed: Option<&Candidate>,
    ruled: Vec<bool>,
    deadline: Instant,
) -> (Outcome, Stats) {
    let work = Work {
        spec,
        case,
        case_index,
        settings,
        seed,
        deadline,
    };
    let mut stats = Stats::default();
    let mut frontier: Vec<Boxed> = vec![(case.lo.clone(), case.hi.clone(), ruled)];
    let mut open: Option<Outcome> = None;
    let mut depth = 0;
    while !frontier.is_empty() {
        stats.max_depth = depth;
        if stats.boxes + frontier.len() > settings.max_boxes {
            return (
                Outcome::Open {
                    reason: format!("more than {} boxes", settings.max_boxes),
                    margin_bound: None,
                },
                stats,
            );
        }
        stats.boxes += frontier.len();
        let steps: Vec<(Step, Stats)> = frontier
            .into_par_iter()
            .map(|b| {
                let mut s = Stats::default();
                let step = work.step(b, depth, &mut s);
                (step, s)
            })
            .collect();
        let mut next = Vec::new();
        for (step, s) in steps {
            stats.add(&s);
            match step {
                Step::Done(Outcome::Safe) => {}
                Step::Done(Outcome::Violated(c)) => return (Outcome::Violated(c), stats),
                Step::Done(o @ Outcome::Open { .. }) => {
                    open.get_or_insert(o);
                }
                Step::Split(children) => next.extend(children),
            }
        }
        if open.is_some() && remaining(deadline) <= 0.0 {
            break;
        }
        frontier = next;
        depth += 1;
    }
    (open.unwrap_or(Outcome::Safe), stats)
}
