//! `Flatten`: a multi-dimensional activation as a flat one.

use super::{Entry, Init, LayerKind, Site};
use crate::args;
use crate::ast::{LayerDecl, Shape};
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::Error;

pub const ENTRY: Entry = Entry { name: "Flatten", usage: "Flatten", parse };

struct Flatten {
    span: Span,
}

fn parse(decl: &LayerDecl) -> syn::Result<Box<dyn LayerKind>> {
    args::none(decl)?;
    Ok(Box::new(Flatten { span: decl.name.span() }))
}

impl LayerKind for Flatten {
    fn describe(&self) -> String {
        "Flatten".to_owned()
    }

    fn output_shape(&self, input: &Shape) -> syn::Result<Shape> {
        if input.0.len() < 2 {
            let message = format!("Flatten takes a multi-dimensional input, but the previous layer's output is already flat (shape {input})");
            return Err(Error::new(self.span, message));
        }
        Ok(Shape(vec![input.len()], Some(format!("Flatten produces {}", input.product()))))
    }

    fn runtime_type(&self, site: &Site) -> TokenStream {
        let runtime = site.runtime;
        quote!(#runtime::Flatten)
    }

    fn init(&self, site: &Site, _init: Init) -> TokenStream {
        self.runtime_type(site)
    }

    fn zeroed(&self, site: &Site) -> TokenStream {
        self.runtime_type(site)
    }
}
