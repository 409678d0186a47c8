//! `Tanh`: the hyperbolic tangent.

use super::activation::Activation;
use super::{Entry, Init, LayerKind};
use crate::ast::LayerDecl;

pub const ENTRY: Entry = Entry { name: "Tanh", usage: "Tanh", parse };

fn parse(decl: &LayerDecl) -> syn::Result<Box<dyn LayerKind>> {
    Activation { name: "Tanh", init_before: Init::Xavier, softmax: false }.parse(decl)
}
