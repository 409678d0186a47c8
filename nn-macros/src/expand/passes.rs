//! The forward and backward passes, written out layer by layer, for one sample and for a batch
//! of rows. Every layer gets the same call: its pass through `<Type as Layer<I, O>>`.

use super::{activation_buffer, cache, field, gradient_buffer, gradient_slice, items, layer_span, Expansion};
use crate::ast::Layer;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, quote_spanned};

/// The most activation values `forward` keeps on the stack (16 KiB); a network with more keeps
/// them in buffers of the calling thread instead, so that no thread's stack overflows.
const STACK_VALUES: usize = 4096;

/// Where a pass keeps its values: boxed arrays for one sample, or the first `rows` rows of
/// growable batch buffers.
#[derive(Clone, Copy, PartialEq)]
enum Pass {
    Sample,
    Rows,
}

impl Pass {
    fn read(self, buffer: &Ident) -> TokenStream {
        match self {
            Pass::Sample => quote!(&buffers.#buffer.0),
            Pass::Rows => quote!(&buffers.#buffer[..rows]),
        }
    }

    fn write(self, buffer: &Ident) -> TokenStream {
        match self {
            Pass::Sample => quote!(&mut buffers.#buffer.0),
            Pass::Rows => quote!(&mut buffers.#buffer[..rows]),
        }
    }

    /// The input of `layer`: the network's input, or the previous layer's output.
    fn input_of(self, layer: &Layer) -> TokenStream {
        match (layer.index, self) {
            (0, Pass::Sample) => quote!(&buffers.input.0),
            (0, Pass::Rows) => quote!(inputs),
            (index, _) => self.read(&activation_buffer(index - 1)),
        }
    }

    /// The gradient of the loss with respect to the output of `layer`.
    fn output_gradient_of(self, layer: &Layer, last: usize) -> TokenStream {
        match (layer.index == last, self) {
            (true, Pass::Sample) => quote!(output_gradient),
            (true, Pass::Rows) => quote!(output_gradients),
            (false, _) => self.read(&gradient_buffer(layer.index)),
        }
    }

    /// Where `layer` writes the gradient of its input: nowhere for the first layer, nor in the
    /// applying pass of an SGD step (`input_gradients` false), whose `Propagate` pass wrote them.
    fn input_gradient_of(self, layer: &Layer) -> TokenStream {
        match layer.index {
            0 => quote!(::core::option::Option::None),
            index => {
                let buffer = self.write(&gradient_buffer(index - 1));
                quote!(if input_gradients { ::core::option::Option::Some(#buffer) } else { ::core::option::Option::None })
            }
        }
    }
}

/// `forward`: eval mode through each layer's `infer`. Small networks keep their activations in
/// stack arrays; large ones in the calling thread's buffers, allocated by its first call.
pub fn forward(expansion: &Expansion) -> TokenStream {
    let model = expansion.model;
    let (inputs, outputs) = (model.input().len(), model.output().len());
    let activations: usize = model.layers.iter().map(|layer| layer.output.len()).sum();
    let last = activation_buffer(expansion.last_index());
    if activations <= STACK_VALUES {
        let steps = model.layers.iter().map(|layer| {
            let (output, len) = (activation_buffer(layer.index), layer.output.len());
            let input = match layer.index {
                0 => quote!(input),
                index => {
                    let previous = activation_buffer(index - 1);
                    quote!(&#previous)
                }
            };
            let call = infer(expansion, layer, input, quote!(&mut #output));
            quote! {
                let mut #output = [0.0f32; #len];
                #call
            }
        });
        return quote! {
            fn forward(&self, input: &[f32; #inputs]) -> [f32; #outputs] {
                #(#steps)*
                #last
            }
        };
    }
    let p = expansion.private();
    let buffers_type = expansion.buffers_name();
    let steps = model.layers.iter().map(|layer| {
        let input = match layer.index {
            0 => quote!(input),
            _ => Pass::Sample.input_of(layer),
        };
        infer(expansion, layer, input, Pass::Sample.write(&activation_buffer(layer.index)))
    });
    quote! {
        fn forward(&self, input: &[f32; #inputs]) -> [f32; #outputs] {
            ::std::thread_local! {
                static BUFFERS: ::core::cell::RefCell<::core::option::Option<#buffers_type>> =
                    const { ::core::cell::RefCell::new(::core::option::Option::None) };
            }
            BUFFERS.with(|cell| {
                let mut cell = cell.borrow_mut();
                let buffers = cell.get_or_insert_with(|| #p::Sequential::<#inputs, #outputs>::buffers(self));
                #(#steps)*
                buffers.#last.0
            })
        }
    }
}

/// One layer's `infer` from `input` into `output`.
fn infer(expansion: &Expansion, layer: &Layer, input: TokenStream, output: TokenStream) -> TokenStream {
    let (span, field, layer_trait) = (layer_span(layer), field(layer.index), expansion.layer_trait(layer));
    quote_spanned!(span=> #layer_trait::infer(&self.#field, #input, #output);)
}

/// The forward calls of every layer, reading and writing `pass`'s buffers. A layer that applies
/// the `ReLU` after it writes the ReLU's output, and the ReLU is skipped.
fn forward_steps(expansion: &Expansion, pass: Pass) -> Vec<TokenStream> {
    let layers = &expansion.model.layers;
    layers
        .iter()
        .filter(|layer| !expansion.is_fused(layer))
        .map(|layer| {
            let (span, field, cache) = (layer_span(layer), field(layer.index), cache(layer.index));
            let (layer_trait, suffix) = expansion.pass_trait(layer);
            let method = match pass {
                Pass::Sample => format_ident!("forward{suffix}"),
                Pass::Rows => format_ident!("forward_rows{suffix}"),
            };
            let output = pass.write(&activation_buffer(expansion.last_applied(layer).index));
            let input = pass.input_of(layer);
            quote_spanned!(span=> #layer_trait::#method(&self.#field, context, &mut buffers.#cache, #input, #output);)
        })
        .collect()
}

/// `forward_sample`: every activation kept in the buffers for `backward_sample`.
pub fn forward_sample(expansion: &Expansion) -> TokenStream {
    let (p, model) = (expansion.private(), expansion.model);
    let (inputs, outputs) = (model.input().len(), model.output().len());
    let buffers = expansion.buffers_name();
    let steps = forward_steps(expansion, Pass::Sample);
    let last = activation_buffer(expansion.last_index());
    quote! {
        fn forward_sample<'b>(&self, context: &mut #p::Context, buffers: &'b mut #buffers, input: &[f32; #inputs]) -> &'b [f32; #outputs] {
            buffers.input.copy_from_slice(input);
            #(#steps)*
            &buffers.#last.0
        }
    }
}

/// `forward_rows`: the batch buffers grown to the batch, then every layer on all rows.
pub fn forward_rows(expansion: &Expansion) -> TokenStream {
    let (p, model) = (expansion.private(), expansion.model);
    let (inputs, outputs) = (model.input().len(), model.output().len());
    let batch_buffers = expansion.batch_buffers_name();
    let grow = items::grow_batch_buffers(expansion);
    let steps = forward_steps(expansion, Pass::Rows);
    let last = activation_buffer(expansion.last_index());
    quote! {
        fn forward_rows<'b>(&self, context: &mut #p::Context, buffers: &'b mut #batch_buffers, inputs: &[[f32; #inputs]]) -> &'b [[f32; #outputs]] {
            let rows = inputs.len();
            #grow
            #(#steps)*
            &buffers.#last[..rows]
        }
    }
}

/// Splits the flat `gradients` into one slice per layer.
fn split_gradients(expansion: &Expansion) -> TokenStream {
    let p = expansion.private();
    let layers = &expansion.model.layers;
    let names = layers.iter().map(|layer| gradient_slice(layer.index));
    let lengths = layers.iter().map(|layer| {
        let layer_trait = expansion.layer_trait(layer);
        quote!(#layer_trait::PARAMETERS)
    });
    quote!(let [#(#names),*] = #p::split_gradients(gradients, [#(#lengths),*]);)
}

/// The backward calls of every layer in reverse: each turns the gradient of its output into the
/// gradient of its input (the first layer skips that) and handles its parameter gradients. A
/// layer that applies the `ReLU` after it starts from the ReLU's output and its gradient.
fn backward_steps(expansion: &Expansion, pass: Pass) -> Vec<TokenStream> {
    let layers = &expansion.model.layers;
    layers
        .iter()
        .rev()
        .filter(|layer| !expansion.is_fused(layer))
        .map(|layer| {
            let (span, field, cache) = (layer_span(layer), field(layer.index), cache(layer.index));
            let (layer_trait, suffix) = expansion.pass_trait(layer);
            let method = match pass {
                Pass::Sample => format_ident!("backward{suffix}"),
                Pass::Rows => format_ident!("backward_rows{suffix}"),
            };
            let gradients = gradient_slice(layer.index);
            let last = expansion.last_applied(layer);
            let (input, output) = (pass.input_of(layer), pass.read(&activation_buffer(last.index)));
            let output_gradient = pass.output_gradient_of(last, expansion.last_index());
            let input_gradient = pass.input_gradient_of(layer);
            quote_spanned! {span=>
                #layer_trait::#method(&mut self.#field, context, &mut buffers.#cache, #input, #output, #output_gradient, #input_gradient, #gradients, update);
            }
        })
        .collect()
}

/// `backward_sample`.
pub fn backward_sample(expansion: &Expansion) -> TokenStream {
    let p = expansion.private();
    let outputs = expansion.model.output().len();
    let buffers = expansion.buffers_name();
    let split = split_gradients(expansion);
    let steps = backward_steps(expansion, Pass::Sample);
    quote! {
        fn backward_sample(&mut self, context: &mut #p::Context, buffers: &mut #buffers, output_gradient: &[f32; #outputs], gradients: &mut [f32], update: #p::Update) {
            let input_gradients = !::core::matches!(update, #p::Update::Sgd { .. });
            #split
            #(#steps)*
        }
    }
}

/// `backward_rows`.
pub fn backward_rows(expansion: &Expansion) -> TokenStream {
    let (p, model) = (expansion.private(), expansion.model);
    let (inputs, outputs) = (model.input().len(), model.output().len());
    let batch_buffers = expansion.batch_buffers_name();
    let split = split_gradients(expansion);
    let steps = backward_steps(expansion, Pass::Rows);
    quote! {
        fn backward_rows(&mut self, context: &mut #p::Context, buffers: &mut #batch_buffers, inputs: &[[f32; #inputs]], output_gradients: &[[f32; #outputs]], gradients: &mut [f32], update: #p::Update) {
            let rows = inputs.len();
            let input_gradients = !::core::matches!(update, #p::Update::Sgd { .. });
            #split
            #(#steps)*
        }
    }
}

/// `gradient_bound_sample` and `gradient_bound_rows`: the largest of the layers' bounds on their
/// parameter gradients (see `Layer::gradient_bound`), with the position of the layer it belongs
/// to; the first NaN counts as the largest. A layer that applies the `ReLU` after it bounds its
/// gradients by the ReLU's output gradient, which the ReLU only masks.
pub fn gradient_bounds(expansion: &Expansion) -> TokenStream {
    let model = expansion.model;
    let (inputs, outputs) = (model.input().len(), model.output().len());
    let (buffers, batch_buffers) = (expansion.buffers_name(), expansion.batch_buffers_name());
    let bounds = |pass: Pass| -> Vec<TokenStream> {
        model
            .layers
            .iter()
            .filter(|layer| !expansion.is_fused(layer))
            .map(|layer| {
                let (span, field, index) = (layer_span(layer), field(layer.index), layer.index);
                let last = expansion.last_applied(layer);
                let (layer_trait, method) = match expansion.fuses_pool(layer) {
                    true => (expansion.pass_trait(layer).0, quote!(gradient_bound_max_pool)),
                    false => (expansion.layer_trait(layer), quote!(gradient_bound)),
                };
                let (x, dy) = match pass {
                    Pass::Sample => {
                        let (input, output_gradient) =
                            (pass.input_of(layer), pass.output_gradient_of(last, expansion.last_index()));
                        (quote!(::core::slice::from_ref(#input)), quote!(::core::slice::from_ref(#output_gradient)))
                    }
                    Pass::Rows => {
                        let x = match layer.index {
                            0 => quote!(&inputs[range.clone()]),
                            index => {
                                let buffer = activation_buffer(index - 1);
                                quote!(&buffers.#buffer[range.clone()])
                            }
                        };
                        let dy = match last.index == expansion.last_index() {
                            true => quote!(&output_gradients[range.clone()]),
                            false => {
                                let buffer = gradient_buffer(last.index);
                                quote!(&buffers.#buffer[range.clone()])
                            }
                        };
                        (x, dy)
                    }
                };
                quote_spanned! {span=>
                    let bound = #layer_trait::#method(&self.#field, #x, #dy);
                    if !(bound <= largest.0) && !largest.0.is_nan() {
                        largest = (bound, #index);
                    }
                }
            })
            .collect()
    };
    let (sample, rows) = (bounds(Pass::Sample), bounds(Pass::Rows));
    quote! {
        fn gradient_bound_sample(&self, buffers: &#buffers, output_gradient: &[f32; #outputs]) -> (f64, usize) {
            let mut largest = (0.0f64, 0usize);
            #(#sample)*
            largest
        }

        fn gradient_bound_rows(&self, buffers: &#batch_buffers, inputs: &[[f32; #inputs]], output_gradients: &[[f32; #outputs]], range: ::core::ops::Range<usize>) -> (f64, usize) {
            let mut largest = (0.0f64, 0usize);
            #(#rows)*
            largest
        }
    }
}

/// `commit_sample` and `commit_rows`: every layer's `commit` of its statistics, after a step
/// that applied its update.
pub fn commits(expansion: &Expansion) -> TokenStream {
    let (buffers, batch_buffers) = (expansion.buffers_name(), expansion.batch_buffers_name());
    let calls = |method: TokenStream| -> Vec<TokenStream> {
        expansion
            .model
            .layers
            .iter()
            .map(|layer| {
                let (span, field, cache, layer_trait) =
                    (layer_span(layer), field(layer.index), cache(layer.index), expansion.layer_trait(layer));
                quote_spanned!(span=> #layer_trait::#method(&mut self.#field, &buffers.#cache);)
            })
            .collect()
    };
    let (sample, rows) = (calls(quote!(commit)), calls(quote!(commit_rows)));
    quote! {
        fn commit_sample(&mut self, buffers: &#buffers) {
            #(#sample)*
        }

        fn commit_rows(&mut self, buffers: &#batch_buffers) {
            #(#rows)*
        }
    }
}

/// `begin_block` and `end_block`: handed to the layer that reads the network's input, the only
/// one whose inputs for a whole block are known in advance.
pub fn blocks(expansion: &Expansion) -> TokenStream {
    let model = expansion.model;
    let inputs = model.input().len();
    let buffers = expansion.buffers_name();
    let first = &model.layers[0];
    let (field, cache, layer_trait) = (field(0), cache(0), expansion.layer_trait(first));
    quote! {
        fn begin_block(&self, buffers: &mut #buffers, inputs: &[&[f32; #inputs]]) {
            #layer_trait::begin_block(&self.#field, &mut buffers.#cache, inputs);
        }

        fn end_block(&mut self, buffers: &mut #buffers) {
            #layer_trait::end_block(&mut self.#field, &mut buffers.#cache);
        }
    }
}
