//! `Sigmoid`: the logistic function.

use super::activation::Activation;
use super::{Entry, Init, LayerKind};
use crate::ast::LayerDecl;

pub const ENTRY: Entry = Entry { name: "Sigmoid", usage: "Sigmoid", parse };

fn parse(decl: &LayerDecl) -> syn::Result<Box<dyn LayerKind>> {
    Activation { name: "Sigmoid", init_before: Init::Xavier, softmax: false }.parse(decl)
}
