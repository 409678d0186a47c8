//! `LeakyReLU` or `LeakyReLU(slope)`: the leaky rectifier.

use super::{Entry, Init, LayerKind, Site};
use crate::args;
use crate::ast::{LayerDecl, Shape};
use proc_macro2::TokenStream;
use quote::quote;

pub const ENTRY: Entry = Entry { name: "LeakyReLU", usage: "LeakyReLU or LeakyReLU(slope)", parse };

/// PyTorch's default negative slope.
const DEFAULT_SLOPE: f32 = 0.01;

struct LeakyReLU {
    slope: f32,
}

fn parse(decl: &LayerDecl) -> syn::Result<Box<dyn LayerKind>> {
    let slope = match decl.args {
        None => DEFAULT_SLOPE,
        Some(_) => {
            let usage = "(the negative slope), like `LeakyReLU(0.2)`, or none for slope 0.01";
            let [slope] = args::exactly::<1>(decl, usage)?;
            args::number(slope)?
        }
    };
    Ok(Box::new(LeakyReLU { slope }))
}

impl LayerKind for LeakyReLU {
    fn describe(&self) -> String {
        format!("LeakyReLU({:?})", self.slope)
    }

    fn output_shape(&self, input: &Shape) -> syn::Result<Shape> {
        Ok(input.clone())
    }

    fn runtime_type(&self, site: &Site) -> TokenStream {
        let runtime = site.runtime;
        quote!(#runtime::LeakyReLU)
    }

    fn init(&self, site: &Site, _init: Init) -> TokenStream {
        self.zeroed(site)
    }

    fn zeroed(&self, site: &Site) -> TokenStream {
        let (runtime, slope) = (site.runtime, proc_macro2::Literal::f32_suffixed(self.slope));
        quote!(#runtime::LeakyReLU { slope: #slope })
    }

    fn init_before(&self) -> Init {
        Init::He
    }
}
