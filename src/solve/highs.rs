//! A small safe owner of one HiGHS instance, over the raw C API of `highs-sys`.
//!
//! Everything unsafe about HiGHS lives here: the pointer, C strings, array lengths and the
//! thread-local task scheduler. The rest of the crate sees methods that take Rust values and
//! return [`SolveError`]s. One instance keeps its model between runs, so a bound-tightening pass
//! can load a MILP once and then change costs, bounds and the objective sense and run again.

use super::{SolveError, Status};
use crate::milp::{ColKind, Milp, ObjSense, Sense};
use highs_sys as sys;
use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::marker::PhantomData;
use std::path::Path;
use std::ptr::NonNull;
use std::time::Instant;

/// HiGHS's model status after a run (the `kHighsModelStatus*` constants of `highs_c_api.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelStatus {
    NotSet,
    LoadError,
    ModelError,
    PresolveError,
    SolveError,
    PostsolveError,
    ModelEmpty,
    Optimal,
    Infeasible,
    UnboundedOrInfeasible,
    Unbounded,
    ObjectiveBound,
    ObjectiveTarget,
    TimeLimit,
    IterationLimit,
    Unknown,
    SolutionLimit,
    Interrupt,
    MemoryLimit,
    HighsInterrupt,
    /// A code this wrapper does not know (a newer HiGHS); kept so that it can be reported.
    Unrecognised(i32),
}

impl ModelStatus {
    fn from_code(code: sys::HighsInt) -> Self {
        use ModelStatus::*;
        match code {
            sys::MODEL_STATUS_NOTSET => NotSet,
            sys::MODEL_STATUS_LOAD_ERROR => LoadError,
            sys::MODEL_STATUS_MODEL_ERROR => ModelError,
            sys::MODEL_STATUS_PRESOLVE_ERROR => PresolveError,
            sys::MODEL_STATUS_SOLVE_ERROR => SolveError,
            sys::MODEL_STATUS_POSTSOLVE_ERROR => PostsolveError,
            sys::MODEL_STATUS_MODEL_EMPTY => ModelEmpty,
            sys::MODEL_STATUS_OPTIMAL => Optimal,
            sys::MODEL_STATUS_INFEASIBLE => Infeasible,
            sys::MODEL_STATUS_UNBOUNDED_OR_INFEASIBLE => UnboundedOrInfeasible,
            sys::MODEL_STATUS_UNBOUNDED => Unbounded,
            sys::MODEL_STATUS_OBJECTIVE_BOUND => ObjectiveBound,
            sys::MODEL_STATUS_OBJECTIVE_TARGET => ObjectiveTarget,
            sys::MODEL_STATUS_REACHED_TIME_LIMIT => TimeLimit,
            sys::MODEL_STATUS_REACHED_ITERATION_LIMIT => IterationLimit,
            sys::MODEL_STATUS_UNKNOWN => Unknown,
            sys::MODEL_STATUS_REACHED_SOLUTION_LIMIT => SolutionLimit,
            sys::MODEL_STATUS_REACHED_INTERRUPT => Interrupt,
            sys::MODEL_STATUS_REACHED_MEMORY_LIMIT => MemoryLimit,
            sys::MODEL_STATUS_HIGHS_INTERRUPT => HighsInterrupt,
            other => Unrecognised(other),
        }
    }

