//! The engine of the digit-drawing page (`web/page/`): two networks trained by the project's
//! examples, embedded in the module, and the preprocessing that turns a drawing into the input
//! MNIST would have made of it. `bash web/build.sh` compiles it to WebAssembly.
//!
//! The module exports plain `extern "C"` functions rather than going through `wasm-bindgen`:
//! the page only moves arrays of bytes and floats, which it reads and writes in the module's
//! memory directly, so the build needs nothing beyond `cargo` and the `wasm32-unknown-unknown`
//! target (no generated glue, no second tool to install and keep in step with a crate). The
//! page writes the canvas's ink into [`ink`]'s buffer, calls [`predict`], and reads
//! [`probabilities`] and [`input`]; no prediction allocates.
//!
//! The networks are the examples' own: `examples/mnist.rs --model relu-ce` and
//! `examples/mnist_cnn.rs --model lenet --augment` (see `web/README.md` for the commands that trained the
//! files in `web/models/`).

pub mod drawing;

use drawing::{mnist_input, Input};
use nn::prelude::*;
use std::sync::OnceLock;

nn::network! {
    /// 784-100-10 with ReLU, trained on logits: `examples/mnist.rs --model relu-ce`.
    pub struct Mlp {
        Linear(784, 100) -> ReLU -> Linear(100, 10)
    }

    /// LeNet-5: `examples/mnist_cnn.rs --model lenet --augment`.
    pub struct LeNet: [1, 28, 28] {
        Conv2d(1, 6, 5) -> ReLU -> MaxPool2d(2) -> Conv2d(6, 16, 5) -> ReLU -> MaxPool2d(2) -> Flatten
            -> Linear(16 * 4 * 4, 120) -> ReLU -> Linear(120, 84) -> ReLU -> Linear(84, 10)
    }
}

/// The side of the page's drawing canvas, in canvas pixels.
pub const CANVAS: usize = 280;

/// Which network predicts: the page's switch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// [`Mlp`].
    Mlp,
    /// [`LeNet`].
    LeNet,
}

impl Model {
    /// The model the page numbers `number` (0 the MLP, 1 LeNet, anything else the MLP).
    ///
    /// ```
    /// assert_eq!(nn_web::Model::from_number(1), nn_web::Model::LeNet);
    /// ```
    pub fn from_number(number: u32) -> Model {
        if number == 1 {
            Model::LeNet
        } else {
            Model::Mlp
        }
    }
}

/// The two trained networks, read once from the bytes embedded in the module.
#[derive(Debug)]
pub struct Engine {
    mlp: Mlp,
    lenet: Box<LeNet>,
}

impl Engine {
    /// The networks of `web/models/`.
    ///
    /// ```
    /// let engine = nn_web::Engine::embedded();
    /// let probabilities = engine.probabilities(nn_web::Model::LeNet, &[0.0; 784]);
    /// assert!((probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    /// ```
    ///
    /// # Panics
    /// If an embedded file does not hold its network (a build with a file of another model).
    pub fn embedded() -> Engine {
        let mlp = Mlp::from_bytes(include_bytes!("../models/mlp.nn")).expect("web/models/mlp.nn holds the MLP");
        let lenet = LeNet::from_bytes(include_bytes!("../models/lenet.nn")).expect("web/models/lenet.nn holds LeNet");
        Engine { mlp, lenet: Box::new(lenet) }
    }

    /// The probability of each digit for a 28x28 `input`.
    pub fn probabilities(&self, model: Model, input: &Input) -> [f32; 10] {
        match model {
            Model::Mlp => self.mlp.predict_proba(input),
            Model::LeNet => self.lenet.predict_proba(input),
        }
    }
}

/// The most likely digit of `probabilities` (the first of equals).
///
/// ```
/// assert_eq!(nn_web::most_likely(&[0.1, 0.7, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]), 1);
/// ```
pub fn most_likely(probabilities: &[f32; 10]) -> usize {
    argmax(probabilities)
}

/// What the page reads and writes between calls: the canvas's ink, and what the last
/// prediction saw and said.
struct Page {
    ink: [u8; CANVAS * CANVAS],
    input: Input,
    probabilities: [f32; 10],
}

