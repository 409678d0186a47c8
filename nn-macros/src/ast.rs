//! The model of a `network!` invocation, keeping the user's tokens for error spans.

use crate::layers::LayerKind;
use proc_macro2::{Span, TokenStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Ident, Token, Visibility};

/// Everything inside one `network! { ... }`.
pub struct Input {
    /// The path of the facade crate (`$crate` of the `network!` wrapper).
    pub krate: TokenStream,
    /// The networks declared, in order.
    pub networks: Vec<NetworkDecl>,
}

/// `#[attrs] vis struct Name { body }`, with the body not yet parsed, so that a malformed layer
/// list still leaves a declared struct to emit.
pub struct NetworkDecl {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    pub body: TokenStream,
    /// The span of the braces, for errors about the body as a whole.
    pub body_span: Span,
}

/// One layer as written: `Name` or `Name(arg, ...)`.
pub struct LayerDecl {
    pub name: Ident,
    pub args: Option<LayerArgs>,
}

/// The parenthesised arguments of a layer.
pub struct LayerArgs {
    pub span: Span,
    pub values: Punctuated<Expr, Token![,]>,
}

impl LayerDecl {
    /// The span of the argument list, or of the name when there is none.
    pub fn args_span(&self) -> Span {
        self.args.as_ref().map_or(self.name.span(), |args| args.span)
    }
}

/// A shape: a list of dimensions, `[784]` or `[1, 28, 28]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape(pub Vec<usize>);

impl Shape {
    /// The number of values in a tensor of this shape.
    pub fn len(&self) -> usize {
        self.0.iter().product()
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dims: Vec<String> = self.0.iter().map(usize::to_string).collect();
        write!(f, "[{}]", dims.join(", "))
    }
}

/// A layer with its position and shapes, ready for code generation.
pub struct Layer {
    /// The position in the network, counting activations (PyTorch `nn.Sequential` numbering).
    pub index: usize,
    pub kind: Box<dyn LayerKind>,
    pub input: Shape,
    pub output: Shape,
    /// Where the layer was written, for spans in the generated code.
    pub span: Span,
}

/// A network that passed every check.
pub struct Model {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    pub layers: Vec<Layer>,
}

impl Model {
    pub fn input(&self) -> &Shape {
        &self.layers[0].input
    }

    pub fn output(&self) -> &Shape {
        &self.layers[self.layers.len() - 1].output
    }

    pub fn parameters(&self) -> usize {
        self.layers.iter().map(|layer| layer.kind.parameters()).sum()
    }

    pub fn last(&self) -> &Layer {
        &self.layers[self.layers.len() - 1]
    }

    pub fn architecture(&self) -> String {
        let layers: Vec<String> = self.layers.iter().map(|layer| layer.kind.describe()).collect();
        layers.join(" -> ")
    }
}