    /// The report's status. Every HiGHS status is listed (no catch-all), so that a new one is a
    /// decision here: only `Optimal`, `Infeasible`, `Unbounded` and `TimeLimit` are claims; every
    /// error, limit and interrupt is [`Status::Other`], with the exact words in the report, so
    /// that nothing that did not prove infeasibility is ever reported as infeasible.
    pub fn condensed(self) -> Status {
        use ModelStatus::*;
        match self {
            Optimal => Status::Optimal,
            Infeasible => Status::Infeasible,
            Unbounded => Status::Unbounded,
            TimeLimit => Status::TimeLimit,
            // "Infeasible or unbounded" proves neither.
            UnboundedOrInfeasible => Status::Other,
            // Errors: the run did not finish (HiGHS's return code said so too).
            NotSet | LoadError | ModelError | PresolveError | SolveError | PostsolveError => Status::Other,
            // An empty model is solved by HiGHS without a status of its own; not a proof here.
            ModelEmpty => Status::Other,
            // Limits and interrupts other than time: an incumbent, if any, is in the solution.
            ObjectiveBound | ObjectiveTarget | IterationLimit | SolutionLimit | Interrupt | MemoryLimit
            | HighsInterrupt | Unknown => Status::Other,
            Unrecognised(_) => Status::Other,
        }
    }

    /// Words for reports, close to HiGHS's own `modelStatusToString`.
    pub fn text(self) -> String {
        use ModelStatus::*;
        let s = match self {
            NotSet => "not set",
            LoadError => "load error",
            ModelError => "model error",
            PresolveError => "presolve error",
            SolveError => "solve error",
            PostsolveError => "postsolve error",
            ModelEmpty => "empty model",
            Optimal => "optimal",
            Infeasible => "infeasible",
            UnboundedOrInfeasible => "primal infeasible or unbounded",
            Unbounded => "unbounded",
            ObjectiveBound => "bound on objective reached",
            ObjectiveTarget => "target for objective reached",
            TimeLimit => "time limit reached",
            IterationLimit => "iteration limit reached",
            Unknown => "unknown",
            SolutionLimit => "solution limit reached",
            Interrupt => "interrupted by user",
            MemoryLimit => "memory limit reached",
            HighsInterrupt => "interrupted by HiGHS",
            Unrecognised(code) => return format!("model status {code}"),
        };
        s.to_string()
    }
}

thread_local! {
    /// The `threads` option the HiGHS scheduler of this thread was last started for (0 = HiGHS's
    /// default). HiGHS keeps one task scheduler per OS thread, shared by all instances on it, and
    /// refuses to run when an instance asks for a different non-zero thread count, so
    /// [`Highs::run`] restarts the scheduler when the request changes.
    static SCHEDULER_THREADS: Cell<Option<i32>> = const { Cell::new(None) };
}

/// One HiGHS instance and the model loaded into it.
///
/// Not `Send`: HiGHS runs on the task scheduler of the thread that calls it, and the scheduler
/// bookkeeping in [`Highs::run`] is per thread. Create one instance per thread instead.
pub struct Highs {
    ptr: NonNull<c_void>,
    /// HiGHS's value for an infinite bound (it treats anything at or above it as infinite).
    infinity: f64,
    /// Wall-clock seconds of the last [`Highs::run`].
    last_run_seconds: f64,
    _not_send: PhantomData<*mut ()>,
}

impl Drop for Highs {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `Highs_create` and is destroyed exactly once, here.
        unsafe { sys::Highs_destroy(self.ptr.as_ptr()) }
    }
}

/// `kHighsStatusError` is the only failing return; `kHighsStatusWarning` still succeeded.
fn check(status: sys::HighsInt, what: impl FnOnce() -> String) -> Result<(), SolveError> {
    if status == sys::STATUS_ERROR {
        Err(SolveError::Highs(what()))
    } else {
        Ok(())
    }
}

fn c_string(s: &str) -> Result<CString, SolveError> {
    CString::new(s).map_err(|_| SolveError::Highs(format!("{s:?} contains a NUL byte")))
}

/// A size HiGHS can index with its 32-bit `HighsInt`.
fn highs_int(n: usize, what: &str) -> Result<sys::HighsInt, SolveError> {
    sys::HighsInt::try_from(n).map_err(|_| SolveError::TooLarge {
        what: what.to_string(),
        count: n,
    })
}

