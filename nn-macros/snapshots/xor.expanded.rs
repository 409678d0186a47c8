/// Learns XOR.
#[derive(Clone, Debug, PartialEq)]
pub struct Xor {
    /// Layer 0, `Linear(2, 8)`.
    pub layer0: ::nn::__private::InputLinear<2usize, 8usize>,
    /// Layer 2, `Linear(8, 1)`.
    pub layer2: ::nn::__private::Linear<8usize, 1usize>,
}
/// The activations of one sample of [`Xor`] and their gradients.
pub struct XorBuffers {
    input: ::std::boxed::Box<::nn::__private::CacheAligned<[f32; 2usize]>>,
    a0: ::std::boxed::Box<::nn::__private::CacheAligned<[f32; 8usize]>>,
    d0: ::std::boxed::Box<::nn::__private::CacheAligned<[f32; 8usize]>>,
    a1: ::std::boxed::Box<::nn::__private::CacheAligned<[f32; 8usize]>>,
    d1: ::std::boxed::Box<::nn::__private::CacheAligned<[f32; 8usize]>>,
    a2: ::std::boxed::Box<::nn::__private::CacheAligned<[f32; 1usize]>>,
    d2: ::std::boxed::Box<::nn::__private::CacheAligned<[f32; 1usize]>>,
    a3: ::std::boxed::Box<::nn::__private::CacheAligned<[f32; 1usize]>>,
}
/// The activations of a batch of [`Xor`] and their gradients, one row per sample.
pub struct XorBatchBuffers {
    a0: ::std::vec::Vec<[f32; 8usize]>,
    d0: ::std::vec::Vec<[f32; 8usize]>,
    a1: ::std::vec::Vec<[f32; 8usize]>,
    d1: ::std::vec::Vec<[f32; 8usize]>,
    a2: ::std::vec::Vec<[f32; 1usize]>,
    d2: ::std::vec::Vec<[f32; 1usize]>,
    a3: ::std::vec::Vec<[f32; 1usize]>,
    scratch: ::nn::__private::PanelScratch,
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
impl ::nn::__private::Network<2usize, 1usize> for Xor {
    type Buffers = XorBuffers;
    type BatchBuffers = XorBatchBuffers;
    const ARCHITECTURE: &'static str = "Linear(2, 8) -> LeakyReLU(0.2) -> Linear(8, 1) -> Sigmoid";
    const SUMMARY: &'static str = "Xor (input shape [2])\n#  Layer           Output shape  Parameters\n0  Linear(2, 8)    [8]                   24\n1  LeakyReLU(0.2)  [8]                    0\n2  Linear(8, 1)    [1]                    9\n3  Sigmoid         [1]                    0\nTotal parameters: 33";
    const PARAMETERS: usize = 33usize;
    const ENDS_WITH_SOFTMAX: bool = false;
    fn new<R: ::nn::__private::Rng + ?Sized>(rng: &mut R) -> Self {
        Self {
            layer0: ::nn::__private::InputLinear::new(::nn::__private::Init::He, rng),
            layer2: ::nn::__private::Linear::new(::nn::__private::Init::Xavier, rng),
        }
    }
    fn zeroed() -> Self {
        Self {
            layer0: ::nn::__private::InputLinear::zeroed(),
            layer2: ::nn::__private::Linear::zeroed(),
        }
    }
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
            scratch: ::core::default::Default::default(),
        }
    }
    fn forward(&self, input: &[f32; 2usize]) -> [f32; 1usize] {
        let mut a0 = [0.0f32; 8usize];
        ::nn::__private::InputLinear::forward(&self.layer0, input, &mut a0);
        let mut a1 = [0.0f32; 8usize];
        ::nn::__private::Activation::forward(
            &::nn::__private::LeakyReLU {
                slope: 0.2f32,
            },
            &a0,
            &mut a1,
        );
        let mut a2 = [0.0f32; 1usize];
        ::nn::__private::Linear::forward(&self.layer2, &a1, &mut a2);
        let mut a3 = [0.0f32; 1usize];
        ::nn::__private::Activation::forward(&::nn::__private::Sigmoid, &a2, &mut a3);
        a3
    }
    fn forward_sample<'b>(
        &self,
        buffers: &'b mut XorBuffers,
        input: &[f32; 2usize],
    ) -> &'b [f32; 1usize] {
        buffers.input.copy_from_slice(input);
        ::nn::__private::InputLinear::forward(
            &self.layer0,
            &buffers.input.0,
            &mut buffers.a0.0,
        );
        ::nn::__private::Activation::forward(
            &::nn::__private::LeakyReLU {
                slope: 0.2f32,
            },
            &buffers.a0.0,
            &mut buffers.a1.0,
        );
        ::nn::__private::Linear::forward(&self.layer2, &buffers.a1.0, &mut buffers.a2.0);
        ::nn::__private::Activation::forward(
            &::nn::__private::Sigmoid,
            &buffers.a2.0,
            &mut buffers.a3.0,
        );
        &buffers.a3.0
    }
    fn backward_sample(
        &mut self,
        buffers: &mut XorBuffers,
        output_gradient: &[f32; 1usize],
        gradients: &mut [f32],
        update: ::nn::__private::Update,
    ) {
        let [weight_gradient0, bias_gradient0, weight_gradient2, bias_gradient2] = ::nn::__private::split_gradients(
            gradients,
            [16usize, 8usize, 8usize, 1usize],
        );
        ::nn::__private::Activation::backward(
            &::nn::__private::Sigmoid,
            &buffers.a2.0,
            &buffers.a3.0,
            output_gradient,
            &mut buffers.d2.0,
        );
        ::nn::__private::Linear::backward(
            &mut self.layer2,
            &buffers.a1.0,
            &buffers.d2.0,
            ::core::option::Option::Some(&mut buffers.d1.0),
            weight_gradient2,
            bias_gradient2,
            update,
        );
        ::nn::__private::Activation::backward(
            &::nn::__private::LeakyReLU {
                slope: 0.2f32,
            },
            &buffers.a0.0,
            &buffers.a1.0,
            &buffers.d1.0,
            &mut buffers.d0.0,
        );
        ::nn::__private::InputLinear::backward(
            &mut self.layer0,
            &buffers.input.0,
            &buffers.d0.0,
            weight_gradient0,
            bias_gradient0,
            update,
        );
    }
    fn forward_sample_with_first_layer<'b>(
        &self,
        buffers: &'b mut XorBuffers,
        input: &[f32; 2usize],
        first_layer: &mut dyn FnMut(&[f32], &mut [f32]),
    ) -> &'b [f32; 1usize] {
        buffers.input.copy_from_slice(input);
        first_layer(&buffers.input.0, &mut buffers.a0.0);
        ::nn::__private::Activation::forward(
            &::nn::__private::LeakyReLU {
                slope: 0.2f32,
            },
            &buffers.a0.0,
            &mut buffers.a1.0,
        );
        ::nn::__private::Linear::forward(&self.layer2, &buffers.a1.0, &mut buffers.a2.0);
        ::nn::__private::Activation::forward(
            &::nn::__private::Sigmoid,
            &buffers.a2.0,
            &mut buffers.a3.0,
        );
        &buffers.a3.0
    }
    fn backward_sample_deferred(
        &mut self,
        buffers: &mut XorBuffers,
        output_gradient: &[f32; 1usize],
        learning_rate: f32,
        defer: &mut dyn FnMut(&[f32], &[f32]),
    ) {
        #[allow(unused_variables)]
        let update = ::nn::__private::Update::Sgd {
            learning_rate,
        };
        let (weight_gradient2, bias_gradient2): (&mut [f32], &mut [f32]) = (
            &mut [],
            &mut [],
        );
        ::nn::__private::Activation::backward(
            &::nn::__private::Sigmoid,
            &buffers.a2.0,
            &buffers.a3.0,
            output_gradient,
            &mut buffers.d2.0,
        );
        ::nn::__private::Linear::backward(
            &mut self.layer2,
            &buffers.a1.0,
            &buffers.d2.0,
            ::core::option::Option::Some(&mut buffers.d1.0),
            weight_gradient2,
            bias_gradient2,
            update,
        );
        ::nn::__private::Activation::backward(
            &::nn::__private::LeakyReLU {
                slope: 0.2f32,
            },
            &buffers.a0.0,
            &buffers.a1.0,
            &buffers.d1.0,
            &mut buffers.d0.0,
        );
        ::nn::__private::InputLinear::update_bias(
            &mut self.layer0,
            &buffers.d0.0,
            learning_rate,
        );
        defer(&buffers.input.0, &buffers.d0.0);
    }
    fn first_layer(&self) -> (&[f32], &[f32]) {
        (::nn::__private::AsFlat::as_flat(&*self.layer0.weight), &self.layer0.bias[..])
    }
    fn first_layer_weight_mut(&mut self) -> &mut [f32] {
        ::nn::__private::AsFlat::as_flat_mut(&mut *self.layer0.weight)
    }
    fn forward_rows<'b>(
        &self,
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
        ::nn::__private::InputLinear::forward_rows(
            &self.layer0,
            inputs,
            &mut buffers.a0[..rows],
            &mut buffers.scratch,
        );
        ::nn::__private::Activation::forward_rows(
            &::nn::__private::LeakyReLU {
                slope: 0.2f32,
            },
            &buffers.a0[..rows],
            &mut buffers.a1[..rows],
        );
        ::nn::__private::Linear::forward_rows(
            &self.layer2,
            &buffers.a1[..rows],
            &mut buffers.a2[..rows],
            &mut buffers.scratch,
        );
        ::nn::__private::Activation::forward_rows(
            &::nn::__private::Sigmoid,
            &buffers.a2[..rows],
            &mut buffers.a3[..rows],
        );
        &buffers.a3[..rows]
    }
    fn backward_rows(
        &mut self,
        buffers: &mut XorBatchBuffers,
        inputs: &[[f32; 2usize]],
        output_gradients: &[[f32; 1usize]],
        gradients: &mut [f32],
        update: ::nn::__private::Update,
    ) {
        let rows = inputs.len();
        let [weight_gradient0, bias_gradient0, weight_gradient2, bias_gradient2] = ::nn::__private::split_gradients(
            gradients,
            [16usize, 8usize, 8usize, 1usize],
        );
        ::nn::__private::Activation::backward_rows(
            &::nn::__private::Sigmoid,
            &buffers.a2[..rows],
            &buffers.a3[..rows],
            output_gradients,
            &mut buffers.d2[..rows],
        );
        ::nn::__private::Linear::backward_rows(
            &mut self.layer2,
            &buffers.a1[..rows],
            &buffers.d2[..rows],
            ::core::option::Option::Some(&mut buffers.d1[..rows]),
            weight_gradient2,
            bias_gradient2,
            update,
        );
        ::nn::__private::Activation::backward_rows(
            &::nn::__private::LeakyReLU {
                slope: 0.2f32,
            },
            &buffers.a0[..rows],
            &buffers.a1[..rows],
            &buffers.d1[..rows],
            &mut buffers.d0[..rows],
        );
        ::nn::__private::InputLinear::backward_rows(
            &mut self.layer0,
            inputs,
            &buffers.d0[..rows],
            weight_gradient0,
            bias_gradient0,
            update,
        );
    }
    fn visit_parameters(&self, visitor: &mut ::nn::__private::ParameterVisitor) {
        visitor("0.weight", ::nn::__private::AsFlat::as_flat(&*self.layer0.weight));
        visitor("0.bias", ::nn::__private::AsFlat::as_flat(&*self.layer0.bias));
        visitor("2.weight", ::nn::__private::AsFlat::as_flat(&*self.layer2.weight));
        visitor("2.bias", ::nn::__private::AsFlat::as_flat(&*self.layer2.bias));
    }
    fn visit_parameters_mut(
        &mut self,
        visitor: &mut ::nn::__private::ParameterVisitorMut,
    ) {
        visitor(
            "0.weight",
            ::nn::__private::AsFlat::as_flat_mut(&mut *self.layer0.weight),
        );
        visitor("0.bias", ::nn::__private::AsFlat::as_flat_mut(&mut *self.layer0.bias));
        visitor(
            "2.weight",
            ::nn::__private::AsFlat::as_flat_mut(&mut *self.layer2.weight),
        );
        visitor("2.bias", ::nn::__private::AsFlat::as_flat_mut(&mut *self.layer2.bias));
    }
}
