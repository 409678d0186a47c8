//! Validation and shape inference. Every problem of a network is reported in one pass.

use crate::ast::{Layer, LayerDecl, LayerKind, Model, NetworkDecl, Shape};
use quote::ToTokens;
use syn::{Error, Expr, Lit, UnOp};

/// The layers the DSL knows, with how each is written.
const KNOWN_LAYERS: [(&str, &str); 6] = [
    ("Linear", "Linear(in, out)"),
    ("Sigmoid", "Sigmoid"),
    ("ReLU", "ReLU"),
    ("LeakyReLU", "LeakyReLU or LeakyReLU(slope)"),
    ("Tanh", "Tanh"),
    ("Softmax", "Softmax"),
];

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
    // `None` once a layer's shape is unknown because of an earlier error; later layers are
    // still checked for everything that does not depend on it.
    let mut current: Option<Shape> = None;
    for (index, layer) in layers.iter().enumerate() {
        let kind = errors.keep(resolve_kind(layer));
        let input = if index == 0 { kind.as_ref().and_then(fixed_input) } else { current.clone() };
        let output = match &kind {
            Some(kind) => errors.keep(output_shape(kind, layer, index, input.as_ref())).flatten(),
            None => None,
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

/// The input shape a layer fixes by itself, which lets it start a network.
fn fixed_input(kind: &LayerKind) -> Option<Shape> {
    match kind {
        LayerKind::Linear { inputs, .. } => Some(Shape(vec![*inputs])),
        _ => None,
    }
}

/// The shape rule of each layer: its output shape for `input`, or a spanned error.
/// Returns `Ok(None)` when the output cannot be known because the input is unknown.
fn output_shape(
    kind: &LayerKind,
    layer: &LayerDecl,
    index: usize,
    input: Option<&Shape>,
) -> syn::Result<Option<Shape>> {
    match kind {
        LayerKind::Linear { inputs, outputs } => {
            if let Some(input) = input {
                if input.len() != *inputs {
                    let message = format!(
                        "expected {} inputs: the previous layer outputs {} (shape {input}), but this Linear takes {inputs}",
                        input.len(),
                        input.len(),
                    );
                    return Err(Error::new_spanned(first_arg(layer), message));
                }
            }
            Ok(Some(Shape(vec![*outputs])))
        }
        _ if index == 0 => Err(Error::new(
            layer.name.span(),
            format!(
                "a network cannot start with `{}`: it does not fix the input size; start with a layer that does, like `Linear(784, 100)`",
                layer.name
            ),
        )),
        _ => Ok(input.cloned()),
    }
}

/// The layer's name and arguments, validated.
fn resolve_kind(layer: &LayerDecl) -> syn::Result<LayerKind> {
    let name = layer.name.to_string();
    let activation = |kind: LayerKind| match layer.args {
        None => Ok(kind),
        Some(ref args) => Err(Error::new(args.span, format!("`{name}` takes no arguments; write `{name}`"))),
    };
    match name.as_str() {
        "Linear" => {
            let [inputs, outputs] = expect_args::<2>(layer, "(inputs, outputs), like `Linear(784, 100)`")?;
            let (inputs, outputs) = (size(inputs), size(outputs));
            // Report both arguments' problems, not just the first.
            match (inputs, outputs) {
                (Ok(inputs), Ok(outputs)) => Ok(LayerKind::Linear { inputs, outputs }),
                (Err(mut a), Err(b)) => {
                    a.combine(b);
                    Err(a)
                }
                (Err(error), _) | (_, Err(error)) => Err(error),
            }
        }
        "LeakyReLU" => match layer.arg_count() {
            0 if layer.args.is_none() => Ok(LayerKind::LeakyReLU { slope: 0.01 }),
            _ => {
                let [slope] =
                    expect_args::<1>(layer, "(the negative slope), like `LeakyReLU(0.2)`, or none for slope 0.01")?;
                Ok(LayerKind::LeakyReLU { slope: number(slope)? })
            }
        },
        "Sigmoid" => activation(LayerKind::Sigmoid),
        "ReLU" => activation(LayerKind::ReLU),
        "Tanh" => activation(LayerKind::Tanh),
        "Softmax" => activation(LayerKind::Softmax),
        _ => Err(Error::new(layer.name.span(), unknown_layer_message(&name))),
    }
}

fn unknown_layer_message(name: &str) -> String {
    let known: Vec<&str> = KNOWN_LAYERS.iter().map(|(_, written)| *written).collect();
    let suggestion = closest_layer(name).map_or(String::new(), |closest| format!("did you mean `{closest}`? "));
    format!("unknown layer `{name}`; {suggestion}the known layers are {}", known.join(", "))
}

/// The known layer name nearest to `name`, if any is near enough to be a likely typo.
fn closest_layer(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase();
    KNOWN_LAYERS
        .iter()
        .map(|(known, _)| (*known, strsim::levenshtein(&lower, &known.to_lowercase())))
        .filter(|(known, distance)| *distance <= 2.max(known.len() / 3))
        .min_by_key(|(_, distance)| *distance)
        .map(|(known, _)| known)
}

fn expect_args<'a, const N: usize>(layer: &'a LayerDecl, usage: &str) -> syn::Result<[&'a Expr; N]> {
    let found: Vec<&Expr> = layer.args.iter().flat_map(|args| args.values.iter()).collect();
    found.try_into().map_err(|found: Vec<&Expr>| {
        let plural = if N == 1 { "argument" } else { "arguments" };
        Error::new(layer.args_span(), format!("`{}` takes {N} {plural} {usage}; found {}", layer.name, found.len()))
    })
}

fn first_arg(layer: &LayerDecl) -> proc_macro2::TokenStream {
    match layer.args.as_ref().and_then(|args| args.values.first()) {
        Some(arg) => arg.to_token_stream(),
        None => layer.name.to_token_stream(),
    }
}

/// A layer size: a positive integer literal.
fn size(expr: &Expr) -> syn::Result<usize> {
    let expected = || {
        Error::new_spanned(
            expr,
            format!("expected a layer size (a positive integer literal), found `{}`", expr.to_token_stream()),
        )
    };
    let Expr::Lit(syn::ExprLit { lit: Lit::Int(literal), .. }) = expr else {
        return Err(expected());
    };
    if !literal.suffix().is_empty() && literal.suffix() != "usize" {
        return Err(expected());
    }
    let value: usize = literal.base10_parse().map_err(|_| expected())?;
    if value == 0 {
        return Err(Error::new_spanned(expr, "a layer size must be at least 1, found 0"));
    }
    Ok(value)
}

/// A real number: an integer or float literal, possibly negated.
fn number(expr: &Expr) -> syn::Result<f32> {
    let expected =
        || Error::new_spanned(expr, format!("expected a number, like `0.2`, found `{}`", expr.to_token_stream()));
    let (negative, literal) = match expr {
        Expr::Unary(syn::ExprUnary { op: UnOp::Neg(_), expr, .. }) => (true, expr.as_ref()),
        other => (false, other),
    };
    let value: f32 = match literal {
        Expr::Lit(syn::ExprLit { lit: Lit::Float(float), .. }) => float.base10_parse().map_err(|_| expected())?,
        Expr::Lit(syn::ExprLit { lit: Lit::Int(int), .. }) => int.base10_parse().map_err(|_| expected())?,
        _ => return Err(expected()),
    };
    if !value.is_finite() {
        return Err(expected());
    }
    Ok(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_suggest_the_nearest_layer() {
        assert_eq!(closest_layer("Sigmod"), Some("Sigmoid"));
        assert_eq!(closest_layer("relu"), Some("ReLU"));
        assert_eq!(closest_layer("Liner"), Some("Linear"));
        assert_eq!(closest_layer("LeakyRelu"), Some("LeakyReLU"));
        assert_eq!(closest_layer("Convolution"), None);
    }
}