impl Highs {
    /// A fresh instance with HiGHS's console output off (turn it on with
    /// `set_bool_option("output_flag", true)`).
    pub fn new() -> Result<Self, SolveError> {
        // SAFETY: no preconditions; a null return is handled.
        let raw = unsafe { sys::Highs_create() };
        let ptr = NonNull::new(raw).ok_or_else(|| SolveError::Highs("Highs_create returned null".into()))?;
        // SAFETY: `ptr` is a live instance.
        let infinity = unsafe { sys::Highs_getInfinity(ptr.as_ptr()) };
        let mut h = Highs {
            ptr,
            infinity,
            last_run_seconds: 0.0,
            _not_send: PhantomData,
        };
        // Silence before anything else: loading a model already prints HiGHS's banner.
        h.set_bool_option("output_flag", false)?;
        Ok(h)
    }

    fn raw(&self) -> *mut c_void {
        self.ptr.as_ptr()
    }

    pub fn set_bool_option(&mut self, name: &str, value: bool) -> Result<(), SolveError> {
        let c = c_string(name)?;
        // SAFETY: live instance, NUL-terminated name that outlives the call.
        let st = unsafe { sys::Highs_setBoolOptionValue(self.raw(), c.as_ptr(), sys::HighsInt::from(value)) };
        check(st, || format!("option {name} = {value} rejected"))
    }

    pub fn set_int_option(&mut self, name: &str, value: i32) -> Result<(), SolveError> {
        let c = c_string(name)?;
        // SAFETY: as above.
        let st = unsafe { sys::Highs_setIntOptionValue(self.raw(), c.as_ptr(), value) };
        check(st, || format!("option {name} = {value} rejected"))
    }

    pub fn set_double_option(&mut self, name: &str, value: f64) -> Result<(), SolveError> {
        let c = c_string(name)?;
        // SAFETY: as above.
        let st = unsafe { sys::Highs_setDoubleOptionValue(self.raw(), c.as_ptr(), value) };
        check(st, || format!("option {name} = {value} rejected"))
    }

    /// Sets any HiGHS option from its text form (HiGHS parses the value by the option's type:
    /// `true`/`false`, integers, numbers, or strings such as `off`), as `--highs-option` gives it.
    pub fn set_option_text(&mut self, name: &str, value: &str) -> Result<(), SolveError> {
        let (c_name, c_value) = (c_string(name)?, c_string(value)?);
        // SAFETY: live instance, NUL-terminated name and value that outlive the call.
        let st = unsafe { sys::Highs_setOptionValue(self.raw(), c_name.as_ptr(), c_value.as_ptr()) };
        check(st, || format!("option {name} = {value} rejected")).map_err(|_| {
            SolveError::Option(format!(
                "HiGHS has no option {name:?} that takes the value {value:?} (see HiGHS's option list)"
            ))
        })
    }

    fn double_option(&self, name: &str) -> Result<f64, SolveError> {
        let c = c_string(name)?;
        let mut v = 0.0;
        // SAFETY: live instance, valid name, `v` is a valid out-pointer.
        let st = unsafe { sys::Highs_getDoubleOptionValue(self.raw(), c.as_ptr(), &mut v) };
        check(st, || format!("no double option {name}"))?;
        Ok(v)
    }

