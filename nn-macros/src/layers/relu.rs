//! `ReLU`: the rectifier.

use super::activation::Activation;
use super::{Entry, Init, LayerKind};
use crate::ast::LayerDecl;

pub const ENTRY: Entry = Entry { name: "ReLU", usage: "ReLU", parse };

fn parse(decl: &LayerDecl) -> syn::Result<Box<dyn LayerKind>> {
    Activation { name: "ReLU", init_before: Init::He, softmax: false }.parse(decl)
}
