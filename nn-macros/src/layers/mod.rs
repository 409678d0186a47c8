//! The layer kinds the DSL knows: one file each, with its name, arguments, usage, its one shape
//! rule and the runtime type it expands to. The known-layer list, typo suggestions and the
//! generated code all derive from [`TABLE`].

mod activation;
mod avg_pool2d;
mod batch_norm;
mod conv2d;
mod dropout;
mod flatten;
mod leaky_relu;
mod linear;
mod max_pool2d;
mod normalize;
mod pool;
mod relu;
mod sigmoid;
mod silu;
mod softmax;
mod tanh;

use crate::ast::{LayerDecl, Shape};
use proc_macro2::TokenStream;

/// One kind of layer the DSL knows.
pub struct Entry {
    /// The name written in the DSL: `Linear`.
    pub name: &'static str,
    /// How it is written, for error messages: `Linear(in, out)`.
    pub usage: &'static str,
    /// Validates the arguments of a declaration of this kind.
    pub parse: fn(&LayerDecl) -> syn::Result<Box<dyn LayerKind>>,
}

/// Every layer kind, in the order error messages list them.
pub const TABLE: &[Entry] = &[
    linear::ENTRY,
    conv2d::ENTRY,
    max_pool2d::ENTRY,
    avg_pool2d::ENTRY,
    flatten::ENTRY,
    dropout::ENTRY,
    batch_norm::ENTRY_1D,
    batch_norm::ENTRY_2D,
    normalize::ENTRY,
    sigmoid::ENTRY,
    relu::ENTRY,
    leaky_relu::ENTRY,
    tanh::ENTRY,
    silu::ENTRY,
    softmax::ENTRY,
];

/// The initialisation a layer with weights gets, chosen by the layer after it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// Glorot/Xavier uniform: for sigmoid, tanh, softmax and linear outputs.
    Xavier,
    /// He/Kaiming uniform: for rectifiers.
    He,
}

impl Init {
    /// The runtime's scheme: `::nn::__private::Init::He`.
    pub fn tokens(self, runtime: &TokenStream) -> TokenStream {
        match self {
            Init::He => quote::quote!(#runtime::Init::He),
            Init::Xavier => quote::quote!(#runtime::Init::Xavier),
        }
    }
}

/// Where a layer sits, as its expansion needs to know.
pub struct Site<'a> {
    /// The path of the runtime's hidden module (`::nn::__private`).
    pub runtime: &'a TokenStream,
    /// Whether the layer reads the network's input.
    pub first: bool,
    /// The shape of its input.
    pub input: &'a Shape,
    /// The shape of its output.
    pub output: &'a Shape,
}

/// A declared layer whose arguments were validated.
pub trait LayerKind {
    /// How it is written in an architecture string: `Linear(784, 100)`.
    fn describe(&self) -> String;

    /// The input shape this layer fixes by itself, which lets it start a network.
    fn input_shape(&self) -> Option<Shape> {
        None
    }

    /// The layer's one shape rule: its output shape for `input`, or an error spanned at the
    /// offending token that shows the computed shapes.
    fn output_shape(&self, input: &Shape) -> syn::Result<Shape>;

    /// The number of trainable parameters.
    fn parameters(&self) -> usize {
        0
    }

    /// The runtime type: `::nn::__private::Linear<784usize, 100usize>`.
    fn runtime_type(&self, site: &Site) -> TokenStream;

    /// An expression building the layer with fresh parameters from `rng`, initialised as `init`.
    fn init(&self, site: &Site, init: Init) -> TokenStream;

    /// An expression building the layer with all parameters zero.
    fn zeroed(&self, site: &Site) -> TokenStream;

    /// The initialisation this layer asks of a layer with weights just before it.
    fn init_before(&self) -> Init {
        Init::Xavier
    }

    /// Whether the layer turns its input into a probability distribution.
    fn is_softmax(&self) -> bool {
        false
    }

    /// Whether the layer is the rectifier, `ReLU`.
    fn is_relu(&self) -> bool {
        false
    }

    /// Whether the layer is a max pooling whose windows do not overlap, which a layer that
    /// fuses a `ReLU` can apply too (`FusedReLUMaxPool`).
    fn is_fusable_max_pool(&self) -> bool {
        false
    }

    /// Whether the runtime type applies a `ReLU` after it itself (`FusedReLU`), so that a
    /// `ReLU` right after it is expanded as part of it.
    fn fuses_relu(&self) -> bool {
        false
    }
}

/// The table entry named `name`.
pub fn lookup(name: &str) -> Option<&'static Entry> {
    TABLE.iter().find(|entry| entry.name == name)
}

/// How every known layer is written, for error messages.
pub fn known_layers() -> String {
    let usages: Vec<&str> = TABLE.iter().map(|entry| entry.usage).collect();
    usages.join(", ")
}

/// The known layer name nearest to `name`, if any is near enough to be a likely typo.
pub fn closest(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase();
    TABLE
        .iter()
        .map(|entry| (entry.name, strsim::levenshtein(&lower, &entry.name.to_lowercase())))
        .filter(|(known, distance)| *distance <= 2.max(known.len() / 3))
        .min_by_key(|(_, distance)| *distance)
        .map(|(known, _)| known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_suggest_the_nearest_layer() {
        assert_eq!(closest("Sigmod"), Some("Sigmoid"));
        assert_eq!(closest("relu"), Some("ReLU"));
        assert_eq!(closest("Liner"), Some("Linear"));
        assert_eq!(closest("LeakyRelu"), Some("LeakyReLU"));
        assert_eq!(closest("silu"), Some("SiLU"));
        assert_eq!(closest("Convolution"), None);
    }

    #[test]
    fn every_name_is_listed_once() {
        for entry in TABLE {
            assert_eq!(TABLE.iter().filter(|other| other.name == entry.name).count(), 1, "{}", entry.name);
            assert!(entry.usage.starts_with(entry.name), "{}", entry.usage);
        }
    }
}
