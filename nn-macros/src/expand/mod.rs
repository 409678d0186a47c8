//! Code generation: one checked [`Model`] becomes a struct, its workspace and the impls.

mod info;
mod items;
mod passes;
mod visitors;

use crate::ast::{Layer, LayerKind, Model, NetworkDecl};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};

/// Everything the generators need: the runtime path and the model.
pub struct Context<'a> {
    krate: &'a TokenStream,
    model: &'a Model,
}

impl<'a> Context<'a> {
    pub fn new(krate: &'a TokenStream, model: &'a Model) -> Self {
        Self { krate, model }
    }

    /// A path into the facade's hidden runtime module.
    fn private(&self) -> TokenStream {
        let krate = self.krate;
        quote!(#krate::__private)
    }

    fn buffers_name(&self) -> Ident {
        format_ident!("{}Buffers", self.model.name)
    }

    fn batch_buffers_name(&self) -> Ident {
        format_ident!("{}BatchBuffers", self.model.name)
    }

    /// The length of every parameter tensor, in visiting order (weight, then bias, per layer).
    fn tensor_lengths(&self) -> Vec<usize> {
        self.parametric()
            .flat_map(|layer| match layer.kind {
                LayerKind::Linear { inputs, outputs } => [inputs * outputs, outputs],
                _ => unreachable!("only Linear has parameters"),
            })
            .collect()
    }

    fn last_index(&self) -> usize {
        self.model.layers.len() - 1
    }

    /// The layers with parameters.
    fn parametric(&self) -> impl Iterator<Item = &'a Layer> {
        self.model.layers.iter().filter(|layer| layer.kind.has_parameters())
    }

    /// The value of an activation, `Sigmoid` or `LeakyReLU { slope: 0.2 }`.
    fn activation(&self, kind: &LayerKind) -> TokenStream {
        let p = self.private();
        match kind {
            LayerKind::Sigmoid => quote!(#p::Sigmoid),
            LayerKind::ReLU => quote!(#p::ReLU),
            LayerKind::Tanh => quote!(#p::Tanh),
            LayerKind::Softmax => quote!(#p::Softmax),
            LayerKind::LeakyReLU { slope } => {
                let slope = proc_macro2::Literal::f32_suffixed(*slope);
                quote!(#p::LeakyReLU { slope: #slope })
            }
            LayerKind::Linear { .. } => unreachable!("Linear is not an activation"),
        }
    }
}

/// The span generated code for `layer` gets: it resolves like the rest of the expansion but
/// points at the layer in the DSL, so a type error there underlines the user's token.
fn layer_span(layer: &Layer) -> Span {
    Span::call_site().located_at(layer.span)
}

fn field(layer: &Layer) -> Ident {
    format_ident!("layer{}", layer.index)
}

fn activation_buffer(index: usize) -> Ident {
    format_ident!("a{}", index)
}

fn gradient_buffer(index: usize) -> Ident {
    format_ident!("d{}", index)
}

/// The runtime type of a layer with parameters: the first layer reads the network's input, and
/// is an `InputLinear` (input-major weight, zero inputs skipped, no input gradient); the others
/// are `Linear`.
fn linear_type(context: &Context, layer: &Layer) -> TokenStream {
    let p = context.private();
    let span = layer_span(layer);
    match layer.index {
        0 => quote_spanned!(span=> #p::InputLinear),
        _ => quote_spanned!(span=> #p::Linear),
    }
}

/// The names of a layer's weight and bias gradient slices.
fn parameter_gradients(layer: &Layer) -> (Ident, Ident) {
    (format_ident!("weight_gradient{}", layer.index), format_ident!("bias_gradient{}", layer.index))
}

/// All the code for one network.
pub fn expand(context: &Context) -> TokenStream {
    let items = items::expand(context);
    let network_impl = network_impl(context);
    quote! {
        #items
        #network_impl
    }
}

fn network_impl(context: &Context) -> TokenStream {
    let p = context.private();
    let model = context.model;
    let name = &model.name;
    let (buffers, batch_buffers) = (context.buffers_name(), context.batch_buffers_name());
    let (inputs, outputs) = (model.input().len(), model.output().len());
    let ends_with_softmax = matches!(model.layers[context.last_index()].kind, LayerKind::Softmax);
    let body = [
        items::constructors(context),
        passes::forward(context),
        passes::forward_sample(context),
        passes::backward_sample(context),
        passes::forward_sample_with_first_layer(context),
        passes::backward_sample_deferred(context),
        passes::forward_rows(context),
        passes::backward_rows(context),
        visitors::expand(context),
    ];
    let (architecture, summary, parameters) = (model.architecture(), info::summary(model), model.parameters());
    let span = layer_span(&model.layers[0]);
    quote_spanned! {span=>
        impl #p::Network<#inputs, #outputs> for #name {
            type Buffers = #buffers;
            type BatchBuffers = #batch_buffers;
            const ARCHITECTURE: &'static str = #architecture;
            const SUMMARY: &'static str = #summary;
            const PARAMETERS: usize = #parameters;
            const ENDS_WITH_SOFTMAX: bool = #ends_with_softmax;

            #(#body)*
        }
    }
}

/// What is emitted for a network with errors: the errors, and the struct with no layers, so
/// that code using the network is not buried under "cannot find type" errors.
pub fn fallback(decl: &NetworkDecl, error: syn::Error) -> TokenStream {
    let (attrs, vis, name) = (&decl.attrs, &decl.vis, &decl.name);
    let error = error.to_compile_error();
    quote! {
        #error
        #(#attrs)*
        #vis struct #name {}
    }
}
