//! `AvgPool2d(kernel, stride = s)`: the mean of each window.

use super::pool::Pool;
use super::{Entry, LayerKind};
use crate::ast::LayerDecl;

pub const ENTRY: Entry = Entry { name: "AvgPool2d", usage: "AvgPool2d(kernel, stride = kernel)", parse };

fn parse(decl: &LayerDecl) -> syn::Result<Box<dyn LayerKind>> {
    Pool::parse("AvgPool2d", decl)
}
