//! `Softmax`: softmax over each sample.

use super::activation::Activation;
use super::{Entry, Init, LayerKind};
use crate::ast::LayerDecl;

pub const ENTRY: Entry = Entry { name: "Softmax", usage: "Softmax", parse };

fn parse(decl: &LayerDecl) -> syn::Result<Box<dyn LayerKind>> {
    Activation { name: "Softmax", init_before: Init::Xavier, softmax: true }.parse(decl)
}
