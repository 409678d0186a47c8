/// Learns XOR.
#[derive(Clone, Debug, PartialEq)]
pub struct Xor {
    /// Layer 0, `Linear(2, 8)`.
    pub layer0: ::nn::__private::InputLinear<2usize, 8usize>,
    /// Layer 1, `LeakyReLU(0.2)`.
    pub layer1: ::nn::__private::LeakyReLU,
    /// Layer 2, `Linear(8, 1)`.
    pub layer2: ::nn::__private::Linear<8usize, 1usize>,
    /// Layer 3, `Sigmoid`.
    pub layer3: ::nn::__private::Sigmoid,
}
/// The activations of one sample of [`Xor`], their gradients and the layers' caches.
pub struct XorBuffers {
    input: ::std::boxed::Box<::nn::__private::CacheAligned<[f32; 2usize]>>,
    a0: ::std::boxed::Box<::nn::__private::CacheAligned<[f32; 8usize]>>,
    d0: ::std::boxed::Box<::nn::__private::CacheAligned<[f32; 8usize]>>,
    a1: ::std::boxed::Box<::nn::__private::CacheAligned<[f32; 8usize]>>,
    d1: ::std::boxed::Box<::nn::__private::CacheAligned<[f32; 8usize]>>,
    a2: ::std::boxed::Box<::nn::__private::CacheAligned<[f32; 1usize]>>,
    d2: ::std::boxed::Box<::nn::__private::CacheAligned<[f32; 1usize]>>,
    a3: ::std::boxed::Box<::nn::__private::CacheAligned<[f32; 1usize]>>,
    c0: <::nn::__private::InputLinear<
        2usize,
        8usize,
    > as ::nn::__private::Layer<2usize, 8usize>>::Cache,
    c1: <::nn::__private::LeakyReLU as ::nn::__private::Layer<8usize, 8usize>>::Cache,
    c2: <::nn::__private::Linear<
        8usize,
        1usize,
    > as ::nn::__private::Layer<8usize, 1usize>>::Cache,
    c3: <::nn::__private::Sigmoid as ::nn::__private::Layer<1usize, 1usize>>::Cache,
}
/// The activations of a batch of [`Xor`], their gradients and the layers' caches, one row per sample.
pub struct XorBatchBuffers {
    a0: ::std::vec::Vec<[f32; 8usize]>,
    d0: ::std::vec::Vec<[f32; 8usize]>,
    a1: ::std::vec::Vec<[f32; 8usize]>,
    d1: ::std::vec::Vec<[f32; 8usize]>,
    a2: ::std::vec::Vec<[f32; 1usize]>,
    d2: ::std::vec::Vec<[f32; 1usize]>,
    a3: ::std::vec::Vec<[f32; 1usize]>,
    c0: <::nn::__private::InputLinear<
        2usize,
        8usize,
    > as ::nn::__private::Layer<2usize, 8usize>>::BatchCache,
    c1: <::nn::__private::LeakyReLU as ::nn::__private::Layer<
        8usize,
        8usize,
    >>::BatchCache,
    c2: <::nn::__private::Linear<
        8usize,
        1usize,
    > as ::nn::__private::Layer<8usize, 1usize>>::BatchCache,
    c3: <::nn::__private::Sigmoid as ::nn::__private::Layer<1usize, 1usize>>::BatchCache,
}
impl Xor {
    /// The number of input values of one sample.
    pub const INPUTS: usize = 2usize;
    /// The number of output values of one sample.
    pub const OUTPUTS: usize = 1usize;
    /// The number of trainable parameters.
    pub const PARAMETERS: usize = 33usize;
    /// The layer list, as declared.
    pub const ARCHITECTURE: &'static str = "Linear(2, 8) -> LeakyReLU(0.2) -> Linear(8, 1) -> Sigmoid";
}
impl ::nn::__private::Sequential<2usize, 1usize> for Xor {
    type Buffers = XorBuffers;
    type BatchBuffers = XorBatchBuffers;
    const BATCH_STATISTICS: bool = false
        || <::nn::__private::InputLinear<
            2usize,
            8usize,
        > as ::nn::__private::Layer<2usize, 8usize>>::BATCH_STATISTICS
        || <::nn::__private::LeakyReLU as ::nn::__private::Layer<
            8usize,
            8usize,
        >>::BATCH_STATISTICS
        || <::nn::__private::Linear<
            8usize,
            1usize,
        > as ::nn::__private::Layer<8usize, 1usize>>::BATCH_STATISTICS
        || <::nn::__private::Sigmoid as ::nn::__private::Layer<
            1usize,
            1usize,
        >>::BATCH_STATISTICS;
    fn buffers(&self) -> XorBuffers {
        XorBuffers {
            input: ::nn::__private::zeroed_array::<2usize>(),
            a0: ::nn::__private::zeroed_array::<8usize>(),
            d0: ::nn::__private::zeroed_array::<8usize>(),
            a1: ::nn::__private::zeroed_array::<8usize>(),
            d1: ::nn::__private::zeroed_array::<8usize>(),
            a2: ::nn::__private::zeroed_array::<1usize>(),
            d2: ::nn::__private::zeroed_array::<1usize>(),
            a3: ::nn::__private::zeroed_array::<1usize>(),
            c0: <::nn::__private::InputLinear<
                2usize,
                8usize,
            > as ::nn::__private::Layer<2usize, 8usize>>::cache(&self.layer0),
            c1: <::nn::__private::LeakyReLU as ::nn::__private::Layer<
                8usize,
                8usize,
            >>::cache(&self.layer1),
            c2: <::nn::__private::Linear<
                8usize,
                1usize,
            > as ::nn::__private::Layer<8usize, 1usize>>::cache(&self.layer2),
            c3: <::nn::__private::Sigmoid as ::nn::__private::Layer<
                1usize,
                1usize,
            >>::cache(&self.layer3),
        }
    }
    fn batch_buffers(&self) -> XorBatchBuffers {
        XorBatchBuffers {
            a0: ::std::vec::Vec::new(),
            d0: ::std::vec::Vec::new(),
            a1: ::std::vec::Vec::new(),
            d1: ::std::vec::Vec::new(),
            a2: ::std::vec::Vec::new(),
            d2: ::std::vec::Vec::new(),
            a3: ::std::vec::Vec::new(),
            c0: <::nn::__private::InputLinear<
                2usize,
                8usize,
            > as ::nn::__private::Layer<2usize, 8usize>>::batch_cache(&self.layer0),
            c1: <::nn::__private::LeakyReLU as ::nn::__private::Layer<
                8usize,
                8usize,
            >>::batch_cache(&self.layer1),
            c2: <::nn::__private::Linear<
                8usize,
                1usize,
            > as ::nn::__private::Layer<8usize, 1usize>>::batch_cache(&self.layer2),
            c3: <::nn::__private::Sigmoid as ::nn::__private::Layer<
                1usize,
                1usize,
            >>::batch_cache(&self.layer3),
        }
    }
    fn forward_sample<'b>(
        &self,
        context: &mut ::nn::__private::Context,
        buffers: &'b mut XorBuffers,
        input: &[f32; 2usize],
    ) -> &'b [f32; 1usize] {
        buffers.input.copy_from_slice(input);
        <::nn::__private::InputLinear<
            2usize,
            8usize,
        > as ::nn::__private::Layer<
            2usize,
            8usize,
        >>::forward(
            &self.layer0,
            context,
            &mut buffers.c0,
            &buffers.input.0,
            &mut buffers.a0.0,
        );
        <::nn::__private::LeakyReLU as ::nn::__private::Layer<
            8usize,
            8usize,
        >>::forward(
            &self.layer1,
            context,
            &mut buffers.c1,
            &buffers.a0.0,
            &mut buffers.a1.0,
        );
        <::nn::__private::Linear<
            8usize,
            1usize,
        > as ::nn::__private::Layer<
            8usize,
            1usize,
        >>::forward(
            &self.layer2,
            context,
            &mut buffers.c2,
            &buffers.a1.0,
            &mut buffers.a2.0,
        );
        <::nn::__private::Sigmoid as ::nn::__private::Layer<
            1usize,
            1usize,
        >>::forward(
            &self.layer3,
            context,
            &mut buffers.c3,
            &buffers.a2.0,
            &mut buffers.a3.0,
        );
        &buffers.a3.0
    }
    fn backward_sample(
        &mut self,
        context: &mut ::nn::__private::Context,
        buffers: &mut XorBuffers,
        output_gradient: &[f32; 1usize],
        gradients: &mut [f32],
        update: ::nn::__private::Update,
    ) {
        let input_gradients = !::core::matches!(
            update, ::nn::__private::Update::Sgd { .. }
        );
        let [g0, g1, g2, g3] = ::nn::__private::split_gradients(
            gradients,
            [
                <::nn::__private::InputLinear<
                    2usize,
                    8usize,
                > as ::nn::__private::Layer<2usize, 8usize>>::PARAMETERS,
                <::nn::__private::LeakyReLU as ::nn::__private::Layer<
                    8usize,
                    8usize,
                >>::PARAMETERS,
                <::nn::__private::Linear<
                    8usize,
                    1usize,
                > as ::nn::__private::Layer<8usize, 1usize>>::PARAMETERS,
                <::nn::__private::Sigmoid as ::nn::__private::Layer<
                    1usize,
                    1usize,
                >>::PARAMETERS,
            ],
        );
        <::nn::__private::Sigmoid as ::nn::__private::Layer<
            1usize,
            1usize,
        >>::backward(
            &mut self.layer3,
            context,
            &mut buffers.c3,
            &buffers.a2.0,
            &buffers.a3.0,
            output_gradient,
            if input_gradients {
                ::core::option::Option::Some(&mut buffers.d2.0)
            } else {
                ::core::option::Option::None
            },
            g3,
            update,
        );
        <::nn::__private::Linear<
            8usize,
            1usize,
        > as ::nn::__private::Layer<
            8usize,
            1usize,
        >>::backward(
            &mut self.layer2,
            context,
            &mut buffers.c2,
            &buffers.a1.0,
            &buffers.a2.0,
            &buffers.d2.0,
            if input_gradients {
                ::core::option::Option::Some(&mut buffers.d1.0)
            } else {
                ::core::option::Option::None
            },
            g2,
            update,
        );
        <::nn::__private::LeakyReLU as ::nn::__private::Layer<
            8usize,
            8usize,
        >>::backward(
            &mut self.layer1,
            context,
            &mut buffers.c1,
            &buffers.a0.0,
            &buffers.a1.0,
            &buffers.d1.0,
            if input_gradients {
                ::core::option::Option::Some(&mut buffers.d0.0)
            } else {
                ::core::option::Option::None
            },
            g1,
            update,
        );
        <::nn::__private::InputLinear<
            2usize,
            8usize,
        > as ::nn::__private::Layer<
            2usize,
            8usize,
        >>::backward(
            &mut self.layer0,
            context,
            &mut buffers.c0,
            &buffers.input.0,
            &buffers.a0.0,
            &buffers.d0.0,
            ::core::option::Option::None,
            g0,
            update,
        );
    }
    fn forward_rows<'b>(
        &self,
        context: &mut ::nn::__private::Context,
        buffers: &'b mut XorBatchBuffers,
        inputs: &[[f32; 2usize]],
    ) -> &'b [[f32; 1usize]] {
        let rows = inputs.len();
        ::nn::__private::grow_rows(&mut buffers.a0, rows);
        ::nn::__private::grow_rows(&mut buffers.d0, rows);
        ::nn::__private::grow_rows(&mut buffers.a1, rows);
        ::nn::__private::grow_rows(&mut buffers.d1, rows);
        ::nn::__private::grow_rows(&mut buffers.a2, rows);
        ::nn::__private::grow_rows(&mut buffers.d2, rows);
        ::nn::__private::grow_rows(&mut buffers.a3, rows);
        <::nn::__private::InputLinear<
            2usize,
            8usize,
        > as ::nn::__private::Layer<
            2usize,
            8usize,
        >>::forward_rows(
            &self.layer0,
            context,
            &mut buffers.c0,
            inputs,
            &mut buffers.a0[..rows],
        );
        <::nn::__private::LeakyReLU as ::nn::__private::Layer<
            8usize,
            8usize,
        >>::forward_rows(
            &self.layer1,
            context,
            &mut buffers.c1,
            &buffers.a0[..rows],
            &mut buffers.a1[..rows],
        );
        <::nn::__private::Linear<
            8usize,
            1usize,
        > as ::nn::__private::Layer<
            8usize,
            1usize,
        >>::forward_rows(
            &self.layer2,
            context,
            &mut buffers.c2,
            &buffers.a1[..rows],
            &mut buffers.a2[..rows],
        );
        <::nn::__private::Sigmoid as ::nn::__private::Layer<
            1usize,
            1usize,
        >>::forward_rows(
            &self.layer3,
            context,
            &mut buffers.c3,
            &buffers.a2[..rows],
            &mut buffers.a3[..rows],
        );
        &buffers.a3[..rows]
    }
    fn backward_rows(
        &mut self,
        context: &mut ::nn::__private::Context,
        buffers: &mut XorBatchBuffers,
        inputs: &[[f32; 2usize]],
        output_gradients: &[[f32; 1usize]],
        gradients: &mut [f32],
        update: ::nn::__private::Update,
    ) {
        let rows = inputs.len();
        let input_gradients = !::core::matches!(
            update, ::nn::__private::Update::Sgd { .. }
        );
        let [g0, g1, g2, g3] = ::nn::__private::split_gradients(
            gradients,
            [
                <::nn::__private::InputLinear<
                    2usize,
                    8usize,
                > as ::nn::__private::Layer<2usize, 8usize>>::PARAMETERS,
                <::nn::__private::LeakyReLU as ::nn::__private::Layer<
                    8usize,
                    8usize,
                >>::PARAMETERS,
                <::nn::__private::Linear<
                    8usize,
                    1usize,
                > as ::nn::__private::Layer<8usize, 1usize>>::PARAMETERS,
                <::nn::__private::Sigmoid as ::nn::__private::Layer<
                    1usize,
                    1usize,
                >>::PARAMETERS,
            ],
        );
        <::nn::__private::Sigmoid as ::nn::__private::Layer<
            1usize,
            1usize,
        >>::backward_rows(
            &mut self.layer3,
            context,
            &mut buffers.c3,
            &buffers.a2[..rows],
            &buffers.a3[..rows],
            output_gradients,
            if input_gradients {
                ::core::option::Option::Some(&mut buffers.d2[..rows])
            } else {
                ::core::option::Option::None
            },
            g3,
            update,
        );
        <::nn::__private::Linear<
            8usize,
            1usize,
        > as ::nn::__private::Layer<
            8usize,
            1usize,
        >>::backward_rows(
            &mut self.layer2,
            context,
            &mut buffers.c2,
            &buffers.a1[..rows],
            &buffers.a2[..rows],
            &buffers.d2[..rows],
            if input_gradients {
                ::core::option::Option::Some(&mut buffers.d1[..rows])
            } else {
                ::core::option::Option::None
            },
            g2,
            update,
        );
        <::nn::__private::LeakyReLU as ::nn::__private::Layer<
            8usize,
            8usize,
        >>::backward_rows(
            &mut self.layer1,
            context,
            &mut buffers.c1,
            &buffers.a0[..rows],
            &buffers.a1[..rows],
            &buffers.d1[..rows],
            if input_gradients {
                ::core::option::Option::Some(&mut buffers.d0[..rows])
            } else {
                ::core::option::Option::None
            },
            g1,
            update,
        );
        <::nn::__private::InputLinear<
            2usize,
            8usize,
        > as ::nn::__private::Layer<
            2usize,
            8usize,
        >>::backward_rows(
            &mut self.layer0,
            context,
            &mut buffers.c0,
            inputs,
            &buffers.a0[..rows],
            &buffers.d0[..rows],
            ::core::option::Option::None,
            g0,
            update,
        );
    }
    fn begin_block(&self, buffers: &mut XorBuffers, inputs: &[&[f32; 2usize]]) {
        <::nn::__private::InputLinear<
            2usize,
            8usize,
        > as ::nn::__private::Layer<
            2usize,
            8usize,
        >>::begin_block(&self.layer0, &mut buffers.c0, inputs);
    }
    fn end_block(&mut self, buffers: &mut XorBuffers) {
        <::nn::__private::InputLinear<
            2usize,
            8usize,
        > as ::nn::__private::Layer<
            2usize,
            8usize,
        >>::end_block(&mut self.layer0, &mut buffers.c0);
    }
    fn gradient_bound_sample(
        &self,
        buffers: &XorBuffers,
        output_gradient: &[f32; 1usize],
    ) -> (f64, usize) {
        let mut largest = (0.0f64, 0usize);
        let bound = <::nn::__private::InputLinear<
            2usize,
            8usize,
        > as ::nn::__private::Layer<
            2usize,
            8usize,
        >>::gradient_bound(
            &self.layer0,
            ::core::slice::from_ref(&buffers.input.0),
            ::core::slice::from_ref(&buffers.d0.0),
        );
        if !(bound <= largest.0) && !largest.0.is_nan() {
            largest = (bound, 0usize);
        }
        let bound = <::nn::__private::LeakyReLU as ::nn::__private::Layer<
            8usize,
            8usize,
        >>::gradient_bound(
            &self.layer1,
            ::core::slice::from_ref(&buffers.a0.0),
            ::core::slice::from_ref(&buffers.d1.0),
        );
        if !(bound <= largest.0) && !largest.0.is_nan() {
            largest = (bound, 1usize);
        }
        let bound = <::nn::__private::Linear<
            8usize,
            1usize,
        > as ::nn::__private::Layer<
            8usize,
            1usize,
        >>::gradient_bound(
            &self.layer2,
            ::core::slice::from_ref(&buffers.a1.0),
            ::core::slice::from_ref(&buffers.d2.0),
        );
        if !(bound <= largest.0) && !largest.0.is_nan() {
            largest = (bound, 2usize);
        }
        let bound = <::nn::__private::Sigmoid as ::nn::__private::Layer<
            1usize,
            1usize,
        >>::gradient_bound(
            &self.layer3,
            ::core::slice::from_ref(&buffers.a2.0),
            ::core::slice::from_ref(output_gradient),
        );
        if !(bound <= largest.0) && !largest.0.is_nan() {
            largest = (bound, 3usize);
        }
        largest
    }
    fn gradient_bound_rows(
        &self,
        buffers: &XorBatchBuffers,
        inputs: &[[f32; 2usize]],
        output_gradients: &[[f32; 1usize]],
        range: ::core::ops::Range<usize>,
    ) -> (f64, usize) {
        let mut largest = (0.0f64, 0usize);
        let bound = <::nn::__private::InputLinear<
            2usize,
            8usize,
        > as ::nn::__private::Layer<
            2usize,
            8usize,
        >>::gradient_bound(
            &self.layer0,
            &inputs[range.clone()],
            &buffers.d0[range.clone()],
        );
        if !(bound <= largest.0) && !largest.0.is_nan() {
            largest = (bound, 0usize);
        }
        let bound = <::nn::__private::LeakyReLU as ::nn::__private::Layer<
            8usize,
            8usize,
        >>::gradient_bound(
            &self.layer1,
            &buffers.a0[range.clone()],
            &buffers.d1[range.clone()],
        );
        if !(bound <= largest.0) && !largest.0.is_nan() {
            largest = (bound, 1usize);
        }
        let bound = <::nn::__private::Linear<
            8usize,
            1usize,
        > as ::nn::__private::Layer<
            8usize,
            1usize,
        >>::gradient_bound(
            &self.layer2,
            &buffers.a1[range.clone()],
            &buffers.d2[range.clone()],
        );
        if !(bound <= largest.0) && !largest.0.is_nan() {
            largest = (bound, 2usize);
        }
        let bound = <::nn::__private::Sigmoid as ::nn::__private::Layer<
            1usize,
            1usize,
        >>::gradient_bound(
            &self.layer3,
            &buffers.a2[range.clone()],
            &output_gradients[range.clone()],
        );
        if !(bound <= largest.0) && !largest.0.is_nan() {
            largest = (bound, 3usize);
        }
        largest
    }
    fn commit_sample(&mut self, buffers: &XorBuffers) {
        <::nn::__private::InputLinear<
            2usize,
            8usize,
        > as ::nn::__private::Layer<
            2usize,
            8usize,
        >>::commit(&mut self.layer0, &buffers.c0);
        <::nn::__private::LeakyReLU as ::nn::__private::Layer<
            8usize,
            8usize,
        >>::commit(&mut self.layer1, &buffers.c1);
        <::nn::__private::Linear<
            8usize,
            1usize,
        > as ::nn::__private::Layer<
            8usize,
            1usize,
        >>::commit(&mut self.layer2, &buffers.c2);
        <::nn::__private::Sigmoid as ::nn::__private::Layer<
            1usize,
            1usize,
        >>::commit(&mut self.layer3, &buffers.c3);
    }
    fn commit_rows(&mut self, buffers: &XorBatchBuffers) {
        <::nn::__private::InputLinear<
            2usize,
            8usize,
        > as ::nn::__private::Layer<
            2usize,
            8usize,
        >>::commit_rows(&mut self.layer0, &buffers.c0);
        <::nn::__private::LeakyReLU as ::nn::__private::Layer<
            8usize,
            8usize,
        >>::commit_rows(&mut self.layer1, &buffers.c1);
        <::nn::__private::Linear<
            8usize,
            1usize,
        > as ::nn::__private::Layer<
            8usize,
            1usize,
        >>::commit_rows(&mut self.layer2, &buffers.c2);
        <::nn::__private::Sigmoid as ::nn::__private::Layer<
            1usize,
            1usize,
        >>::commit_rows(&mut self.layer3, &buffers.c3);
    }
    fn each_tensor(
        &self,
        gradients: ::core::option::Option<&[f32]>,
        visitor: &mut dyn FnMut(::nn::__private::Tensor<'_>),
    ) {
        let [g0, g1, g2, g3] = ::nn::__private::split_gradients_option(
            gradients,
            [
                <::nn::__private::InputLinear<
                    2usize,
                    8usize,
                > as ::nn::__private::Layer<2usize, 8usize>>::PARAMETERS,
                <::nn::__private::LeakyReLU as ::nn::__private::Layer<
                    8usize,
                    8usize,
                >>::PARAMETERS,
                <::nn::__private::Linear<
                    8usize,
                    1usize,
                > as ::nn::__private::Layer<8usize, 1usize>>::PARAMETERS,
                <::nn::__private::Sigmoid as ::nn::__private::Layer<
                    1usize,
                    1usize,
                >>::PARAMETERS,
            ],
        );
        <::nn::__private::InputLinear<
            2usize,
            8usize,
        > as ::nn::__private::Layer<
            2usize,
            8usize,
        >>::visit_tensors(&self.layer0, 0usize, g0, visitor);
        <::nn::__private::LeakyReLU as ::nn::__private::Layer<
            8usize,
            8usize,
        >>::visit_tensors(&self.layer1, 1usize, g1, visitor);
        <::nn::__private::Linear<
            8usize,
            1usize,
        > as ::nn::__private::Layer<
            8usize,
            1usize,
        >>::visit_tensors(&self.layer2, 2usize, g2, visitor);
        <::nn::__private::Sigmoid as ::nn::__private::Layer<
            1usize,
            1usize,
        >>::visit_tensors(&self.layer3, 3usize, g3, visitor);
    }
    fn each_tensor_mut(
        &mut self,
        visitor: &mut dyn FnMut(::nn::__private::TensorMut<'_>),
    ) {
        <::nn::__private::InputLinear<
            2usize,
            8usize,
        > as ::nn::__private::Layer<
            2usize,
            8usize,
        >>::visit_tensors_mut(&mut self.layer0, 0usize, visitor);
        <::nn::__private::LeakyReLU as ::nn::__private::Layer<
            8usize,
            8usize,
        >>::visit_tensors_mut(&mut self.layer1, 1usize, visitor);
        <::nn::__private::Linear<
            8usize,
            1usize,
        > as ::nn::__private::Layer<
            8usize,
            1usize,
        >>::visit_tensors_mut(&mut self.layer2, 2usize, visitor);
        <::nn::__private::Sigmoid as ::nn::__private::Layer<
            1usize,
            1usize,
        >>::visit_tensors_mut(&mut self.layer3, 3usize, visitor);
    }
    fn each_parameter_mut(
        &mut self,
        gradients: &[f32],
        visitor: &mut dyn FnMut(&mut [f32], &[f32]),
    ) {
        let [g0, g1, g2, g3] = ::nn::__private::split_gradients_shared(
            gradients,
            [
                <::nn::__private::InputLinear<
                    2usize,
                    8usize,
                > as ::nn::__private::Layer<2usize, 8usize>>::PARAMETERS,
                <::nn::__private::LeakyReLU as ::nn::__private::Layer<
                    8usize,
                    8usize,
                >>::PARAMETERS,
                <::nn::__private::Linear<
                    8usize,
                    1usize,
                > as ::nn::__private::Layer<8usize, 1usize>>::PARAMETERS,
                <::nn::__private::Sigmoid as ::nn::__private::Layer<
                    1usize,
                    1usize,
                >>::PARAMETERS,
            ],
        );
        <::nn::__private::InputLinear<
            2usize,
            8usize,
        > as ::nn::__private::Layer<
            2usize,
            8usize,
        >>::visit_parameters_mut(&mut self.layer0, g0, visitor);
        <::nn::__private::LeakyReLU as ::nn::__private::Layer<
            8usize,
            8usize,
        >>::visit_parameters_mut(&mut self.layer1, g1, visitor);
        <::nn::__private::Linear<
            8usize,
            1usize,
        > as ::nn::__private::Layer<
            8usize,
            1usize,
        >>::visit_parameters_mut(&mut self.layer2, g2, visitor);
        <::nn::__private::Sigmoid as ::nn::__private::Layer<
            1usize,
            1usize,
        >>::visit_parameters_mut(&mut self.layer3, g3, visitor);
    }
}
impl ::nn::__private::Network<2usize, 1usize> for Xor {
    const ARCHITECTURE: &'static str = "Linear(2, 8) -> LeakyReLU(0.2) -> Linear(8, 1) -> Sigmoid";
    const SUMMARY: &'static str = "Xor (input shape [2])\n#  Layer           Output shape  Parameters\n0  Linear(2, 8)    [8]                   24\n1  LeakyReLU(0.2)  [8]                    0\n2  Linear(8, 1)    [1]                    9\n3  Sigmoid         [1]                    0\nTotal parameters: 33";
    const PARAMETERS: usize = 33usize;
    const ENDS_WITH_SOFTMAX: bool = false;
    const MULTIPLY_ADDS: usize = 0
        + <::nn::__private::InputLinear<
            2usize,
            8usize,
        > as ::nn::__private::Layer<2usize, 8usize>>::MULTIPLY_ADDS
        + <::nn::__private::LeakyReLU as ::nn::__private::Layer<
            8usize,
            8usize,
        >>::MULTIPLY_ADDS
        + <::nn::__private::Linear<
            8usize,
            1usize,
        > as ::nn::__private::Layer<8usize, 1usize>>::MULTIPLY_ADDS
        + <::nn::__private::Sigmoid as ::nn::__private::Layer<
            1usize,
            1usize,
        >>::MULTIPLY_ADDS;
    const MIN_TRAINING_BATCH: usize = ::nn::__private::largest(
        &[
            <::nn::__private::InputLinear<
                2usize,
                8usize,
            > as ::nn::__private::Layer<2usize, 8usize>>::TRAINING_ROWS,
            <::nn::__private::LeakyReLU as ::nn::__private::Layer<
                8usize,
                8usize,
            >>::TRAINING_ROWS,
            <::nn::__private::Linear<
                8usize,
                1usize,
            > as ::nn::__private::Layer<8usize, 1usize>>::TRAINING_ROWS,
            <::nn::__private::Sigmoid as ::nn::__private::Layer<
                1usize,
                1usize,
            >>::TRAINING_ROWS,
        ],
    );
    fn new<R: ::nn::__private::Rng + ?Sized>(rng: &mut R) -> Self {
        Self {
            layer0: <::nn::__private::InputLinear<
                2usize,
                8usize,
            >>::new(::nn::__private::Init::He, rng),
            layer1: ::nn::__private::LeakyReLU {
                slope: 0.2f32,
            },
            layer2: <::nn::__private::Linear<
                8usize,
                1usize,
            >>::new(::nn::__private::Init::Xavier, rng),
            layer3: ::nn::__private::Sigmoid,
        }
    }
    fn zeroed() -> Self {
        Self {
            layer0: <::nn::__private::InputLinear<2usize, 8usize>>::zeroed(),
            layer1: ::nn::__private::LeakyReLU {
                slope: 0.2f32,
            },
            layer2: <::nn::__private::Linear<8usize, 1usize>>::zeroed(),
            layer3: ::nn::__private::Sigmoid,
        }
    }
    fn forward(&self, input: &[f32; 2usize]) -> [f32; 1usize] {
        let mut a0 = [0.0f32; 8usize];
        <::nn::__private::InputLinear<
            2usize,
            8usize,
        > as ::nn::__private::Layer<
            2usize,
            8usize,
        >>::infer(&self.layer0, input, &mut a0);
        let mut a1 = [0.0f32; 8usize];
        <::nn::__private::LeakyReLU as ::nn::__private::Layer<
            8usize,
            8usize,
        >>::infer(&self.layer1, &a0, &mut a1);
        let mut a2 = [0.0f32; 1usize];
        <::nn::__private::Linear<
            8usize,
            1usize,
        > as ::nn::__private::Layer<8usize, 1usize>>::infer(&self.layer2, &a1, &mut a2);
        let mut a3 = [0.0f32; 1usize];
        <::nn::__private::Sigmoid as ::nn::__private::Layer<
            1usize,
            1usize,
        >>::infer(&self.layer3, &a2, &mut a3);
        a3
    }
}
