//! Falsification: look for a counterexample on the `f64` forward pass before any proof.
//!
//! Random points of each case's box (the centre first), each followed by projected
//! sign-gradient steps that increase the smallest slack of one disjunct's rows (one forward and
//! one backward pass per step; exact inside the current linear piece). Every candidate is an
//! input rounded to `f32` inside the box (what an ONNX runtime evaluates), replayed, and kept
//! only when every row of a disjunct holds with the margin of [`required_slack`]. The random
//! stream is SplitMix64 from a fixed seed and the search stops after a fixed number of steps or
//! at its deadline, whichever comes first, so a run that is not cut by the deadline is
//! reproducible bit for bit.

use crate::front::vnnlib::{Case, OutRow, Property};
use crate::ir::Network;
use std::time::Instant;

/// VNN-COMP's tolerances when it checks a counterexample: it runs the network itself (ONNX
/// runtime, `f32`) on the reported input and requires its outputs to match the reported ones
/// (`numpy.allclose`: `|y - y_ref| <= atol + rtol |y_ref|`), then checks the property.
pub const VNNCOMP_ATOL: f64 = 1e-4;
pub const VNNCOMP_RTOL: f64 = 1e-3;

/// Relative difference allowed between our `f64` forward pass and an `f32` run of the same
/// network on the same (`f32`) input: 1e-5, ten times what ACAS Xu and mnist_fc show and a
/// hundredth of VNN-COMP's `rtol`, so the reported outputs match the competition's run with
/// margin.
pub const F32_RTOL: f64 = 1e-5;

/// The slack a row must have at `y` so that it still holds for every output within
/// [`F32_RTOL`] of `y` (what an `f32` run of the network may give), plus `1e-7`.
pub fn required_slack(row: &OutRow, y: &[f64]) -> f64 {
    row.coeffs
        .iter()
        .map(|&(j, a)| a.abs() * F32_RTOL * (1.0 + y[j].abs()))
        .sum::<f64>()
        + 1e-7
}

/// How well `y` meets one disjunct: the smallest `slack - required_slack` over its rows
/// (`>= 0`: met with margin; an empty disjunct is met by everything).
pub fn disjunct_score(rows: &[OutRow], y: &[f64]) -> f64 {
    rows.iter()
        .map(|r| r.slack(y) - required_slack(r, y))
        .fold(f64::INFINITY, f64::min)
}

/// A point found by the search, replayed.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub case: usize,
    pub disjunct: usize,
    /// [`disjunct_score`] of the replayed outputs: `>= 0` makes it a counterexample.
    pub score: f64,
}

impl Candidate {
    pub fn is_counterexample(&self) -> bool {
        self.score >= 0.0
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): tiny, fast, and the same stream on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The `f32` nearest to `v` that lies in `[lo, hi]` (ONNX networks run in `f32`, so a
/// counterexample should be one), or `v` itself when no `f32` lies there.
pub fn to_f32_in(v: f64, lo: f64, hi: f64) -> f64 {
    let f = v as f32;
    let step = |f: f32, up: bool| -> f32 {
        // The neighbouring f32 in the given direction (finite, non-NaN inputs).
        if f == 0.0 {
            let tiny = f32::from_bits(1);
            return if up { tiny } else { -tiny };
        }
        let bits = f.to_bits();
        let away = (f > 0.0) == up;
        f32::from_bits(if away { bits + 1 } else { bits - 1 })
    };
    let mut g = f;
    for _ in 0..4 {
        let d = g as f64;
        if d < lo {
            g = step(g, true);
        } else if d > hi {
            g = step(g, false);
        } else {
            return d;
        }
    }
    v.clamp(lo, hi)
}

/// Search settings.
#[derive(Clone, Debug)]
pub struct Settings {
    pub seed: u64,
    /// Random points evaluated per case (the first is the box centre); `None`: as many as
    /// about 5·10⁷ multiply-adds of forward passes buy, between 64 and 4096.
    pub samples: Option<usize>,
    /// Best samples per case that gradient steps start from.
    pub climbs: usize,
    /// Gradient steps per climb.
    pub steps: usize,
    /// Rounds of sampling and climbing, each from fresh random points.
    pub rounds: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            seed: 0x6e6e_6d69_6c70,
            samples: None,
            climbs: 16,
            steps: 40,
            rounds: 4,
        }
    }
}

