//! `Normalize(values)`: a fitted shift and scale per value, preprocessing saved with the network.

use super::{Entry, Init, LayerKind, Site};
use crate::args;
use crate::ast::{LayerDecl, Shape};
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::Error;

pub const ENTRY: Entry = Entry { name: "Normalize", usage: "Normalize(values)", parse };

struct Normalize {
    values: usize,
    values_token: TokenStream,
}

fn parse(decl: &LayerDecl) -> syn::Result<Box<dyn LayerKind>> {
    let [values] = args::exactly::<1>(decl, "(the number of input values), like `Normalize(4)`")?;
    Ok(Box::new(Normalize { values: args::size(values)?, values_token: values.to_token_stream() }))
}

impl LayerKind for Normalize {
    fn describe(&self) -> String {
        format!("Normalize({})", self.values)
    }

    /// First in a network without a declared shape: a flat input of that many values.
    fn input_shape(&self) -> Option<Shape> {
        Some(Shape(vec![self.values], None))
    }

    /// Any shape, as long as it holds as many values as the layer normalizes.
    fn output_shape(&self, input: &Shape) -> syn::Result<Shape> {
        let found = input.len();
        if found != self.values {
            let message = format!(
                "expected {found} values: the previous layer outputs shape {input}, but this Normalize takes {}",
                self.values
            );
            return Err(Error::new_spanned(&self.values_token, message));
        }
        Ok(input.clone())
    }

    fn runtime_type(&self, site: &Site) -> TokenStream {
        let (runtime, values) = (site.runtime, self.values);
        quote!(#runtime::Normalize<#values>)
    }

    fn init(&self, site: &Site, _init: Init) -> TokenStream {
        self.zeroed(site)
    }

    /// The identity until fitted (loading overwrites it).
    fn zeroed(&self, site: &Site) -> TokenStream {
        let ty = self.runtime_type(site);
        quote!(<#ty>::new())
    }
}
