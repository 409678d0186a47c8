//! The forward and backward passes, written out layer by layer, for one sample and for a batch
//! of rows.

use super::{activation_buffer, field, gradient_buffer, items, layer_span, linear_type, parameter_gradients, Context};
use crate::ast::{Layer, LayerKind};
use proc_macro2::{Ident, TokenStream};
use quote::{quote, quote_spanned};

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
}

/// One layer's forward call from `input` into `output`.
fn layer_forward(context: &Context, layer: &Layer, pass: Pass, input: TokenStream, output: TokenStream) -> TokenStream {
    let p = context.private();
    let span = layer_span(layer);
    let method = match pass {
        Pass::Sample => quote_spanned!(span=> forward),
        Pass::Rows => quote_spanned!(span=> forward_rows),
    };
    match layer.kind {
        LayerKind::Linear { .. } => {
            let (field, linear) = (field(layer), linear_type(context, layer));
            // A batch is packed in a scratch panel (by `InputLinear` only when it is dense).
            let scratch = match pass {
                Pass::Rows => quote!(, &mut buffers.scratch),
                Pass::Sample => quote!(),
            };
            quote_spanned!(span=> #linear::#method(&self.#field, #input, #output #scratch);)
        }
        ref activation => {
            let activation = context.activation(activation);
            quote_spanned!(span=> #p::Activation::#method(&#activation, #input, #output);)
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
        let call = layer_forward(context, layer, Pass::Sample, input, quote!(&mut #output));
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

/// The forward calls of every layer, reading and writing `pass`'s buffers.
fn forward_steps(context: &Context, pass: Pass) -> Vec<TokenStream> {
    let layers = &context.model.layers;
    layers
        .iter()
        .map(|layer| {
            layer_forward(context, layer, pass, pass.input_of(layer), pass.write(&activation_buffer(layer.index)))
        })
        .collect()
}

/// `forward_sample`: every activation kept in the buffers for `backward_sample`.
pub fn forward_sample(context: &Context) -> TokenStream {
    let model = context.model;
    let (inputs, outputs) = (model.input().len(), model.output().len());
    let buffers = context.buffers_name();
    let steps = forward_steps(context, Pass::Sample);
    let last = activation_buffer(context.last_index());
    quote! {
        fn forward_sample<'b>(&self, buffers: &'b mut #buffers, input: &[f32; #inputs]) -> &'b [f32; #outputs] {
            buffers.input.copy_from_slice(input);
            #(#steps)*
            &buffers.#last.0
        }
    }
}

/// `forward_rows`: the batch buffers grown to the batch, then every layer on all rows.
pub fn forward_rows(context: &Context) -> TokenStream {
    let model = context.model;
    let (inputs, outputs) = (model.input().len(), model.output().len());
    let batch_buffers = context.batch_buffers_name();
    let grow = items::grow_batch_buffers(context);
    let steps = forward_steps(context, Pass::Rows);
    let last = activation_buffer(context.last_index());
    quote! {
        fn forward_rows<'b>(&self, buffers: &'b mut #batch_buffers, inputs: &[[f32; #inputs]]) -> &'b [[f32; #outputs]] {
            let rows = inputs.len();
            #grow
            #(#steps)*
            &buffers.#last[..rows]
        }
    }
}

/// Splits the flat `gradients` into one slice per parameter tensor.
fn split_gradients(context: &Context) -> TokenStream {
    let p = context.private();
    let names = context.parametric().flat_map(|layer| {
        let (weight, bias) = parameter_gradients(layer);
        [weight, bias]
    });
    let lengths = context.tensor_lengths();
    quote!(let [#(#names),*] = #p::split_gradients(gradients, [#(#lengths),*]);)
}

/// The backward calls of every layer in reverse: each turns the gradient of its output into the
/// gradient of its input (the first layer skips that) and handles its parameter gradients.
fn backward_steps(context: &Context, pass: Pass) -> Vec<TokenStream> {
    let p = context.private();
    let layers = &context.model.layers;
    layers
        .iter()
        .rev()
        .map(|layer| {
            let span = layer_span(layer);
            let input = pass.input_of(layer);
            let output_gradient = pass.output_gradient_of(layer, context.last_index());
            let input_gradient = (layer.index > 0).then(|| pass.write(&gradient_buffer(layer.index - 1)));
            match layer.kind {
                LayerKind::Linear { .. } => {
                    let (field, (weight, bias)) = (field(layer), parameter_gradients(layer));
                    let linear = linear_type(context, layer);
                    // The first layer (`InputLinear`) has no input gradient to write.
                    let input_gradient = input_gradient.map(|buffer| quote!(::core::option::Option::Some(#buffer),));
                    match pass {
                        Pass::Sample => quote_spanned! {span=>
                            #linear::backward(&mut self.#field, #input, #output_gradient, #input_gradient #weight, #bias, update);
                        },
                        Pass::Rows => quote_spanned! {span=>
                            #linear::backward_rows(&mut self.#field, #input, #output_gradient, #input_gradient #weight, #bias, update);
                        },
                    }
                }
                ref kind => {
                    let activation = context.activation(kind);
                    let output = pass.read(&activation_buffer(layer.index));
                    let input_gradient = input_gradient.expect("a network never starts with an activation");
                    let method = match pass {
                        Pass::Sample => quote_spanned!(span=> backward),
                        Pass::Rows => quote_spanned!(span=> backward_rows),
                    };
                    quote_spanned! {span=>
                        #p::Activation::#method(&#activation, #input, #output, #output_gradient, #input_gradient);
                    }
                }
            }
        })
        .collect()
}

/// `backward_sample`.
pub fn backward_sample(context: &Context) -> TokenStream {
    let p = context.private();
    let outputs = context.model.output().len();
    let buffers = context.buffers_name();
    let split = split_gradients(context);
    let steps = backward_steps(context, Pass::Sample);
    quote! {
        fn backward_sample(&mut self, buffers: &mut #buffers, output_gradient: &[f32; #outputs], gradients: &mut [f32], update: #p::Update) {
            #split
            #(#steps)*
        }
    }
}

/// `backward_rows`.
pub fn backward_rows(context: &Context) -> TokenStream {
    let p = context.private();
    let model = context.model;
    let (inputs, outputs) = (model.input().len(), model.output().len());
    let batch_buffers = context.batch_buffers_name();
    let split = split_gradients(context);
    let steps = backward_steps(context, Pass::Rows);
    quote! {
        fn backward_rows(&mut self, buffers: &mut #batch_buffers, inputs: &[[f32; #inputs]], output_gradients: &[[f32; #outputs]], gradients: &mut [f32], update: #p::Update) {
            let rows = inputs.len();
            #split
            #(#steps)*
        }
    }
}

/// `forward_sample_with_first_layer`: `forward_sample` with the first layer's output computed by
/// the caller.
pub fn forward_sample_with_first_layer(context: &Context) -> TokenStream {
    let model = context.model;
    let (inputs, outputs) = (model.input().len(), model.output().len());
    let buffers = context.buffers_name();
    let steps = forward_steps(context, Pass::Sample).into_iter().skip(1);
    let first_output = activation_buffer(0);
    let last = activation_buffer(context.last_index());
    quote! {
        fn forward_sample_with_first_layer<'b>(
            &self,
            buffers: &'b mut #buffers,
            input: &[f32; #inputs],
            first_layer: &mut dyn FnMut(&[f32], &mut [f32]),
        ) -> &'b [f32; #outputs] {
            buffers.input.copy_from_slice(input);
            first_layer(&buffers.input.0, &mut buffers.#first_output.0);
            #(#steps)*
            &buffers.#last.0
        }
    }
}

/// `backward_sample_deferred`, `first_layer` and `first_layer_weight_mut`: the SGD backward pass
/// with the first layer's weight update handed to the caller, and access to that layer.
pub fn backward_sample_deferred(context: &Context) -> TokenStream {
    let p = context.private();
    let model = context.model;
    let outputs = model.output().len();
    let buffers = context.buffers_name();
    let first = &model.layers[0];
    let first_field = field(first);
    // The SGD path never touches the gradient slices.
    let unused_gradients = context.parametric().skip(1).map(|layer| {
        let (weight, bias) = parameter_gradients(layer);
        quote!(let (#weight, #bias): (&mut [f32], &mut [f32]) = (&mut [], &mut []);)
    });
    let mut backward = backward_steps(context, Pass::Sample);
    backward.pop(); // the first layer's step, replaced below
    let first_output_gradient = Pass::Sample.output_gradient_of(first, context.last_index());
    quote! {
        fn backward_sample_deferred(
            &mut self,
            buffers: &mut #buffers,
            output_gradient: &[f32; #outputs],
            learning_rate: f32,
            defer: &mut dyn FnMut(&[f32], &[f32]),
        ) {
            #[allow(unused_variables)]
            let update = #p::Update::Sgd { learning_rate };
            #(#unused_gradients)*
            #(#backward)*
            #p::InputLinear::update_bias(&mut self.#first_field, #first_output_gradient, learning_rate);
            defer(&buffers.input.0, #first_output_gradient);
        }

        fn first_layer(&self) -> (&[f32], &[f32]) {
            (#p::AsFlat::as_flat(&*self.#first_field.weight), &self.#first_field.bias[..])
        }

        fn first_layer_weight_mut(&mut self) -> &mut [f32] {
            #p::AsFlat::as_flat_mut(&mut *self.#first_field.weight)
        }
    }
}
