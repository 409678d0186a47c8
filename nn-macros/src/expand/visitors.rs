//! The visitors over `(name, parameters)`.

use super::{field, layer_span, Context};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

/// `visit_parameters` and `visit_parameters_mut`, tensor after tensor, named like PyTorch's
/// `nn.Sequential` (`0.weight`, `0.bias`, ...).
pub fn expand(context: &Context) -> TokenStream {
    let p = context.private();
    let tensors: Vec<_> = context
        .parametric()
        .flat_map(|layer| {
            let (field, span) = (field(layer), layer_span(layer));
            [
                (format!("{}.weight", layer.index), quote!(#field.weight), span),
                (format!("{}.bias", layer.index), quote!(#field.bias), span),
            ]
        })
        .collect();
    let read = tensors
        .iter()
        .map(|(name, path, span)| quote_spanned!(*span=> visitor(#name, #p::AsFlat::as_flat(&*self.#path));));
    let write = tensors
        .iter()
        .map(|(name, path, span)| quote_spanned!(*span=> visitor(#name, #p::AsFlat::as_flat_mut(&mut *self.#path));));
    quote! {
        fn visit_parameters(&self, visitor: &mut #p::ParameterVisitor) {
            #(#read)*
        }

        fn visit_parameters_mut(&mut self, visitor: &mut #p::ParameterVisitorMut) {
            #(#write)*
        }
    }
}