    /// Refuses numbers HiGHS cannot take as given: a matrix coefficient at or above its
    /// `large_matrix_value` (HiGHS rejects the model), a finite bound or right-hand side at or
    /// above its `infinite_bound`, or a cost at or above `infinite_cost` (HiGHS would silently
    /// read them as infinite, a different problem). A clear error naming the row or column,
    /// never a wrong status.
    fn check_numbers(&self, milp: &Milp) -> Result<(), SolveError> {
        let large = self.double_option("large_matrix_value")?;
        let inf_bound = self.double_option("infinite_bound")?;
        let inf_cost = self.double_option("infinite_cost")?;
        let refuse = |what: String, v: f64, limit: f64, option: &str| {
            Err(SolveError::Numbers(format!(
                "{what} is {v:e}, at or beyond HiGHS's {option} ({limit:e}); tighter bounds (--bounds symbolic, lp) or rescaled weights may bring it into range"
            )))
        };
        for c in milp.cols() {
            for v in [c.lo, c.hi].into_iter().filter(|v| v.is_finite()) {
                if v.abs() >= inf_bound {
                    return refuse(
                        format!("the bound of column {}", c.name),
                        v,
                        inf_bound,
                        "infinite_bound",
                    );
                }
            }
        }
        for r in milp.rows() {
            if r.rhs.is_finite() && r.rhs.abs() >= inf_bound {
                return refuse(
                    format!("the right-hand side of row {}", r.name),
                    r.rhs,
                    inf_bound,
                    "infinite_bound",
                );
            }
            if let Some(&(c, v)) = r.terms.iter().find(|(_, v)| v.abs() >= large) {
                let col = &milp.cols()[c.index()].name;
                return refuse(
                    format!("the coefficient of {col} in row {}", r.name),
                    v,
                    large,
                    "large_matrix_value",
                );
            }
        }
        if let Some(&(c, v)) = milp.objective().terms.iter().find(|(_, v)| v.abs() >= inf_cost) {
            let col = &milp.cols()[c.index()].name;
            return refuse(
                format!("the objective coefficient of {col}"),
                v,
                inf_cost,
                "infinite_cost",
            );
        }
        Ok(())
    }

    fn int_option(&self, name: &str) -> Result<i32, SolveError> {
        let c = c_string(name)?;
        let mut v: sys::HighsInt = 0;
        // SAFETY: live instance, valid name, `v` is a valid out-pointer.
        let st = unsafe { sys::Highs_getIntOptionValue(self.raw(), c.as_ptr(), &mut v) };
        check(st, || format!("no int option {name}"))?;
        Ok(v)
    }

    /// Maps a bound to HiGHS's infinity when it is infinite (or beyond what HiGHS treats as
    /// finite, which then means the same).
    fn bound(&self, v: f64) -> f64 {
        if v >= self.infinity {
            self.infinity
        } else if v <= -self.infinity {
            -self.infinity
        } else {
            v
        }
    }

