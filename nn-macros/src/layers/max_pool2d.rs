//! `MaxPool2d(kernel, stride = s)`: the maximum of each window.

use super::pool::Pool;
use super::{Entry, LayerKind};
use crate::ast::LayerDecl;

pub const ENTRY: Entry = Entry { name: "MaxPool2d", usage: "MaxPool2d(kernel, stride = kernel)", parse };

fn parse(decl: &LayerDecl) -> syn::Result<Box<dyn LayerKind>> {
    Pool::parse("MaxPool2d", decl)
}
