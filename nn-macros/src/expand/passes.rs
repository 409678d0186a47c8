//! The forward and backward passes, written out layer by layer.

use super::{activation_buffer, field, gradient_buffer, layer_span, parameter_gradients, Context};
use crate::ast::{Layer, LayerKind};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

/// One layer's forward call from `input` into `output` (both expressions of references).
fn layer_forward(context: &Context, layer: &Layer, input: TokenStream, output: TokenStream) -> TokenStream {
    let p = context.private();
    let span = layer_span(layer);
    match layer.kind {
        LayerKind::Linear { .. } => {
            let field = field(layer);
            quote_spanned!(span=> #p::Linear::forward(&self.#field, #input, #output);)
        }
        ref activation => {
            let activation = context.activation(activation);
            quote_spanned!(span=> #p::Activation::forward(&#activation, #input, #output);)
        }
    }
}

/// `forward`: activations in stack arrays, nothing allocated.
pub fn forward(context: &Context) -> TokenStream {
    let model = context.model;
    let (inputs, outputs) = (model.input().len(), model.output().len());
    let steps = model.layers.iter().map(|layer| {
        let output = activation_buffer(layer.index);
        let len = layer.output.len();
        let input = match layer.index {
            0 => quote!(input),
            index => {
                let previous = activation_buffer(index - 1);
                quote!(&#previous)
            }
        };
        let call = layer_forward(context, layer, input, quote!(&mut #output));
        quote! {
            let mut #output = [0.0f32; #len];
            #call
        }
    });
    let last = activation_buffer(context.last_index());
    quote! {
        fn forward(&self, input: &[f32; #inputs]) -> [f32; #outputs] {
            #(#steps)*
            #last
        }
    }
}

/// The expression for the input of `layer` inside the workspace `ws`.
fn workspace_input(layer: &Layer) -> TokenStream {
    match layer.index {
        0 => quote!(&*ws.input),
        index => {
            let previous = activation_buffer(index - 1);
            quote!(&*ws.#previous)
        }
    }
}

/// `forward_with`: every activation kept in the workspace for `backward`.
pub fn forward_with(context: &Context) -> TokenStream {
    let model = context.model;
    let (inputs, outputs) = (model.input().len(), model.output().len());
    let workspace = context.workspace_name();
    let steps = model.layers.iter().map(|layer| {
        let output = activation_buffer(layer.index);
        layer_forward(context, layer, workspace_input(layer), quote!(&mut *ws.#output))
    });
    let last = activation_buffer(context.last_index());
    quote! {
        fn forward_with<'w>(&self, ws: &'w mut #workspace, input: &[f32; #inputs]) -> &'w [f32; #outputs] {
            ws.input.copy_from_slice(input);
            #(#steps)*
            &*ws.#last
        }
    }
}

/// `backward`: the layers in reverse, each turning the gradient of its output into the gradient
/// of its input (the first layer skips that) and handling its parameter gradients.
pub fn backward(context: &Context) -> TokenStream {
    let p = context.private();
    let model = context.model;
    let outputs = model.output().len();
    let workspace = context.workspace_name();
    let steps = model.layers.iter().rev().map(|layer| {
        let span = layer_span(layer);
        let input = workspace_input(layer);
        let output_gradient = if layer.index == context.last_index() {
            quote!(output_gradient)
        } else {
            let buffer = gradient_buffer(layer.index);
            quote!(&*ws.#buffer)
        };
        let input_gradient = (layer.index > 0).then(|| gradient_buffer(layer.index - 1));
        match layer.kind {
            LayerKind::Linear { .. } => {
                let (field, gradients) = (field(layer), parameter_gradients(layer));
                let input_gradient = match input_gradient {
                    Some(buffer) => quote!(::core::option::Option::Some(&mut *ws.#buffer)),
                    None => quote!(::core::option::Option::None),
                };
                quote_spanned! {span=>
                    #p::Linear::backward(&mut self.#field, #input, #output_gradient, #input_gradient, &mut ws.#gradients, update);
                }
            }
            ref kind => {
                let activation = context.activation(kind);
                let output = activation_buffer(layer.index);
                let input_gradient = input_gradient.expect("a network never starts with an activation");
                quote_spanned! {span=>
                    #p::Activation::backward(&#activation, #input, &*ws.#output, #output_gradient, &mut *ws.#input_gradient);
                }
            }
        }
    });
    quote! {
        fn backward(&mut self, ws: &mut #workspace, output_gradient: &[f32; #outputs], update: #p::Update) {
            #(#steps)*
        }
    }
}
