//! The network IR: what every front end produces and every later pass reads.
//!
//! A [`Network`] is a DAG of [`Layer`]s over flat `f64` vectors. Front ends expand their
//! operators into five primitives — input, affine map, elementwise sum, ReLU and max over index
//! windows — so bounds and lowering never see format-specific operators. Tensor shapes are kept
//! only as labels (for pictures, reports and convolution builders); every value is the
//! row-major flattening of its shape.
//!
//! Invariants (checked when a [`Network`] is built, relied on everywhere after it):
//! - layers are in topological order: a layer only reads layers with a smaller handle;
//! - layer 0 is the only [`Op::Input`];
//! - sizes agree: an affine map's matrix is `size(layer) × size(input)`, its bias has
//!   `size(layer)` entries, a sum's inputs and a ReLU's input have the layer's size, every max
//!   window is non-empty and indexes inside its input;
//! - every weight and bias is finite.
//!
//! Validation returns facts as well as a verdict (naga's `ModuleInfo`): the [`NetworkInfo`]
//! (who reads each layer, the labels of generated names, unit counts) is computed once there
//! and kept with the network, so simplification, lowering, tightening and the tasks read it
//! instead of recomputing it.

mod eval;

mod simplify;

pub use eval::argmax;
mod sparse;

pub use sparse::{CsrBuilder, SparseMatrix};

use thiserror::Error;

/// Index of a layer in its [`Network`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle(u32);

impl Handle {
    pub fn index(self) -> usize {
        self.0 as usize
    }
    pub fn from_index(i: usize) -> Self {
        Handle(u32::try_from(i).expect("more than 2^32 layers"))
    }
}

/// One layer: an operation and the shape of the value it produces.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// Where the layer came from (the ONNX node name, or a generated one); for messages.
    pub name: String,
    pub op: Op,
    /// Shape label of the output (without a batch dimension where the source had one of 1).
    pub shape: Vec<usize>,
}

impl Layer {
    /// Number of scalar units: the product of the shape.
    pub fn size(&self) -> usize {
        self.shape.iter().product()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// The network's input vector.
    Input,
    /// `weights · input + bias`.
    Affine {
        input: Handle,
        weights: SparseMatrix,
        bias: Vec<f64>,
    },
    /// Elementwise sum of layers of equal size (residual connections, `Add` of two tensors).
    Sum { inputs: Vec<Handle> },
    /// Elementwise `max(0, input)`.
    Relu { input: Handle },
    /// Output `i` is the maximum of `input[w]` over `w` in `windows[i]` (max-pooling with any
    /// kernel, stride and padding: padded positions are simply absent from the window).
    MaxPool { input: Handle, windows: Vec<Vec<u32>> },
}

impl Op {
    /// The layers this op reads.
    pub fn inputs(&self) -> Vec<Handle> {
        match self {
            Op::Input => vec![],
            Op::Affine { input, .. } | Op::Relu { input } | Op::MaxPool { input, .. } => {
                vec![*input]
            }
            Op::Sum { inputs } => inputs.clone(),
        }
    }

    /// Short name for reports (`inspect`).
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Input => "input",
            Op::Affine { .. } => "affine",
            Op::Sum { .. } => "sum",
            Op::Relu { .. } => "relu",
            Op::MaxPool { .. } => "maxpool",
        }
    }
}

/// Violations of the IR invariants, naming the offending layer.
#[derive(Debug, Error, PartialEq)]
pub enum IrError {
    #[error("layer {index} ({name}): {message}")]
    Invalid {
        index: usize,
        name: String,
        message: String,
    },
    #[error("input has {got} values, the network expects {expected}")]
    InputSize { expected: usize, got: usize },
}

/// The first non-finite value of `values`, if any. Validation scans every weight of every
/// network built: blocks are tested without branching per value, so the scan runs at memory
/// speed, and only a block that fails is searched.
fn first_non_finite(values: &[f64]) -> Option<f64> {
    (values.chunks(256))
        .find(|block| !block.iter().fold(true, |ok, v| ok & v.is_finite()))
        .and_then(|block| block.iter().copied().find(|v| !v.is_finite()))
}