    /// Replaces the instance's model by `milp` (rows as a row-wise matrix, binaries and integers
    /// as integer columns, the objective with its sense and offset). Indicator constraints are
    /// not representable in HiGHS; the caller decides what to do about them.
    pub fn pass_milp(&mut self, milp: &Milp) -> Result<(), SolveError> {
        let n_col = milp.cols().len();
        let n_row = milp.rows().len();
        let nnz: usize = milp.rows().iter().map(|r| r.terms.len()).sum();
        let num_col = highs_int(n_col, "columns")?;
        let num_row = highs_int(n_row, "rows")?;
        let num_nz = highs_int(nnz, "matrix entries")?;
        self.check_numbers(milp)?;

        // `Milp` admits only its own columns in rows and objective (checked when they are
        // added), so every index below is in range.
        let mut cost = vec![0.0; n_col];
        for &(c, v) in &milp.objective().terms {
            cost[c.index()] = v;
        }
        let col_lo: Vec<f64> = milp.cols().iter().map(|c| self.bound(c.lo)).collect();
        let col_hi: Vec<f64> = milp.cols().iter().map(|c| self.bound(c.hi)).collect();
        let integrality: Vec<sys::HighsInt> = milp
            .cols()
            .iter()
            .map(|c| match c.kind {
                ColKind::Continuous => sys::VAR_TYPE_CONTINUOUS,
                ColKind::Binary | ColKind::Integer => sys::VAR_TYPE_INTEGER,
            })
            .collect();
        let inf = self.infinity;
        let (row_lo, row_hi): (Vec<f64>, Vec<f64>) = milp
            .rows()
            .iter()
            .map(|r| match r.sense {
                Sense::Le => (-inf, self.bound(r.rhs)),
                Sense::Ge => (self.bound(r.rhs), inf),
                Sense::Eq => (r.rhs, r.rhs),
            })
            .unzip();
        // Rows are stored with sorted, merged terms, which is exactly a CSR matrix.
        let mut start: Vec<sys::HighsInt> = Vec::with_capacity(n_row + 1);
        let mut index: Vec<sys::HighsInt> = Vec::with_capacity(nnz);
        let mut value: Vec<f64> = Vec::with_capacity(nnz);
        for r in milp.rows() {
            // Cannot fail: the running count is at most `nnz`, which fits.
            start.push(index.len() as sys::HighsInt);
            for &(c, v) in &r.terms {
                // Cannot fail: `Milp` admits only its own columns, so the index is below
                // `n_col`, which fits.
                index.push(c.index() as sys::HighsInt);
                value.push(v);
            }
        }
        start.push(num_nz);
        let sense = match milp.objective().sense {
            ObjSense::Minimize => sys::OBJECTIVE_SENSE_MINIMIZE,
            ObjSense::Maximize => sys::OBJECTIVE_SENSE_MAXIMIZE,
        };
        // SAFETY: every array has the length HiGHS reads for the sizes given (columns: n_col,
        // rows: n_row, start: n_row (+1 unread), index/value: nnz); HiGHS copies them all.
        let st = unsafe {
            sys::Highs_passMip(
                self.raw(),
                num_col,
                num_row,
                num_nz,
                sys::MATRIX_FORMAT_ROW_WISE,
                sense,
                milp.objective().offset,
                cost.as_ptr(),
                col_lo.as_ptr(),
                col_hi.as_ptr(),
                row_lo.as_ptr(),
                row_hi.as_ptr(),
                start.as_ptr(),
                index.as_ptr(),
                value.as_ptr(),
                integrality.as_ptr(),
            )
        };
        check(st, || format!("HiGHS rejected the model {:?}", milp.name))
    }

    /// Replaces the instance's model by the one in an MPS or LP file, read by HiGHS's own reader
    /// (the format follows the file's extension).
    pub fn read_model(&mut self, path: &Path) -> Result<(), SolveError> {
        let file_err = |message: String| SolveError::File {
            path: path.to_path_buf(),
            message,
        };
        if let Err(e) = std::fs::metadata(path) {
            return Err(file_err(e.to_string()));
        }
        let s = path
            .to_str()
            .ok_or_else(|| file_err("path is not valid UTF-8".into()))?;
        let c = CString::new(s).map_err(|_| file_err("path contains a NUL byte".into()))?;
        // SAFETY: live instance, NUL-terminated path.
        let st = unsafe { sys::Highs_readModel(self.raw(), c.as_ptr()) };
        if st == sys::STATUS_ERROR {
            let reason = read_failure_reason(&c).unwrap_or_else(|| GENERIC_READ_FAILURE.into());
            return Err(file_err(reason));
        }
        Ok(())
    }

    pub fn num_col(&self) -> usize {
        // SAFETY: live instance.
        let n = unsafe { sys::Highs_getNumCol(self.raw()) };
        usize::try_from(n).unwrap_or(0)
    }

