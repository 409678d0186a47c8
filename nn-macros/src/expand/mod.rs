//! Code generation: one checked [`Model`] becomes a struct, its buffers and the impls.
//!
//! Every layer is expanded the same way: a field of its runtime type, buffers for its output
//! and output gradient, a cache, and one call of its [`Layer`] pass per pass, reading the
//! previous layer's output. Nothing here knows a layer kind; the kinds live in `crate::layers`.
//!
//! [`Layer`]: https://docs.rs/nn/latest/nn/layers/trait.Layer.html

mod info;
mod items;
mod passes;
mod visitors;

use crate::ast::{Layer, Model, NetworkDecl};
use crate::layers::{Init, Site};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};

/// Everything the generators need: the runtime path and the model.
pub struct Expansion<'a> {
    runtime: TokenStream,
    model: &'a Model,
}

impl<'a> Expansion<'a> {
    pub fn new(krate: &TokenStream, model: &'a Model) -> Self {
        Self { runtime: quote!(#krate::__private), model }
    }

    /// The path of the facade's hidden runtime module.
    fn private(&self) -> &TokenStream {
        &self.runtime
    }

    fn buffers_name(&self) -> Ident {
        format_ident!("{}Buffers", self.model.name)
    }

    fn batch_buffers_name(&self) -> Ident {
        format_ident!("{}BatchBuffers", self.model.name)
    }

    fn last_index(&self) -> usize {
        self.model.layers.len() - 1
    }

    fn site<'s>(&'s self, layer: &'s Layer) -> Site<'s> {
        Site { runtime: &self.runtime, first: layer.index == 0, input: &layer.input, output: &layer.output }
    }

    /// The runtime type of `layer`.
    fn layer_type(&self, layer: &Layer) -> TokenStream {
        layer.kind.runtime_type(&self.site(layer))
    }

    /// `<Type as Layer<I, O>>`, through which every pass of `layer` is called.
    fn layer_trait(&self, layer: &Layer) -> TokenStream {
        let (p, ty) = (self.private(), self.layer_type(layer));
        let (inputs, outputs) = (layer.input.len(), layer.output.len());
        quote!(<#ty as #p::Layer<#inputs, #outputs>>)
    }

    /// `<Type as FusedReLU<I, O>>`, through which the passes of a `layer` that applies the
    /// `ReLU` after it are called; `O` is also the ReLU's output.
    fn fused_trait(&self, layer: &Layer) -> TokenStream {
        let (p, ty) = (self.private(), self.layer_type(layer));
        let (inputs, outputs) = (layer.input.len(), layer.output.len());
        quote!(<#ty as #p::FusedReLU<#inputs, #outputs>>)
    }

    /// Whether `layer` applies the `ReLU` right after it itself: its training and batch passes
    /// write the ReLU's output and read its gradient, and the ReLU's own passes are skipped.
    fn fuses_next(&self, layer: &Layer) -> bool {
        layer.kind.fuses_relu() && self.model.layers.get(layer.index + 1).is_some_and(|next| next.kind.is_relu())
    }

    /// Whether `layer` also applies the max pooling after that `ReLU` (`FusedReLUMaxPool`).
    fn fuses_pool(&self, layer: &Layer) -> bool {
        self.fuses_next(layer)
            && self.model.layers.get(layer.index + 2).is_some_and(|pool| pool.kind.is_fusable_max_pool())
    }

    /// How many layers after `layer` it applies itself: 0, 1 (a `ReLU`) or 2 (and a pooling).
    fn extent(&self, layer: &Layer) -> usize {
        usize::from(self.fuses_next(layer)) + usize::from(self.fuses_pool(layer))
    }

    /// The last layer whose output `layer`'s training and batch passes write.
    fn last_applied<'s>(&'s self, layer: &Layer) -> &'s Layer {
        &self.model.layers[layer.index + self.extent(layer)]
    }

    /// Whether the layer before `layer` applies it (see [`extent`]), so that the training and
    /// batch passes skip it.
    ///
    /// [`extent`]: Self::extent
    fn is_fused(&self, layer: &Layer) -> bool {
        let applied_by =
            |back: usize| layer.index >= back && self.extent(&self.model.layers[layer.index - back]) >= back;
        applied_by(1) || applied_by(2)
    }

    /// The trait and the suffix (`_relu`, `_relu_max_pool`) of the training and batch passes of
    /// `layer`, which applies [`extent`](Self::extent) layers after it.
    fn pass_trait(&self, layer: &Layer) -> (TokenStream, &'static str) {
        match self.extent(layer) {
            0 => (self.layer_trait(layer), ""),
            1 => (self.fused_trait(layer), "_relu"),
            _ => {
                let (p, ty) = (self.private(), self.layer_type(layer));
                let pool = &self.model.layers[layer.index + 2];
                let pool_type = self.layer_type(pool);
                let (inputs, outputs, pooled) = (layer.input.len(), layer.output.len(), pool.output.len());
                (quote!(<#ty as #p::FusedReLUMaxPool<#pool_type, #inputs, #outputs, #pooled>>), "_relu_max_pool")
            }
        }
    }

    /// The initialisation `layer` gets: what the layer after it asks for.
    fn init_of(&self, layer: &Layer) -> Init {
        self.model.layers.get(layer.index + 1).map_or(Init::Xavier, |next| next.kind.init_before())
    }
}

/// The span generated code for `layer` gets: it resolves like the rest of the expansion but
/// points at the layer in the DSL, so a type error there underlines the user's token.
fn layer_span(layer: &Layer) -> Span {
    Span::call_site().located_at(layer.span)
}

/// The field holding layer `index`.
fn field(index: usize) -> Ident {
    format_ident!("layer{}", index)
}

/// The buffer of layer `index`'s output.
fn activation_buffer(index: usize) -> Ident {
    format_ident!("a{}", index)
}

/// The buffer of the gradient of layer `index`'s output.
fn gradient_buffer(index: usize) -> Ident {
    format_ident!("d{}", index)
}

/// Layer `index`'s cache.
fn cache(index: usize) -> Ident {
    format_ident!("c{}", index)
}

/// Layer `index`'s slice of the parameter gradients.
fn gradient_slice(index: usize) -> Ident {
    format_ident!("g{}", index)
}

/// All the code for one network.
pub fn expand(expansion: &Expansion) -> TokenStream {
    let items = items::expand(expansion);
    let sequential = sequential_impl(expansion);
    let network = network_impl(expansion);
    quote! {
        #items
        #sequential
        #network
    }
}

fn sequential_impl(expansion: &Expansion) -> TokenStream {
    let p = expansion.private();
    let model = expansion.model;
    let name = &model.name;
    let (buffers, batch_buffers) = (expansion.buffers_name(), expansion.batch_buffers_name());
    let (inputs, outputs) = (model.input().len(), model.output().len());
    let layer_traits = model.layers.iter().map(|layer| expansion.layer_trait(layer));
    let body = [
        items::buffer_constructors(expansion),
        passes::forward_sample(expansion),
        passes::backward_sample(expansion),
        passes::forward_rows(expansion),
        passes::backward_rows(expansion),
        passes::blocks(expansion),
        passes::gradient_bounds(expansion),
        passes::commits(expansion),
        visitors::expand(expansion),
    ];
    quote! {
        impl #p::Sequential<#inputs, #outputs> for #name {
            type Buffers = #buffers;
            type BatchBuffers = #batch_buffers;
            const BATCH_STATISTICS: bool = false #(|| #layer_traits::BATCH_STATISTICS)*;

            #(#body)*
        }
    }
}

fn network_impl(expansion: &Expansion) -> TokenStream {
    let p = expansion.private();
    let model = expansion.model;
    let name = &model.name;
    let (inputs, outputs) = (model.input().len(), model.output().len());
    let ends_with_softmax = model.last().kind.is_softmax();
    let layer_traits: Vec<TokenStream> = model.layers.iter().map(|layer| expansion.layer_trait(layer)).collect();
    let constructors = items::constructors(expansion);
    let forward = passes::forward(expansion);
    let (architecture, summary, parameters) = (model.architecture(), info::summary(model), model.parameters());
    let span = layer_span(&model.layers[0]);
    quote_spanned! {span=>
        impl #p::Network<#inputs, #outputs> for #name {
            const ARCHITECTURE: &'static str = #architecture;
            const SUMMARY: &'static str = #summary;
            const PARAMETERS: usize = #parameters;
            const ENDS_WITH_SOFTMAX: bool = #ends_with_softmax;
            const MULTIPLY_ADDS: usize = 0 #(+ #layer_traits::MULTIPLY_ADDS)*;
            const MIN_TRAINING_BATCH: usize = #p::largest(&[#(#layer_traits::TRAINING_ROWS),*]);

            #constructors
            #forward
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
