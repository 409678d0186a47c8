//! What the element-wise activations share: no parameters, and the output shape of the input.

use super::{Init, LayerKind, Site};
use crate::args;
use crate::ast::{LayerDecl, Shape};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// An activation written without arguments, expanding to a unit struct of the runtime.
pub struct Activation {
    /// The DSL name, also the runtime type's name.
    pub name: &'static str,
    /// What it asks of a layer with weights before it.
    pub init_before: Init,
    /// Whether it is softmax.
    pub softmax: bool,
}

impl Activation {
    /// Validates a declaration of `self`, which takes no arguments.
    pub fn parse(self, decl: &LayerDecl) -> syn::Result<Box<dyn LayerKind>> {
        args::none(decl)?;
        Ok(Box::new(self))
    }
}

impl LayerKind for Activation {
    fn describe(&self) -> String {
        self.name.to_owned()
    }

    fn output_shape(&self, input: &Shape) -> syn::Result<Shape> {
        Ok(input.clone())
    }

    fn runtime_type(&self, site: &Site) -> TokenStream {
        let (runtime, name) = (site.runtime, Ident::new(self.name, Span::call_site()));
        quote!(#runtime::#name)
    }

    fn init(&self, site: &Site, _init: Init) -> TokenStream {
        self.runtime_type(site)
    }

    fn zeroed(&self, site: &Site) -> TokenStream {
        self.runtime_type(site)
    }

    fn init_before(&self) -> Init {
        self.init_before
    }

    fn is_softmax(&self) -> bool {
        self.softmax
    }

    fn is_relu(&self) -> bool {
        self.name == "ReLU"
    }
}