/// The page's buffers. The module runs on the page's one thread (`wasm32-unknown-unknown`
/// without atomics has no other), and the page touches the buffers only between calls.
struct PageCell(std::cell::UnsafeCell<Page>);

// SAFETY: every access goes through the exported functions, called one at a time by the page's
// single thread; natively (tests) nothing calls them from two threads.
unsafe impl Sync for PageCell {}

static PAGE: PageCell = PageCell(std::cell::UnsafeCell::new(Page {
    ink: [0; CANVAS * CANVAS],
    input: [0.0; 784],
    probabilities: [0.0; 10],
}));

static ENGINE: OnceLock<Engine> = OnceLock::new();

/// The canvas's ink, `CANVAS x CANVAS` bytes row-major (0 for paper, 255 for full ink), for the
/// page to fill before [`predict`].
#[no_mangle]
pub extern "C" fn ink() -> *mut u8 {
    // SAFETY: a pointer to the buffer, not a reference: the page writes through it between calls.
    unsafe { (*PAGE.0.get()).ink.as_mut_ptr() }
}

/// The 28x28 input of the last prediction (784 floats, 0 to 1), for the page to show.
#[no_mangle]
pub extern "C" fn input() -> *const f32 {
    // SAFETY: as for `ink`.
    unsafe { (*PAGE.0.get()).input.as_ptr() }
}

/// The ten probabilities of the last prediction.
#[no_mangle]
pub extern "C" fn probabilities() -> *const f32 {
    // SAFETY: as for `ink`.
    unsafe { (*PAGE.0.get()).probabilities.as_ptr() }
}

/// Predicts the digit drawn in [`ink`] with model `model` (0 the MLP, 1 LeNet): fills
/// [`input`] and [`probabilities`] and returns the most likely digit, or 10 for a blank canvas
/// (whose probabilities are all 0). The first call reads the networks; no call allocates after.
#[no_mangle]
pub extern "C" fn predict(model: u32) -> u32 {
    let engine = ENGINE.get_or_init(Engine::embedded);
    // SAFETY: the page is not touching the buffers during the call (see `PageCell`).
    let page = unsafe { &mut *PAGE.0.get() };
    page.input = mnist_input(&page.ink, CANVAS, CANVAS);
    if page.input.iter().all(|&value| value == 0.0) {
        page.probabilities = [0.0; 10];
        return 10;
    }
    page.probabilities = engine.probabilities(Model::from_number(model), &page.input);
    most_likely(&page.probabilities) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_networks_read_mnist_digits() {
        let engine = Engine::embedded();
        let mnist = Mnist::embedded().expect("the embedded sample");
        for model in [Model::Mlp, Model::LeNet] {
            let correct = mnist
                .test
                .inputs
                .iter()
                .zip(&mnist.test.targets)
                .filter(|(image, &label)| most_likely(&engine.probabilities(model, image)) == usize::from(label))
                .count();
            assert!(correct >= 960, "{model:?}: {correct} of 1000");
        }
    }

    #[test]
    fn the_exports_predict_a_drawn_digit_and_a_blank_canvas() {
        let mnist = Mnist::embedded().expect("the embedded sample");
        let (digit, label) = (&mnist.test.inputs[0], mnist.test.targets[0]);
        // SAFETY: the tests in this module are the only callers, and only this one writes.
        let ink = unsafe { std::slice::from_raw_parts_mut(ink(), CANVAS * CANVAS) };
        ink.fill(0);
        assert_eq!(predict(0), 10);
        for (i, value) in digit.iter().enumerate() {
            for y in 0..10 {
                let start = ((i / 28) * 10 + y) * CANVAS + (i % 28) * 10;
                ink[start..start + 10].fill((value * 255.0).round() as u8);
            }
        }
        for model in [0, 1] {
            assert_eq!(predict(model), u32::from(label));
            // SAFETY: as above; `predict` has returned.
            let probabilities = unsafe { std::slice::from_raw_parts(probabilities(), 10) };
            assert!((probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
    }
}