/// Multiply-adds of one forward pass (the weights' nonzeros).
fn forward_cost(net: &Network) -> usize {
    net.layers()
        .iter()
        .map(|l| match &l.op {
            crate::ir::Op::Affine { weights, .. } => weights.values().len(),
            _ => l.size(),
        })
        .sum::<usize>()
        .max(1)
}
struct Searcher<'a> {
    net: &'a Network,
    case: &'a Case,
    case_index: usize,
}

impl Searcher<'_> {
    fn round(&self, x: &[f64]) -> Vec<f64> {
        x.iter()
            .enumerate()
            .map(|(i, &v)| to_f32_in(v, self.case.lo[i], self.case.hi[i]))
            .collect()
    }

    /// The best disjunct at `x` and its score, with the outputs and the layer values.
    fn evaluate(&self, x: Vec<f64>) -> Option<(Candidate, Vec<Vec<f64>>)> {
        let values = self.net.forward_all(&x).ok()?;
        let y = values[self.net.output().index()].clone();
        let (disjunct, score) = self
            .case
            .disjuncts
            .iter()
            .enumerate()
            .map(|(d, rows)| (d, disjunct_score(rows, &y)))
            .fold((0, f64::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a });
        Some((
            Candidate {
                x,
                y,
                case: self.case_index,
                disjunct,
                score,
            },
            values,
        ))
    }

    /// Projected sign-gradient ascent on disjunct `d`'s worst row from `x`, monotone: a step
    /// that does not raise the disjunct's score is undone and the step halved, one that does is
    /// kept and the step grown by half. Counterexamples often sit in thin slivers (ACAS Xu
    /// 1_6 property 2: a fixed decaying step ended 5e-4 short), which this homes in on without
    /// ever walking away from the best point found.
    fn climb(&self, x: Vec<f64>, d: usize, steps: usize, best: &mut Option<Candidate>, deadline: Instant) {
        let rows = &self.case.disjuncts[d];
        let width: Vec<f64> = self.case.lo.iter().zip(&self.case.hi).map(|(l, h)| h - l).collect();
        let score_of = |y: &[f64]| disjunct_score(rows, y);
        let mut x = self.round(&x);
        let Some((mut cand, mut values)) = self.evaluate(x.clone()) else {
            return;
        };
        keep(best, &cand);
        let mut here = score_of(&cand.y);
        let mut step = 0.25;
        for _ in 0..steps {
            if cand.is_counterexample() || Instant::now() >= deadline || step < 1e-9 {
                return;
            }
            // The row with the least slack (relative to what it needs) decides the direction.
            let y = &cand.y;
            let Some(worst) = rows
                .iter()
                .min_by(|a, b| (a.slack(y) - required_slack(a, y)).total_cmp(&(b.slack(y) - required_slack(b, y))))
            else {
                return;
            };
            // Increase slack = decrease coeffs·y: gradient of -coeffs·y.
            let mut g = vec![0.0; y.len()];
            for &(j, a) in &worst.coeffs {
                g[j] = -a;
            }
            let grad = self.net.input_gradient(&values, &g);
            if grad.iter().all(|v| *v == 0.0) {
                return;
            }
            let next: Vec<f64> = (0..x.len())
                .map(|i| (x[i] + grad[i].signum() * step * width[i]).clamp(self.case.lo[i], self.case.hi[i]))
                .collect();
            let Some((c, v)) = self.evaluate(self.round(&next)) else {
                return;
            };
            keep(best, &c);
            let s = score_of(&c.y);
            if s > here {
                (x, cand, values, here) = (c.x.clone(), c, v, s);
                step *= 1.5;
            } else {
                step *= 0.5;
            }
        }
    }
}

