//! The command line: clap types only. Each subcommand parses its own arguments (so clap itself
//! rejects every flag the subcommand cannot take), builds the task's validated config, runs the
//! task and hands back the report's text. Nothing here computes, prints or exits: `main` prints
//! [`Output`] or the error once and maps it to an exit code ([`CliError::exit_code`]).
//!
//! # Adding a subcommand
//!
//! 1. Write `src/cli/NAME.rs` with `pub struct Args` (`#[derive(Debug, clap::Args)]`; every
//!    argument documented by a one-line summary, a blank line and a longer paragraph: clap makes
//!    them `help` and `long_help`, and `tests/cli.rs` fails on an argument without both) and
//!    `impl Args { pub fn run(self) -> Result<Output, CliError> }`, which builds the task's
//!    config and renders its report (`Display`). Reuse the argument groups of [`args`]
//!    (`--box`, bounds, model output and solving) by `#[command(flatten)]`.
//! 2. Add one line `/// summary` + `Name(name),` to the `commands!` list below: that declares
//!    the module, the [`Command`] variant and its dispatch.
//!
//! Exit codes: 0 success (whatever the solver's status), 1 a task failed ([`CliError::Task`]),
//! 2 a bad command line (clap's own errors, and [`CliError::Usage`] for combinations clap cannot
//! express).

pub mod args;

use crate::tasks::TaskError;
use clap::{Parser, Subcommand};
use std::io::Write;
use thiserror::Error;

#[derive(Debug, Parser)]
#[command(
    name = "nnmilp",
    version,
    about = "Compile trained ReLU networks into exact 0-1 MILPs (free MPS / CPLEX LP)",
    long_about = "Compile trained ReLU networks (ONNX) into exact 0-1 mixed-integer linear programs after \
                  Fischetti & Jo (2018), write them as free MPS or CPLEX LP files for any solver, or solve \
                  them with the embedded HiGHS.\n\nExit codes: 0 success (whatever the solver status, which the \
                  report states), 1 error (message on stderr), 2 bad command line."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Sync every output file to the disk before it takes its name.
    ///
    /// Every output (model, report, bounds file, picture, start file) is written to a temporary
    /// file and renamed into place once complete, so that an error or an interrupt never leaves a
    /// partial file under its name. With --fsync each file is also synced to the disk before the
    /// rename, so that not even a power loss can leave the name on an empty or short file
    /// (archives of instances). Off by default, like compilers and solvers' own writers: the sync
    /// waits for the disk (about 3 ms for a 13 MB model on an SSD, far more on a network file
    /// system).
    #[arg(long, global = true)]
    pub fsync: bool,
}

/// Declares the subcommand modules, the [`Command`] enum and its dispatch from one list.
macro_rules! commands {
    ($($(#[$doc:meta])* $variant:ident($module:ident),)*) => {
        $(pub mod $module;)*

        #[derive(Debug, Subcommand)]
        pub enum Command {
            $($(#[$doc])* $variant($module::Args),)*
        }

        impl Command {
            fn run(self) -> Result<Output, CliError> {
                match self {
                    $(Command::$variant(args) => args.run(),)*
                }
            }
        }
    };
}

commands! {
    /// Show a network's layers, shapes and ReLU stability under an input box.
    Inspect(inspect),
    /// Smallest L1 / Linf change of an image that makes the network prefer a target class (Fischetti & Jo).
    Adversarial(adversarial),
    /// Input that maximises (or minimises) one unit: an output class or a hidden unit (Fischetti & Jo).
    Visualize(visualize),
    /// Exact minimum and maximum of one output over the box or an Linf ball around an image.
    Range(range),
    /// Compute bounds on every unit over an input box and write them to a JSON file (for --bounds-file).
    Bounds(bounds),
    /// Check a VNN-LIB property: MILP files per input box and/or a verdict (sat with a counterexample, unsat, ...).
    Verify(verify),
    /// Run every instance of a VNN-COMP instances.csv (resumable, shardable), or merge shard results.
    Batch(batch),
    /// Read a solver's solution file, replay its input through the network, check the model's rows and goal.
    Replay(replay),
    /// Write the network's exact MILP alone (zero objective) and an interface file, to embed it in your own model.
    Compile(compile),
}

/// What the command line can fail with.
#[derive(Debug, Error)]
pub enum CliError {
    /// A combination of flags that makes no sense, which clap's rules cannot express.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Task(#[from] TaskError),
}

impl CliError {
    /// The documented exit code: 2 for a bad command line, 1 for a failed task.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Task(_) => 1,
        }
    }
}

/// What the binary prints on success, and where.
pub struct Output {
    pub text: String,
    /// The model or the report went to stdout, so human text goes to stderr.
    pub to_stderr: bool,
}

impl Output {
    pub fn print(&self) -> std::io::Result<()> {
        if self.to_stderr {
            std::io::stderr().write_all(self.text.as_bytes())
        } else {
            std::io::stdout().write_all(self.text.as_bytes())
        }
    }
}

impl Cli {
    pub fn run(self) -> Result<Output, CliError> {
        crate::back::atomic::set_durable(self.fsync);
        self.command.run()
    }

    /// [`Cli::run`] on one of rayon's threads, the calling thread waiting: a task's serial
    /// steps and its parallel passes then share the pool's threads, one per core, instead of
    /// the calling thread running beside a pool as large as the machine (three threads on two
    /// cores, the pool's spinning for work in between the passes, and a wake-up of the calling
    /// thread at the end of each pass). The pool's threads get the main thread's usual stack
    /// (8 MiB), since every step of a task runs on them.
    pub fn run_in_pool(self) -> Result<Output, CliError> {
        // Fails only when the pool exists already (a caller that set it up): use that one.
        let _ = rayon::ThreadPoolBuilder::new().stack_size(8 << 20).build_global();
        rayon::scope(|_| self.run())
    }
}

/// Tunes glibc's allocator for this process; the `nnmilp` binary calls it first thing in `main`
/// (a library leaves the allocator to its program). A compile frees one phase's large buffers
/// (the file's bytes, the decoded tensors, the matrices) and then allocates the next phase's:
/// freed memory is kept for reuse instead of going back to the system, to be faulted in again
/// as fresh zeroed pages (allocations up to 32 MB come from the heap, which is never trimmed),
/// and there is one arena, so that what rayon's threads free is reused by every thread (with
/// an arena per thread, the parallel lowering left a dense net's run 25 MB larger). Measured
/// on 784-1024³-10: peak RSS 99 → 73 MB, the load and the lowering faster. A user who tunes
/// glibc's allocator (`GLIBC_TUNABLES`, `MALLOC_ARENA_MAX`: on a machine with many cores, for
/// a batch of parallel solves) is left alone, and so are other allocators than glibc's.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("GLIBC_TUNABLES").is_none() && std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: `mallopt` only sets allocator parameters (under glibc's own lock). A
        // refused value (an old glibc) leaves the default, which is only slower.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1);
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        }
    }
}
