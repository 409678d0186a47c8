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
    /// The declared input shape, `: [1, 28, 28]`, if any.
    pub input: Option<InputShape>,
    pub body: TokenStream,
    /// The span of the braces, for errors about the body as a whole.
    pub body_span: Span,
}

/// `[1, 28, 28]` after a network's name: the shape of one input, channel-major like PyTorch.
pub struct InputShape {
    pub span: Span,
    pub dims: Punctuated<Expr, Token![,]>,
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

/// A shape: a list of dimensions, `[784]` or `[1, 28, 28]`, and, when a layer reshaped it, how
/// (`Flatten produces 32 x 13 x 13 = 5408`), for the errors of the next layer.
#[derive(Clone, Debug, Default)]
pub struct Shape(pub Vec<usize>, pub Option<String>);

impl PartialEq for Shape {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for Shape {}

impl Shape {
    /// The number of values in a tensor of this shape.
    pub fn len(&self) -> usize {
        self.0.iter().product()
    }
}

impl Shape {
    /// The number of values written as the product of the dimensions: `32 x 13 x 13 = 5408`,
    /// or `784` for one dimension.
    pub fn product(&self) -> String {
        let dims: Vec<String> = self.0.iter().map(usize::to_string).collect();
        match self.0.len() {
            1 => dims[0].clone(),
            _ => format!("{} = {}", dims.join(" x "), self.len()),
        }
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