fn keep(best: &mut Option<Candidate>, cand: &Candidate) {
    if best.as_ref().is_none_or(|b| cand.score > b.score) {
        *best = Some(cand.clone());
    }
}

/// Searches every case until a counterexample is found, the settings' work is done or the
/// deadline passes. Returns the best candidate (a counterexample when its score is `>= 0`).
pub fn falsify(net: &Network, prop: &Property, settings: &Settings, deadline: Instant) -> Option<Candidate> {
    let mut best: Option<Candidate> = None;
    // A fixed number of rounds with fresh random points (not "until the deadline"), so that
    // the result does not depend on the machine's speed unless the deadline cuts it.
    for round in 0..settings.rounds {
        let found = falsify_round(net, prop, settings, settings.seed.wrapping_add(round as u64), deadline);
        if let Some(c) = found {
            keep(&mut best, &c);
        }
        if best.as_ref().is_some_and(Candidate::is_counterexample) || Instant::now() >= deadline {
            break;
        }
    }
    best
}

fn falsify_round(
    net: &Network,
    prop: &Property,
    settings: &Settings,
    seed: u64,
    deadline: Instant,
) -> Option<Candidate> {
    let mut rng = Rng::new(seed);
    let mut best: Option<Candidate> = None;
    let samples = settings
        .samples
        .unwrap_or_else(|| (50_000_000 / forward_cost(net)).clamp(64, 4096))
        .max(1);
    // Sampling: every case, the centre first; the best points of each case seed the climbs.
    let mut seeds: Vec<Vec<(f64, Vec<f64>)>> = vec![Vec::new(); prop.cases.len()];
    for (k, case) in prop.cases.iter().enumerate() {
        let s = Searcher {
            net,
            case,
            case_index: k,
        };
        for n in 0..samples {
            if Instant::now() >= deadline {
                return best;
            }
            let x: Vec<f64> = (0..case.lo.len())
                .map(|i| {
                    let t = if n == 0 { 0.5 } else { rng.unit() };
                    case.lo[i] + t * (case.hi[i] - case.lo[i])
                })
                .collect();
            let Some((cand, _)) = s.evaluate(s.round(&x)) else {
                continue;
            };
            keep(&mut best, &cand);
            if cand.is_counterexample() {
                return best;
            }
            seeds[k].push((cand.score, x));
        }
        seeds[k].sort_by(|a, b| b.0.total_cmp(&a.0));
        seeds[k].truncate(settings.climbs);
    }
    // Climbing: round robin over the cases so that a union of boxes gets an even share.
    for round in 0..settings.climbs {
        for (k, case) in prop.cases.iter().enumerate() {
            let Some((_, x)) = seeds[k].get(round) else { continue };
            let s = Searcher {
                net,
                case,
                case_index: k,
            };
            let Ok(y) = net.forward(&s.round(x)) else { continue };
            // The disjuncts in order of promise at the start point; all of them from the best
            // seed, the three most promising from the others.
            let mut order: Vec<(usize, f64)> = case
                .disjuncts
                .iter()
                .enumerate()
                .map(|(d, rows)| (d, disjunct_score(rows, &y)))
                .collect();
            order.sort_by(|a, b| b.1.total_cmp(&a.1));
            let climbs = if round == 0 { order.len() } else { order.len().min(3) };
            for &(d, _) in order.iter().take(climbs) {
                if Instant::now() >= deadline {
                    return best;
                }
                s.climb(x.clone(), d, settings.steps, &mut best, deadline);
                if best.as_ref().is_some_and(Candidate::is_counterexample) {
                    return best;
                }
            }
        }
    }
    best
}
