/// Learns XOR.
#[derive(Clone, Debug, PartialEq)]
pub struct Xor {
    /// Layer 0, `Linear(2, 8)`.
    pub layer0: ::nn::__private::Linear<2usize, 8usize>,
    /// Layer 2, `Linear(8, 1)`.
    pub layer2: ::nn::__private::Linear<8usize, 1usize>,
}
/// The buffers of one forward and backward pass of [`Xor`]: every activation, its gradient, and the parameter gradients. Create it with `Network::workspace`.
pub struct XorWorkspace {
    input: ::std::boxed::Box<[f32; 2usize]>,
    a0: ::std::boxed::Box<[f32; 8usize]>,
    d0: ::std::boxed::Box<[f32; 8usize]>,
    a1: ::std::boxed::Box<[f32; 8usize]>,
    d1: ::std::boxed::Box<[f32; 8usize]>,
    a2: ::std::boxed::Box<[f32; 1usize]>,
    d2: ::std::boxed::Box<[f32; 1usize]>,
    a3: ::std::boxed::Box<[f32; 1usize]>,
    g0: ::nn::__private::LinearGradients<2usize, 8usize>,
    g2: ::nn::__private::LinearGradients<8usize, 1usize>,
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
    type Workspace = XorWorkspace;
    const ARCHITECTURE: &'static str = "Linear(2, 8) -> LeakyReLU(0.2) -> Linear(8, 1) -> Sigmoid";
    const SUMMARY: &'static str = "Xor (input shape [2])\n#  Layer           Output shape  Parameters\n0  Linear(2, 8)    [8]                   24\n1  LeakyReLU(0.2)  [8]                    0\n2  Linear(8, 1)    [1]                    9\n3  Sigmoid         [1]                    0\nTotal parameters: 33";
    const PARAMETERS: usize = 33usize;
    const ENDS_WITH_SOFTMAX: bool = false;
    fn workspace(&self) -> XorWorkspace {
        XorWorkspace {
            input: ::nn::__private::zeroed_array::<2usize>(),
            a0: ::nn::__private::zeroed_array::<8usize>(),
            d0: ::nn::__private::zeroed_array::<8usize>(),
            a1: ::nn::__private::zeroed_array::<8usize>(),
            d1: ::nn::__private::zeroed_array::<8usize>(),
            a2: ::nn::__private::zeroed_array::<1usize>(),
            d2: ::nn::__private::zeroed_array::<1usize>(),
            a3: ::nn::__private::zeroed_array::<1usize>(),
            g0: ::nn::__private::LinearGradients::zeroed(),
            g2: ::nn::__private::LinearGradients::zeroed(),
        }
    }
    fn forward(&self, input: &[f32; 2usize]) -> [f32; 1usize] {
        let mut a0 = [0.0f32; 8usize];
        ::nn::__private::Linear::forward(&self.layer0, input, &mut a0);
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
    fn forward_with<'w>(
        &self,
        ws: &'w mut XorWorkspace,
        input: &[f32; 2usize],
    ) -> &'w [f32; 1usize] {
        ws.input.copy_from_slice(input);
        ::nn::__private::Linear::forward(&self.layer0, &*ws.input, &mut *ws.a0);
        ::nn::__private::Activation::forward(
            &::nn::__private::LeakyReLU {
                slope: 0.2f32,
            },
            &*ws.a0,
            &mut *ws.a1,
        );
        ::nn::__private::Linear::forward(&self.layer2, &*ws.a1, &mut *ws.a2);
        ::nn::__private::Activation::forward(
            &::nn::__private::Sigmoid,
            &*ws.a2,
            &mut *ws.a3,
        );
        &*ws.a3
    }
    fn backward(
        &mut self,
        ws: &mut XorWorkspace,
        output_gradient: &[f32; 1usize],
        update: ::nn::__private::Update,
    ) {
        ::nn::__private::Activation::backward(
            &::nn::__private::Sigmoid,
            &*ws.a2,
            &*ws.a3,
            output_gradient,
            &mut *ws.d2,
        );
        ::nn::__private::Linear::backward(
            &mut self.layer2,
            &*ws.a1,
            &*ws.d2,
            ::core::option::Option::Some(&mut *ws.d1),
            &mut ws.g2,
            update,
        );
        ::nn::__private::Activation::backward(
            &::nn::__private::LeakyReLU {
                slope: 0.2f32,
            },
            &*ws.a0,
            &*ws.a1,
            &*ws.d1,
            &mut *ws.d0,
        );
        ::nn::__private::Linear::backward(
            &mut self.layer0,
            &*ws.input,
            &*ws.d0,
            ::core::option::Option::None,
            &mut ws.g0,
            update,
        );
    }
    fn new<R: ::nn::__private::Rng + ?Sized>(rng: &mut R) -> Self {
        Self {
            layer0: ::nn::__private::Linear::new(::nn::__private::Init::He, rng),
            layer2: ::nn::__private::Linear::new(::nn::__private::Init::Xavier, rng),
        }
    }
    fn zeroed() -> Self {
        Self {
            layer0: ::nn::__private::Linear::zeroed(),
            layer2: ::nn::__private::Linear::zeroed(),
        }
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
    fn visit_gradients(
        &mut self,
        ws: &mut XorWorkspace,
        visitor: &mut ::nn::__private::GradientVisitor,
    ) {
        visitor(
            "0.weight",
            ::nn::__private::AsFlat::as_flat_mut(&mut *self.layer0.weight),
            ::nn::__private::AsFlat::as_flat_mut(&mut *ws.g0.weight),
        );
        visitor(
            "0.bias",
            ::nn::__private::AsFlat::as_flat_mut(&mut *self.layer0.bias),
            ::nn::__private::AsFlat::as_flat_mut(&mut *ws.g0.bias),
        );
        visitor(
            "2.weight",
            ::nn::__private::AsFlat::as_flat_mut(&mut *self.layer2.weight),
            ::nn::__private::AsFlat::as_flat_mut(&mut *ws.g2.weight),
        );
        visitor(
            "2.bias",
            ::nn::__private::AsFlat::as_flat_mut(&mut *self.layer2.bias),
            ::nn::__private::AsFlat::as_flat_mut(&mut *ws.g2.bias),
        );
    }
}
