//! The network struct, its buffer structs, and their constructors.

use super::{activation_buffer, field, gradient_buffer, layer_span, linear_type, Context};
use crate::ast::LayerKind;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, quote_spanned};

/// The structs and the inherent constants.
pub fn expand(context: &Context) -> TokenStream {
    let network = network_struct(context);
    let buffers = buffers_struct(context);
    let batch_buffers = batch_buffers_struct(context);
    let constants = constants(context);
    quote! {
        #network
        #buffers
        #batch_buffers
        #constants
    }
}

fn network_struct(context: &Context) -> TokenStream {
    let model = context.model;
    let (attrs, vis, name) = (&model.attrs, &model.vis, &model.name);
    let fields = context.parametric().map(|layer| {
        let (field, span) = (field(layer), layer_span(layer));
        let doc = format!(" Layer {}, `{}`.", layer.index, layer.kind.describe());
        let ty = match layer.kind {
            LayerKind::Linear { inputs, outputs } => {
                let linear = linear_type(context, layer);
                quote_spanned!(span=> #linear<#inputs, #outputs>)
            }
            _ => unreachable!("only Linear has parameters"),
        };
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

/// One field per buffer: the input copy, and per layer its output and (except the last) the
/// gradient of its output. `(name, width)` pairs.
fn buffer_fields(context: &Context, with_input: bool) -> Vec<(Ident, usize)> {
    let model = context.model;
    let mut fields = Vec::new();
    if with_input {
        fields.push((format_ident!("input"), model.input().len()));
    }
    for layer in &model.layers {
        fields.push((activation_buffer(layer.index), layer.output.len()));
        if layer.index != context.last_index() {
            fields.push((gradient_buffer(layer.index), layer.output.len()));
        }
    }
    fields
}

fn buffers_struct(context: &Context) -> TokenStream {
    let doc = format!(" The activations of one sample of [`{}`] and their gradients.", context.model.name);
    let fields = buffer_fields(context, true);
    let p = context.private();
    buffer_struct(
        context,
        context.buffers_name(),
        &doc,
        fields,
        quote!(),
        |width| quote!(::std::boxed::Box<#p::CacheAligned<[f32; #width]>>),
    )
}

fn batch_buffers_struct(context: &Context) -> TokenStream {
    let doc =
        format!(" The activations of a batch of [`{}`] and their gradients, one row per sample.", context.model.name);
    let fields = buffer_fields(context, false);
    let p = context.private();
    let scratch = quote!(scratch: #p::PanelScratch,);
    buffer_struct(
        context,
        context.batch_buffers_name(),
        &doc,
        fields,
        scratch,
        |width| quote!(::std::vec::Vec<[f32; #width]>),
    )
}

/// A struct of buffers named `name`, one field per `(name, width)` of the type `ty(width)`, then
/// the `extra` fields.
fn buffer_struct(
    context: &Context,
    name: Ident,
    doc: &str,
    fields: Vec<(Ident, usize)>,
    extra: TokenStream,
    ty: impl Fn(usize) -> TokenStream,
) -> TokenStream {
    let vis = &context.model.vis;
    let fields = fields.into_iter().map(|(field, width)| {
        let ty = ty(width);
        quote!(#field: #ty)
    });
    quote! {
        #[doc = #doc]
        #vis struct #name {
            #(#fields,)*
            #extra
        }
    }
}

/// Grows every batch buffer to `rows` rows.
pub fn grow_batch_buffers(context: &Context) -> TokenStream {
    let p = context.private();
    let grows =
        buffer_fields(context, false).into_iter().map(|(name, _)| quote!(#p::grow_rows(&mut buffers.#name, rows);));
    quote!(#(#grows)*)
}

fn constants(context: &Context) -> TokenStream {
    let model = context.model;
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

/// `new`, `zeroed`, `buffers` and `batch_buffers`.
pub fn constructors(context: &Context) -> TokenStream {
    let p = context.private();
    let layers = &context.model.layers;
    let initialised = context.parametric().map(|layer| {
        let (field, span) = (field(layer), layer_span(layer));
        let init = match layers.get(layer.index + 1).map(|next| &next.kind) {
            Some(LayerKind::ReLU | LayerKind::LeakyReLU { .. }) => quote!(#p::Init::He),
            _ => quote!(#p::Init::Xavier),
        };
        let linear = linear_type(context, layer);
        quote_spanned!(span=> #field: #linear::new(#init, rng))
    });
    let zeroed = context.parametric().map(|layer| {
        let (field, span) = (field(layer), layer_span(layer));
        let linear = linear_type(context, layer);
        quote_spanned!(span=> #field: #linear::zeroed())
    });
    let (buffers, batch_buffers) = (context.buffers_name(), context.batch_buffers_name());
    let boxed =
        buffer_fields(context, true).into_iter().map(|(name, width)| quote!(#name: #p::zeroed_array::<#width>()));
    let empty = buffer_fields(context, false).into_iter().map(|(name, _)| quote!(#name: ::std::vec::Vec::new()));
    quote! {
        fn new<R: #p::Rng + ?Sized>(rng: &mut R) -> Self {
            Self { #(#initialised,)* }
        }

        fn zeroed() -> Self {
            Self { #(#zeroed,)* }
        }

        fn buffers(&self) -> #buffers {
            #buffers { #(#boxed,)* }
        }

        fn batch_buffers(&self) -> #batch_buffers {
            #batch_buffers { #(#empty,)* scratch: ::core::default::Default::default() }
        }
    }
}
