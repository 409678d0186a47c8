//! The network struct, its buffer structs, and their constructors.

use super::{activation_buffer, cache, field, gradient_buffer, layer_span, Expansion};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, quote_spanned};

/// The structs and the inherent constants.
pub fn expand(expansion: &Expansion) -> TokenStream {
    let network = network_struct(expansion);
    let buffers = buffers_struct(expansion);
    let batch_buffers = batch_buffers_struct(expansion);
    let constants = constants(expansion);
    quote! {
        #network
        #buffers
        #batch_buffers
        #constants
    }
}

fn network_struct(expansion: &Expansion) -> TokenStream {
    let model = expansion.model;
    let (attrs, vis, name) = (&model.attrs, &model.vis, &model.name);
    let fields = model.layers.iter().map(|layer| {
        let (field, span, ty) = (field(layer.index), layer_span(layer), expansion.layer_type(layer));
        let doc = format!(" Layer {}, `{}`.", layer.index, layer.kind.describe());
        quote_spanned!(span=> #[doc = #doc] pub #field: #ty)
    });
    quote! {
        #(#attrs)*
        #[derive(Clone, Debug, PartialEq)]
        #vis struct #name {
            #(#fields,)*
        }
    }
}

/// The activation buffers: the input copy (for one sample), and per layer its output and
/// (except the last) the gradient of its output. `(name, width)` pairs.
fn activation_fields(expansion: &Expansion, with_input: bool) -> Vec<(Ident, usize)> {
    let model = expansion.model;
    let mut fields = Vec::new();
    if with_input {
        fields.push((format_ident!("input"), model.input().len()));
    }
    for layer in &model.layers {
        fields.push((activation_buffer(layer.index), layer.output.len()));
        if layer.index != expansion.last_index() {
            fields.push((gradient_buffer(layer.index), layer.output.len()));
        }
    }
    fields
}

/// A struct of buffers: one field per activation of the type `ty(width)`, then every layer's
/// cache of the associated type `cache_type`.
fn buffer_struct(
    expansion: &Expansion,
    name: Ident,
    doc: &str,
    activations: Vec<(Ident, usize)>,
    ty: impl Fn(usize) -> TokenStream,
    cache_type: TokenStream,
) -> TokenStream {
    let vis = &expansion.model.vis;
    let activations = activations.into_iter().map(|(field, width)| {
        let ty = ty(width);
        quote!(#field: #ty)
    });
    let caches = expansion.model.layers.iter().map(|layer| {
        let (field, layer_trait) = (cache(layer.index), expansion.layer_trait(layer));
        quote!(#field: #layer_trait::#cache_type)
    });
    quote! {
        #[doc = #doc]
        #vis struct #name {
            #(#activations,)*
            #(#caches,)*
        }
    }
}

fn buffers_struct(expansion: &Expansion) -> TokenStream {
    let doc = format!(
        " The activations of one sample of [`{}`], their gradients and the layers' caches.",
        expansion.model.name
    );
    let p = expansion.private();
    buffer_struct(
        expansion,
        expansion.buffers_name(),
        &doc,
        activation_fields(expansion, true),
        |width| quote!(::std::boxed::Box<#p::CacheAligned<[f32; #width]>>),
        quote!(Cache),
    )
}

fn batch_buffers_struct(expansion: &Expansion) -> TokenStream {
    let doc = format!(
        " The activations of a batch of [`{}`], their gradients and the layers' caches, one row per sample.",
        expansion.model.name
    );
    buffer_struct(
        expansion,
        expansion.batch_buffers_name(),
        &doc,
        activation_fields(expansion, false),
        |width| quote!(::std::vec::Vec<[f32; #width]>),
        quote!(BatchCache),
    )
}

/// Grows every batch activation buffer that a pass uses to `rows` rows: not the outputs of a
/// layer that applies the layers after it, nor of those but the last, nor their gradients.
pub fn grow_batch_buffers(expansion: &Expansion) -> TokenStream {
    let p = expansion.private();
    let unused: Vec<Ident> = expansion
        .model
        .layers
        .iter()
        .filter(|layer| expansion.extent(layer) > 0)
        .flat_map(|layer| {
            (layer.index..expansion.last_applied(layer).index)
                .flat_map(|index| [activation_buffer(index), gradient_buffer(index)])
        })
        .collect();
    let grows = activation_fields(expansion, false)
        .into_iter()
        .filter(|(name, _)| !unused.contains(name))
        .map(|(name, _)| quote!(#p::grow_rows(&mut buffers.#name, rows);));
    quote!(#(#grows)*)
}

fn constants(expansion: &Expansion) -> TokenStream {
    let model = expansion.model;
    let name = &model.name;
    let (inputs, outputs, parameters) = (model.input().len(), model.output().len(), model.parameters());
    let architecture = model.architecture();
    quote! {
        impl #name {
            /// The number of input values of one sample.
            pub const INPUTS: usize = #inputs;
            /// The number of output values of one sample.
            pub const OUTPUTS: usize = #outputs;
            /// The number of trainable parameters.
            pub const PARAMETERS: usize = #parameters;
            /// The layer list, as declared.
            pub const ARCHITECTURE: &'static str = #architecture;
        }
    }
}

/// `new` and `zeroed`: every layer built in order, each with the initialisation the layer after
/// it asks for.
pub fn constructors(expansion: &Expansion) -> TokenStream {
    let p = expansion.private();
    let layers = &expansion.model.layers;
    let initialised = layers.iter().map(|layer| {
        let (field, span) = (field(layer.index), layer_span(layer));
        let init = layer.kind.init(&expansion.site(layer), expansion.init_of(layer));
        quote_spanned!(span=> #field: #init)
    });
    let zeroed = layers.iter().map(|layer| {
        let (field, span) = (field(layer.index), layer_span(layer));
        let zeroed = layer.kind.zeroed(&expansion.site(layer));
        quote_spanned!(span=> #field: #zeroed)
    });
    quote! {
        fn new<R: #p::Rng + ?Sized>(rng: &mut R) -> Self {
            Self { #(#initialised,)* }
        }

        fn zeroed() -> Self {
            Self { #(#zeroed,)* }
        }
    }
}

/// `buffers` and `batch_buffers`.
pub fn buffer_constructors(expansion: &Expansion) -> TokenStream {
    let p = expansion.private();
    let (buffers, batch_buffers) = (expansion.buffers_name(), expansion.batch_buffers_name());
    let boxed =
        activation_fields(expansion, true).into_iter().map(|(name, width)| quote!(#name: #p::zeroed_array::<#width>()));
    let empty = activation_fields(expansion, false).into_iter().map(|(name, _)| quote!(#name: ::std::vec::Vec::new()));
    let layers = &expansion.model.layers;
    let caches = layers.iter().map(|layer| {
        let (name, field, layer_trait) = (cache(layer.index), field(layer.index), expansion.layer_trait(layer));
        quote!(#name: #layer_trait::cache(&self.#field))
    });
    let batch_caches = layers.iter().map(|layer| {
        let (name, field, layer_trait) = (cache(layer.index), field(layer.index), expansion.layer_trait(layer));
        quote!(#name: #layer_trait::batch_cache(&self.#field))
    });
    quote! {
        fn buffers(&self) -> #buffers {
            #buffers { #(#boxed,)* #(#caches,)* }
        }

        fn batch_buffers(&self) -> #batch_buffers {
            #batch_buffers { #(#empty,)* #(#batch_caches,)* }
        }
    }
}