    /// True when some column of the loaded model is integer (then MIP information is valid).
    pub fn is_mip(&self) -> Result<bool, SolveError> {
        for col in 0..self.num_col() {
            let mut kind: sys::HighsInt = 0;
            // SAFETY: live instance, `col` in range, valid out-pointer.
            let st = unsafe { sys::Highs_getColIntegrality(self.raw(), col as sys::HighsInt, &mut kind) };
            check(st, || format!("integrality of column {col}"))?;
            if kind != sys::VAR_TYPE_CONTINUOUS {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn col_index(&self, col: usize) -> Result<sys::HighsInt, SolveError> {
        if col >= self.num_col() {
            return Err(SolveError::Highs(format!(
                "column {col} out of range (the model has {})",
                self.num_col()
            )));
        }
        highs_int(col, "column index")
    }

    pub fn change_col_cost(&mut self, col: usize, cost: f64) -> Result<(), SolveError> {
        let c = self.col_index(col)?;
        // SAFETY: live instance, column in range.
        let st = unsafe { sys::Highs_changeColCost(self.raw(), c, cost) };
        check(st, || format!("cost {cost} of column {col} rejected"))
    }

    /// Infinite bounds are mapped to HiGHS's infinity.
    pub fn change_col_bounds(&mut self, col: usize, lo: f64, hi: f64) -> Result<(), SolveError> {
        let c = self.col_index(col)?;
        let (lo, hi) = (self.bound(lo), self.bound(hi));
        // SAFETY: live instance, column in range.
        let st = unsafe { sys::Highs_changeColBounds(self.raw(), c, lo, hi) };
        check(st, || format!("bounds [{lo}, {hi}] of column {col} rejected"))
    }

    /// Hands HiGHS a point to start from (for a MIP, a feasible one becomes the first
    /// incumbent, so branch and bound prunes with its objective from the start).
    pub fn set_solution(&mut self, col_values: &[f64]) -> Result<(), SolveError> {
        if col_values.len() != self.num_col() {
            return Err(SolveError::Highs(format!(
                "start point has {} values, the model {} columns",
                col_values.len(),
                self.num_col()
            )));
        }
        // SAFETY: live instance; the array has one value per column; the other arrays may be null.
        let st = unsafe {
            sys::Highs_setSolution(
                self.raw(),
                col_values.as_ptr(),
                std::ptr::null(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        check(st, || "start point rejected".into())
    }

    pub fn set_objective_sense(&mut self, sense: ObjSense) -> Result<(), SolveError> {
        let s = match sense {
            ObjSense::Minimize => sys::OBJECTIVE_SENSE_MINIMIZE,
            ObjSense::Maximize => sys::OBJECTIVE_SENSE_MAXIMIZE,
        };
        // SAFETY: live instance.
        let st = unsafe { sys::Highs_changeObjectiveSense(self.raw(), s) };
        check(st, || format!("objective sense {sense:?} rejected"))
    }

    /// Solves the loaded model (again, after changes: HiGHS starts from what it kept).
    ///
    /// An `Err` means HiGHS itself failed; infeasibility, limits and the like are model statuses.
    pub fn run(&mut self) -> Result<(), SolveError> {
        let threads = self.int_option("threads")?;
        SCHEDULER_THREADS.with(|cell| {
            if threads != 0 && cell.get() != Some(threads) {
                // SAFETY: no HiGHS call is in progress on this thread (instances are not Send
                // and `run` is synchronous); blocking waits for the old workers to stop.
                unsafe { sys::Highs_resetThreadScheduler(1) };
                cell.set(Some(threads));
            } else if cell.get().is_none() {
                cell.set(Some(threads));
            }
        });
        // HiGHS's clocks accumulate over runs, and its time limit is checked against them.
        // SAFETY: live instance.
        unsafe { sys::Highs_zeroAllClocks(self.raw()) };
        let t0 = Instant::now();
        // SAFETY: live instance with a model.
        let st = unsafe { sys::Highs_run(self.raw()) };
        self.last_run_seconds = t0.elapsed().as_secs_f64();
        check(st, || format!("run failed ({})", self.model_status().text()))
    }

    /// Wall-clock seconds of the last [`Highs::run`].
    pub fn last_run_seconds(&self) -> f64 {
        self.last_run_seconds
    }

    pub fn model_status(&self) -> ModelStatus {
        // SAFETY: live instance.
        ModelStatus::from_code(unsafe { sys::Highs_getModelStatus(self.raw()) })
    }

    pub fn double_info(&self, name: &str) -> Result<f64, SolveError> {
        let c = c_string(name)?;
        let mut v = 0.0;
        // SAFETY: live instance, valid name, valid out-pointer.
        let st = unsafe { sys::Highs_getDoubleInfoValue(self.raw(), c.as_ptr(), &mut v) };
        check(st, || format!("no double info {name}"))?;
        Ok(v)
    }

    pub fn int_info(&self, name: &str) -> Result<i32, SolveError> {
        let c = c_string(name)?;
        let mut v: sys::HighsInt = 0;
        // SAFETY: as above.
        let st = unsafe { sys::Highs_getIntInfoValue(self.raw(), c.as_ptr(), &mut v) };
        check(st, || format!("no int info {name}"))?;
        Ok(v)
    }

    pub fn int64_info(&self, name: &str) -> Result<i64, SolveError> {
        let c = c_string(name)?;
        let mut v: i64 = 0;
        // SAFETY: as above; the info is HiGHS's `int64_t`.
        let st = unsafe { sys::Highs_getInt64InfoValue(self.raw(), c.as_ptr(), &mut v) };
        check(st, || format!("no int64 info {name}"))?;
        Ok(v)
    }

    /// True when HiGHS holds a primal feasible point (an optimum, or an incumbent at a limit).
    pub fn has_feasible_point(&self) -> Result<bool, SolveError> {
        Ok(self.int_info("primal_solution_status")? == sys::SOLUTION_STATUS_FEASIBLE)
    }

    /// The column values of HiGHS's current point, in model column order.
    pub fn col_values(&self) -> Result<Vec<f64>, SolveError> {
        Ok(self.solution_arrays()?.0)
    }

    /// The row duals of HiGHS's current solution, in model row order (HiGHS's convention:
    /// reduced costs are `c - A^T y`). Certified LP bounds are built from them.
    pub fn row_duals(&self) -> Result<Vec<f64>, SolveError> {
        Ok(self.solution_arrays()?.1)
    }

    /// The simplex basis HiGHS holds (after an LP solve), to start another instance of the same
    /// model from: `None` when it has no valid basis.
    pub fn basis(&self) -> Result<Option<Basis>, SolveError> {
        if self.int_info("basis_validity")? != BASIS_VALIDITY_VALID {
            return Ok(None);
        }
        // SAFETY: live instance.
        let n_row = usize::try_from(unsafe { sys::Highs_getNumRow(self.raw()) }).unwrap_or(0);
        let mut b = Basis {
            cols: vec![0; self.num_col()],
            rows: vec![0; n_row],
        };
        // SAFETY: the arrays have the model's column and row counts, as HiGHS writes.
        let st = unsafe { sys::Highs_getBasis(self.raw(), b.cols.as_mut_ptr(), b.rows.as_mut_ptr()) };
        check(st, || "no basis available".into())?;
        Ok(Some(b))
    }

    /// Starts the next solve from `basis` (from [`Highs::basis`] on the same model).
    pub fn set_basis(&mut self, basis: &Basis) -> Result<(), SolveError> {
        // SAFETY: live instance; HiGHS reads one status per column and per row.
        let n_row = usize::try_from(unsafe { sys::Highs_getNumRow(self.raw()) }).unwrap_or(0);
        if basis.cols.len() != self.num_col() || basis.rows.len() != n_row {
            return Err(SolveError::Highs(format!(
                "basis for {} columns and {} rows, the model has {} and {n_row}",
                basis.cols.len(),
                basis.rows.len(),
                self.num_col()
            )));
        }
        // SAFETY: live instance; the array lengths were checked above.
        let st = unsafe { sys::Highs_setBasis(self.raw(), basis.cols.as_ptr(), basis.rows.as_ptr()) };
        check(st, || "basis rejected".into())
    }

    /// Column values and row duals of HiGHS's current solution.
    fn solution_arrays(&self) -> Result<(Vec<f64>, Vec<f64>), SolveError> {
        let n_col = self.num_col();
        // SAFETY: live instance.
        let n_row = usize::try_from(unsafe { sys::Highs_getNumRow(self.raw()) }).unwrap_or(0);
        let mut col_value = vec![0.0; n_col];
        let mut col_dual = vec![0.0; n_col];
        let mut row_value = vec![0.0; n_row];
        let mut row_dual = vec![0.0; n_row];
        // SAFETY: every array has the model's column or row count, as HiGHS writes.
        let st = unsafe {
            sys::Highs_getSolution(
                self.raw(),
                col_value.as_mut_ptr(),
                col_dual.as_mut_ptr(),
                row_value.as_mut_ptr(),
                row_dual.as_mut_ptr(),
            )
        };
        check(st, || "no solution available".into())?;
        Ok((col_value, row_dual))
    }
}

/// A simplex basis: HiGHS's status (`kHighsBasisStatus`) of every column and row.
#[derive(Clone, Debug, PartialEq)]
pub struct Basis {
    cols: Vec<sys::HighsInt>,
    rows: Vec<sys::HighsInt>,
}

/// HiGHS's `kHighsBasisValidityValid` (`highs_c_api.h`; highs-sys does not export it).
const BASIS_VALIDITY_VALID: sys::HighsInt = 1;

/// What a failed read says when HiGHS logged no reason.
pub const GENERIC_READ_FAILURE: &str = "HiGHS could not read the model";

/// HiGHS's `HighsLogType::kWarning` and `kError` (`lp_data/HConst.h`).
const LOG_TYPE_WARNING: c_int = 4;
const LOG_TYPE_ERROR: c_int = 5;

/// Collects HiGHS's warning and error log lines into the `RefCell<Vec<String>>` behind `user`.
/// Must not unwind: it is called from C++.
unsafe extern "C" fn collect_problems(
    callback_type: c_int,
    message: *const c_char,
    data_out: *const sys::HighsCallbackDataOut,
    _data_in: *mut sys::HighsCallbackDataIn,
    user: *mut c_void,
) {
    if callback_type != sys::kHighsCallbackLogging || message.is_null() || data_out.is_null() || user.is_null() {
        return;
    }
    // SAFETY: HiGHS passes a valid data block and message for logging callbacks; `user` is the
    // sink registered by `read_failure_reason`, alive for the whole instance.
    let (log_type, text, sink) = unsafe {
        (
            (*data_out).log_type,
            CStr::from_ptr(message),
            &*(user as *const RefCell<Vec<String>>),
        )
    };
    if log_type == LOG_TYPE_WARNING || log_type == LOG_TYPE_ERROR {
        if let Ok(mut lines) = sink.try_borrow_mut() {
            let text = text.to_string_lossy();
            let line = text
                .trim()
                .trim_start_matches("ERROR:")
                .trim_start_matches("WARNING:")
                .trim()
                .to_string();
            if !line.is_empty() {
                lines.push(line);
            }
        }
    }
}

/// Reads the file again on a throw-away instance whose log goes (only) to a collector, to say
/// why HiGHS refused it. Silent instances are the rule, so this runs only after a failure.
fn read_failure_reason(path: &CStr) -> Option<String> {
    let sink: Box<RefCell<Vec<String>>> = Box::default();
    let mut h = Highs::new().ok()?;
    h.set_bool_option("log_to_console", false).ok()?;
    h.set_bool_option("output_flag", true).ok()?;
    let user = &*sink as *const RefCell<Vec<String>> as *mut c_void;
    // SAFETY: live instance; the callback matches HiGHS's signature; `sink` outlives `h`
    // (declared before it, so dropped after it).
    unsafe {
        if sys::Highs_setCallback(h.raw(), Some(collect_problems), user) == sys::STATUS_ERROR
            || sys::Highs_startCallback(h.raw(), sys::kHighsCallbackLogging) == sys::STATUS_ERROR
        {
            return None;
        }
        sys::Highs_readModel(h.raw(), path.as_ptr());
    }
    drop(h);
    let lines = sink.into_inner();
    (!lines.is_empty()).then(|| lines.join("; "))
}
