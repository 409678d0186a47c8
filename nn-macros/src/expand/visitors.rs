//! Constructors and the visitors over `(name, parameters, gradients)`.

use super::{field, items, layer_span, parameter_gradients, Context};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

/// The parameter tensors of every layer as `(PyTorch name, field path)`.
fn tensors(context: &Context) -> Vec<(String, TokenStream, TokenStream, proc_macro2::Span)> {
    let mut tensors = Vec::new();
    for layer in context.parametric() {
        let (field, gradients, span) = (field(layer), parameter_gradients(layer), layer_span(layer));
        tensors.push((format!("{}.weight", layer.index), quote!(#field.weight), quote!(#gradients.weight), span));
        tensors.push((format!("{}.bias", layer.index), quote!(#field.bias), quote!(#gradients.bias), span));
    }
    tensors
}

/// `new`, `zeroed`, `visit_parameters`, `visit_parameters_mut` and `visit_gradients`.
pub fn expand(context: &Context) -> TokenStream {
    let p = context.private();
    let workspace = context.workspace_name();
    let tensors = tensors(context);
    let read = tensors
        .iter()
        .map(|(name, path, _, span)| quote_spanned!(*span=> visitor(#name, #p::AsFlat::as_flat(&*self.#path));));
    let write = tensors.iter().map(
        |(name, path, _, span)| quote_spanned!(*span=> visitor(#name, #p::AsFlat::as_flat_mut(&mut *self.#path));),
    );
    let gradients = tensors.iter().map(|(name, path, gradient, span)| {
        quote_spanned! {*span=>
            visitor(#name, #p::AsFlat::as_flat_mut(&mut *self.#path), #p::AsFlat::as_flat_mut(&mut *ws.#gradient));
        }
    });
    let constructors = items::constructors(context);
    quote! {
        #constructors

        fn visit_parameters(&self, visitor: &mut #p::ParameterVisitor) {
            #(#read)*
        }

        fn visit_parameters_mut(&mut self, visitor: &mut #p::ParameterVisitorMut) {
            #(#write)*
        }

        fn visit_gradients(&mut self, ws: &mut #workspace, visitor: &mut #p::GradientVisitor) {
            #(#gradients)*
        }
    }
}