/// A validated feed-forward network.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    layers: Vec<Layer>,
    output: Handle,
    /// What validation found out about `layers`; always in step with them (both are private
    /// and only [`Network::new`] sets them).
    info: NetworkInfo,
}

/// Facts about a validated network, computed once by validation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NetworkInfo {
    /// Per layer, the layers that read it, in increasing order, each once.
    consumers: Vec<Vec<Handle>>,
    /// Per layer, the label of its generated column and row names: `Lk` for the k-th nonlinear
    /// layer (ReLU or max-pool, counted from 1 as the paper counts hidden layers), `Nh` (the
    /// handle) for the others.
    labels: Vec<String>,
    /// ReLU units and max-pool outputs: what becomes binaries before bounds.
    relu_units: usize,
    pool_units: usize,
}

impl NetworkInfo {
    fn of(layers: &[Layer]) -> Self {
        let mut info = NetworkInfo {
            consumers: vec![Vec::new(); layers.len()],
            labels: Vec::with_capacity(layers.len()),
            ..NetworkInfo::default()
        };
        let mut nonlinear = 0;
        for (h, layer) in layers.iter().enumerate() {
            for i in layer.op.inputs() {
                let readers = &mut info.consumers[i.index()];
                if readers.last() != Some(&Handle::from_index(h)) {
                    readers.push(Handle::from_index(h));
                }
            }
            match layer.op {
                Op::Relu { .. } | Op::MaxPool { .. } => {
                    nonlinear += 1;
                    info.labels.push(format!("L{nonlinear}"));
                }
                _ => info.labels.push(format!("N{h}")),
            }
            match layer.op {
                Op::Relu { .. } => info.relu_units += layer.size(),
                Op::MaxPool { .. } => info.pool_units += layer.size(),
                _ => {}
            }
        }
        info
    }

    /// The layers that read layer `h` (in increasing order).
    pub fn consumers(&self, h: Handle) -> &[Handle] {
        &self.consumers[h.index()]
    }

    /// The label of layer `h` in column and row names (`L2` in `x_L2_17`).
    pub fn label(&self, h: Handle) -> &str {
        &self.labels[h.index()]
    }

    /// Every layer's label, indexed by handle.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }
}

impl Network {
    /// Checks the invariants listed in the module docs and builds the network. `layers[0]` must
    /// be the input; `output` is the layer whose value the network returns.
    pub fn new(layers: Vec<Layer>, output: Handle) -> Result<Self, IrError> {
        let mut net = Network {
            layers,
            output,
            info: NetworkInfo::default(),
        };
        net.info = net.validate()?;
        Ok(net)
    }

