//! The visitors over every layer's tensors.

use super::{field, gradient_slice, layer_span, Expansion};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

/// `each_tensor`, `each_tensor_mut` and `each_parameter_mut`: every layer's visitor in order,
/// with its position, which names its tensors like PyTorch's `nn.Sequential` (`0.weight`).
pub fn expand(expansion: &Expansion) -> TokenStream {
    let p = expansion.private();
    let layers = &expansion.model.layers;
    let names: Vec<_> = layers.iter().map(|layer| gradient_slice(layer.index)).collect();
    let lengths: Vec<_> = layers
        .iter()
        .map(|layer| {
            let layer_trait = expansion.layer_trait(layer);
            quote!(#layer_trait::PARAMETERS)
        })
        .collect();
    let calls = |body: &dyn Fn(&TokenStream, &proc_macro2::Ident, usize) -> TokenStream| -> Vec<TokenStream> {
        layers
            .iter()
            .map(|layer| {
                let (span, layer_trait) = (layer_span(layer), expansion.layer_trait(layer));
                let call = body(&layer_trait, &field(layer.index), layer.index);
                quote_spanned!(span=> #call)
            })
            .collect()
    };
    let read = calls(&|layer_trait, field, index| {
        let gradients = gradient_slice(index);
        quote!(#layer_trait::visit_tensors(&self.#field, #index, #gradients, visitor);)
    });
    let write =
        calls(&|layer_trait, field, index| quote!(#layer_trait::visit_tensors_mut(&mut self.#field, #index, visitor);));
    let parameters = calls(&|layer_trait, field, index| {
        let gradients = gradient_slice(index);
        quote!(#layer_trait::visit_parameters_mut(&mut self.#field, #gradients, visitor);)
    });
    quote! {
        fn each_tensor(&self, gradients: ::core::option::Option<&[f32]>, visitor: &mut dyn FnMut(#p::Tensor<'_>)) {
            let [#(#names),*] = #p::split_gradients_option(gradients, [#(#lengths),*]);
            #(#read)*
        }

        fn each_tensor_mut(&mut self, visitor: &mut dyn FnMut(#p::TensorMut<'_>)) {
            #(#write)*
        }

        fn each_parameter_mut(&mut self, gradients: &[f32], visitor: &mut dyn FnMut(&mut [f32], &[f32])) {
            let [#(#names),*] = #p::split_gradients_shared(gradients, [#(#lengths),*]);
            #(#parameters)*
        }
    }
}
