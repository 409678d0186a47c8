//! `SiLU`: the sigmoid-weighted linear unit.

use super::activation::Activation;
use super::{Entry, Init, LayerKind};
use crate::ast::LayerDecl;

pub const ENTRY: Entry = Entry { name: "SiLU", usage: "SiLU", parse };

fn parse(decl: &LayerDecl) -> syn::Result<Box<dyn LayerKind>> {
    Activation { name: "SiLU", init_before: Init::He, softmax: false }.parse(decl)
}
