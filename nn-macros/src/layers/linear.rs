//! `Linear(in, out)`: a fully connected layer.

use super::{Entry, Init, LayerKind, Site};
use crate::args;
use crate::ast::{LayerDecl, Shape};
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::Error;

pub const ENTRY: Entry = Entry { name: "Linear", usage: "Linear(in, out)", parse };

struct Linear {
    inputs: usize,
    outputs: usize,
    /// The `in` argument as written, where a size mismatch is reported.
    inputs_token: TokenStream,
}

fn parse(decl: &LayerDecl) -> syn::Result<Box<dyn LayerKind>> {
    let [inputs, outputs] = args::exactly::<2>(decl, "(inputs, outputs), like `Linear(784, 100)`")?;
    let (inputs_token, [inputs, outputs]) = (inputs.to_token_stream(), args::sizes([inputs, outputs])?);
    Ok(Box::new(Linear { inputs, outputs, inputs_token }))
}

impl LayerKind for Linear {
    fn describe(&self) -> String {
        format!("Linear({}, {})", self.inputs, self.outputs)
    }

    fn input_shape(&self) -> Option<Shape> {
        Some(Shape(vec![self.inputs], None))
    }

    fn output_shape(&self, input: &Shape) -> syn::Result<Shape> {
        if input.0.len() != 1 {
            let message = format!(
                "Linear takes a flat input, but the previous layer outputs shape {input} ({}); add `Flatten` before it",
                input.product(),
            );
            return Err(Error::new_spanned(&self.inputs_token, message));
        }
        if input.len() != self.inputs {
            let found = input.len();
            let origin = match &input.1 {
                Some(origin) => origin.clone(),
                None => format!("the previous layer outputs {found} (shape {input})"),
            };
            let message = format!("expected {found} inputs: {origin}, but this Linear takes {}", self.inputs);
            return Err(Error::new_spanned(&self.inputs_token, message));
        }
        Ok(Shape(vec![self.outputs], None))
    }

    fn parameters(&self) -> usize {
        self.inputs * self.outputs + self.outputs
    }

    /// A `Linear` that reads the network's input becomes an `InputLinear`: the same layer with
    /// its weight stored input-major, so zero inputs are skipped; it needs no input gradient.
    fn runtime_type(&self, site: &Site) -> TokenStream {
        let (runtime, inputs, outputs) = (site.runtime, self.inputs, self.outputs);
        match site.first {
            true => quote!(#runtime::InputLinear<#inputs, #outputs>),
            false => quote!(#runtime::Linear<#inputs, #outputs>),
        }
    }

    fn init(&self, site: &Site, init: Init) -> TokenStream {
        let (ty, init) = (self.runtime_type(site), init.tokens(site.runtime));
        quote!(<#ty>::new(#init, rng))
    }

    fn zeroed(&self, site: &Site) -> TokenStream {
        let ty = self.runtime_type(site);
        quote!(<#ty>::zeroed())
    }
}