    /// What validation found out about the network.
    pub fn info(&self) -> &NetworkInfo {
        &self.info
    }

    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }
    pub fn layer(&self, h: Handle) -> &Layer {
        &self.layers[h.index()]
    }
    pub fn handles(&self) -> impl Iterator<Item = Handle> {
        (0..self.layers.len()).map(Handle::from_index)
    }
    pub fn input(&self) -> Handle {
        Handle(0)
    }
    pub fn output(&self) -> Handle {
        self.output
    }
    pub fn input_size(&self) -> usize {
        self.layers[0].size()
    }
    pub fn output_size(&self) -> usize {
        self.layer(self.output).size()
    }

    /// Checks the invariants of the module docs and returns the facts later passes take.
    fn validate(&self) -> Result<NetworkInfo, IrError> {
        let bad = |i: usize, message: String| IrError::Invalid {
            index: i,
            name: self.layers.get(i).map(|l| l.name.clone()).unwrap_or_default(),
            message,
        };
        if self.layers.is_empty() || self.layers[0].op != Op::Input {
            return Err(bad(0, "the first layer must be the input".into()));
        }
        if self.output.index() >= self.layers.len() {
            return Err(bad(self.output.index(), "output handle out of range".into()));
        }
        for (i, layer) in self.layers.iter().enumerate() {
            let size = layer.size();
            if size == 0 {
                return Err(bad(i, format!("empty shape {:?}", layer.shape)));
            }
            for inp in layer.op.inputs() {
                if inp.index() >= i {
                    return Err(bad(
                        i,
                        format!("reads layer {} which does not come before it", inp.index()),
                    ));
                }
            }
            let in_size = |h: Handle| self.layers[h.index()].size();
            match &layer.op {
                Op::Input if i != 0 => return Err(bad(i, "a second input layer".into())),
                Op::Input => {}
                Op::Affine { input, weights, bias } => {
                    if weights.n_rows() != size || weights.n_cols() != in_size(*input) {
                        return Err(bad(
                            i,
                            format!(
                                "weight matrix is {}x{}, expected {}x{}",
                                weights.n_rows(),
                                weights.n_cols(),
                                size,
                                in_size(*input)
                            ),
                        ));
                    }
                    if bias.len() != size {
                        return Err(bad(i, format!("bias has {} entries, expected {size}", bias.len())));
                    }
                    if let Some(v) = first_non_finite(weights.values()).or(first_non_finite(bias)) {
                        return Err(bad(i, format!("non-finite weight {v}")));
                    }
                }
                Op::Sum { inputs } => {
                    if inputs.is_empty() {
                        return Err(bad(i, "sum of nothing".into()));
                    }
                    if let Some(h) = inputs.iter().find(|h| in_size(**h) != size) {
                        return Err(bad(
                            i,
                            format!("adds layer {} of size {} to size {size}", h.index(), in_size(*h)),
                        ));
                    }
                }
                Op::Relu { input } => {
                    if in_size(*input) != size {
                        return Err(bad(i, format!("relu of size {size} reads size {}", in_size(*input))));
                    }
                }
                Op::MaxPool { input, windows } => {
                    if windows.len() != size {
                        return Err(bad(i, format!("{} windows for {size} outputs", windows.len())));
                    }
                    let n = in_size(*input);
                    for w in windows {
                        if w.is_empty() || w.iter().any(|&k| k as usize >= n) {
                            return Err(bad(i, format!("max window {w:?} empty or outside input of size {n}")));
                        }
                    }
                }
            }
        }
        Ok(NetworkInfo::of(&self.layers))
    }

    /// Number of ReLU units and of max-pool outputs (what becomes binaries before bounds).
    pub fn count_units(&self) -> (usize, usize) {
        (self.info.relu_units, self.info.pool_units)
    }
}

/// A network read once, in layer order, by a pass that needs each layer's weights only while it
/// reads that layer: the lowering of a model that is only written, where the weight matrices
/// (for a dense net the largest allocation after the model itself) would otherwise stay alive
/// next to the rows made from them. [`Drain::release`] frees a layer's matrix and bias; every
/// layer keeps its op kind, inputs, shape and the [`NetworkInfo`], so structural questions can
/// still be asked of any layer. A released layer breaks the invariants of [`Network`], which is
/// why a drain never gives its network back: it is dropped with the drain.
pub struct Drain {
    net: Network,
}

impl Drain {
    pub fn new(net: Network) -> Self {
        Drain { net }
    }

    /// The network, whose layers not yet released are whole; a released layer has its op kind
    /// and inputs but no weights.
    pub fn network(&self) -> &Network {
        &self.net
    }

    /// Frees the weights and bias of layer `h` if it is affine (nothing else holds a
    /// per-weight payload).
    pub fn release(&mut self, h: Handle) {
        if let Op::Affine { weights, bias, .. } = &mut self.net.layers[h.index()].op {
            *weights = SparseMatrix::empty();
            *bias = Vec::new();
        }
    }
}
