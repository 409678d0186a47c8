//! Validation and shape inference. Every problem of a network is reported in one pass.

use crate::args;
use crate::ast::{InputShape, Layer, LayerDecl, Model, NetworkDecl, Shape};
use crate::layers::{self, LayerKind};
use syn::Error;

/// Errors collected over one pass, combined into one `syn::Error` at the end.
#[derive(Default)]
struct Errors(Option<Error>);

impl Errors {
    fn push(&mut self, error: Error) {
        match &mut self.0 {
            Some(errors) => errors.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn keep<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|error| self.push(error)).ok()
    }
}

/// Checks the layers of `decl` and infers every shape.
pub fn check(decl: &NetworkDecl, layers: Vec<LayerDecl>) -> syn::Result<Model> {
    let mut errors = Errors::default();
    if layers.is_empty() {
        return Err(Error::new(
            decl.body_span,
            format!(
                "the network `{}` has no layers: expected a model like `Linear(784, 100) -> ReLU -> Linear(100, 10)`",
                decl.name
            ),
        ));
    }
    let mut checked = Vec::with_capacity(layers.len());
    let declared = decl.input.as_ref().map(|shape| errors.keep(input_shape(shape)));
    // `None` once a layer's shape is unknown because of an earlier error; later layers are
    // still checked for everything that does not depend on it.
    let mut current: Option<Shape> = declared.clone().flatten();
    for (index, layer) in layers.iter().enumerate() {
        let kind = errors.keep(resolve_kind(layer));
        let input = match (index, &kind, &declared) {
            (0, Some(kind), None) => errors.keep(starting_shape(kind.as_ref(), layer)),
            _ => current.clone(),
        };
        let output = match (&kind, &input) {
            (Some(kind), Some(input)) => errors.keep(kind.output_shape(input)),
            _ => None,
        };
        if let (Some(kind), Some(input), Some(output)) = (kind, input, &output) {
            checked.push(Layer { index, kind, input, output: output.clone(), span: layer.name.span() });
        }
        current = output;
    }
    match errors.0 {
        Some(error) => Err(error),
        None => {
            Ok(Model { attrs: decl.attrs.clone(), vis: decl.vis.clone(), name: decl.name.clone(), layers: checked })
        }
    }
}

/// The declared input shape: at least one dimension, each a size.
fn input_shape(shape: &InputShape) -> syn::Result<Shape> {
    if shape.dims.is_empty() {
        return Err(Error::new(shape.span, "an input shape has at least one dimension, like `[784]` or `[1, 28, 28]`"));
    }
    let mut errors = Errors::default();
    let dims: Vec<usize> = shape.dims.iter().filter_map(|dim| errors.keep(args::size(dim))).collect();
    match errors.0 {
        Some(error) => Err(error),
        None => Ok(Shape(dims, None)),
    }
}

/// The input shape of a network's first layer, which must fix it by itself when the network
/// declares none.
fn starting_shape(kind: &dyn LayerKind, layer: &LayerDecl) -> syn::Result<Shape> {
    kind.input_shape().ok_or_else(|| {
        Error::new(
            layer.name.span(),
            format!(
                "a network cannot start with `{}`: it does not fix the input size; declare the input shape, like `struct Net: [1, 28, 28] {{ ... }}`, or start with a layer that fixes it, like `Linear(784, 100)`",
                layer.name
            ),
        )
    })
}

/// The layer's kind from the table, with its arguments validated.
fn resolve_kind(layer: &LayerDecl) -> syn::Result<Box<dyn LayerKind>> {
    let name = layer.name.to_string();
    match layers::lookup(&name) {
        Some(entry) => (entry.parse)(layer),
        None => Err(Error::new(layer.name.span(), unknown_layer_message(&name))),
    }
}

fn unknown_layer_message(name: &str) -> String {
    let suggestion = layers::closest(name).map_or(String::new(), |closest| format!("did you mean `{closest}`? "));
    format!("unknown layer `{name}`; {suggestion}the known layers are {}", layers::known_layers())
}
