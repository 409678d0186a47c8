//! The network struct, its workspace struct, and their constructors.

use super::{activation_buffer, field, gradient_buffer, layer_span, parameter_gradients, Context};
use crate::ast::LayerKind;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

/// The two structs and the inherent constants.
pub fn expand(context: &Context) -> TokenStream {
    let network = network_struct(context);
    let workspace = workspace_struct(context);
    let constants = constants(context);
    quote! {
        #network
        #workspace
        #constants
    }
}

fn network_struct(context: &Context) -> TokenStream {
    let p = context.private();
    let model = context.model;
    let (attrs, vis, name) = (&model.attrs, &model.vis, &model.name);
    let fields = context.parametric().map(|layer| {
        let (field, span) = (field(layer), layer_span(layer));
        let doc = format!(" Layer {}, `{}`.", layer.index, layer.kind.describe());
        let ty = match layer.kind {
            LayerKind::Linear { inputs, outputs } => quote_spanned!(span=> #p::Linear<#inputs, #outputs>),
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

fn workspace_struct(context: &Context) -> TokenStream {
    let model = context.model;
    let (vis, workspace) = (&model.vis, context.workspace_name());
    let doc = format!(
        " The buffers of one forward and backward pass of [`{}`]: every activation, its gradient, and the parameter gradients. Create it with `Network::workspace`.",
        model.name
    );
    let fields = workspace_fields(context).into_iter().map(|(name, ty, _)| quote!(#name: #ty));
    quote! {
        #[doc = #doc]
        #vis struct #workspace {
            #(#fields,)*
        }
    }
}

/// The workspace's fields as (name, type, initial value).
fn workspace_fields(context: &Context) -> Vec<(proc_macro2::Ident, TokenStream, TokenStream)> {
    let p = context.private();
    let model = context.model;
    let boxed = |len: usize| (quote!(::std::boxed::Box<[f32; #len]>), quote!(#p::zeroed_array::<#len>()));
    let mut fields = Vec::new();
    let (ty, init) = boxed(model.input().len());
    fields.push((quote::format_ident!("input"), ty, init));
    for layer in &model.layers {
        let (ty, init) = boxed(layer.output.len());
        fields.push((activation_buffer(layer.index), ty.clone(), init.clone()));
        if layer.index != context.last_index() {
            fields.push((gradient_buffer(layer.index), ty, init));
        }
    }
    for layer in context.parametric() {
        let LayerKind::Linear { inputs, outputs } = layer.kind else { unreachable!("only Linear has parameters") };
        fields.push((
            parameter_gradients(layer),
            quote!(#p::LinearGradients<#inputs, #outputs>),
            quote!(#p::LinearGradients::zeroed()),
        ));
    }
    fields
}

/// The expression that builds a zeroed workspace.
pub fn new_workspace(context: &Context) -> TokenStream {
    let workspace = context.workspace_name();
    let fields = workspace_fields(context).into_iter().map(|(name, _, init)| quote!(#name: #init));
    quote!(#workspace { #(#fields,)* })
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

/// `Network::new` and `Network::zeroed`.
pub fn constructors(context: &Context) -> TokenStream {
    let p = context.private();
    let layers = &context.model.layers;
    let initialised = context.parametric().map(|layer| {
        let (field, span) = (field(layer), layer_span(layer));
        let init = match layers.get(layer.index + 1).map(|next| &next.kind) {
            Some(LayerKind::ReLU | LayerKind::LeakyReLU { .. }) => quote!(#p::Init::He),
            _ => quote!(#p::Init::Xavier),
        };
        quote_spanned!(span=> #field: #p::Linear::new(#init, rng))
    });
    let zeroed = context.parametric().map(|layer| {
        let (field, span) = (field(layer), layer_span(layer));
        quote_spanned!(span=> #field: #p::Linear::zeroed())
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
