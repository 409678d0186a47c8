//! `Dropout(p)` or `Dropout` (p = 0.5): inverted dropout in train mode, the identity in eval.

use super::{Entry, Init, LayerKind, Site};
use crate::args;
use crate::ast::{LayerDecl, Shape};
use proc_macro2::TokenStream;
use quote::quote;
use syn::Error;

pub const ENTRY: Entry = Entry { name: "Dropout", usage: "Dropout(p) or Dropout (p = 0.5)", parse };

/// PyTorch's default probability.
const DEFAULT_P: f32 = 0.5;

struct Dropout {
    p: f32,
}

fn parse(decl: &LayerDecl) -> syn::Result<Box<dyn LayerKind>> {
    let p = match decl.args {
        None => DEFAULT_P,
        Some(_) => {
            let [p] = args::exactly::<1>(decl, "(the probability of zeroing a value), like `Dropout(0.25)`")?;
            let value = args::number(p)?;
            if !(0.0..1.0).contains(&value) {
                return Err(Error::new_spanned(p, format!("a dropout probability is in [0, 1), found {value}")));
            }
            value
        }
    };
    Ok(Box::new(Dropout { p }))
}

impl LayerKind for Dropout {
    fn describe(&self) -> String {
        format!("Dropout({:?})", self.p)
    }

    fn output_shape(&self, input: &Shape) -> syn::Result<Shape> {
        Ok(input.clone())
    }

    fn runtime_type(&self, site: &Site) -> TokenStream {
        let runtime = site.runtime;
        quote!(#runtime::Dropout)
    }

    fn init(&self, site: &Site, _init: Init) -> TokenStream {
        self.zeroed(site)
    }

    fn zeroed(&self, site: &Site) -> TokenStream {
        let (runtime, p) = (site.runtime, proc_macro2::Literal::f32_suffixed(self.p));
        quote!(#runtime::Dropout { p: #p })
    }
}
