//! A training step and a forward call allocate nothing once the workspace has warmed up, proven
//! by a global allocator that counts every allocation of the process, worker threads included.
//! One test function, so no other test's allocations run concurrently.

use nn::__private::{allocations_in, CountingAllocator};
use nn::prelude::*;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

network! {
    struct Mlp {
        Linear(784, 100) -> ReLU -> Linear(100, 10)
    }

    /// Convolutions and pooling, whose passes use scratch buffers in their caches.
    struct Cnn: [1, 12, 12] {
        Conv2d(1, 4, 3) -> ReLU -> MaxPool2d(2) -> Conv2d(4, 6, 3, padding = 1) -> AvgPool2d(5) -> Flatten
            -> Linear(6, 10)
    }

    /// Too many activations for the stack: `forward` keeps them in buffers of the thread.
    struct Large {
        Linear(8, 3000) -> Tanh -> Linear(3000, 4)
    }
}

type Workspace = nn::Workspace<Mlp, 784, 10>;

fn setup() -> (Mlp, Workspace, Vec<[f32; 784]>, Vec<[f32; 10]>) {
    let net = Mlp::new(&mut nn::Pcg64Mcg::seed_from_u64(0));
    let workspace = net.workspace();
    let inputs: Vec<[f32; 784]> = (0..64).map(|i| [i as f32 / 64.0; 784]).collect();
    let targets: Vec<[f32; 10]> = (0..64).map(|i| one_hot(i % 10)).collect();
    (net, workspace, inputs, targets)
}

#[test]
fn steps_and_forward_calls_allocate_nothing_after_warm_up() {
    // Two worker threads, so batched inference really runs in one shard per thread.
    rayon::ThreadPoolBuilder::new().num_threads(2).build_global().unwrap();
    // Wait until both workers run: starting a thread allocates.
    rayon::broadcast(|_| ());
    assert!(allocations_in(|| drop(std::hint::black_box(vec![1u8; 10]))) >= 1, "the allocator counts");

    let (mut net, mut ws, inputs, targets) = setup();
    let mut sgd = Sgd::new(0.1);
    let mut outputs = vec![[0.0; 10]; inputs.len()];
    // Warm-up: the batch buffers grow to this batch size, the deferred updates get their buffers.
    net.train_step(&mut ws, &inputs[0], &targets[0], &CrossEntropy, &mut sgd).unwrap();
    net.train_samples(&mut ws, inputs.iter().zip(&targets), &CrossEntropy, &mut sgd).unwrap();
    net.train_batch(&mut ws, &inputs, &targets, &CrossEntropy, &mut sgd).unwrap();
    net.forward_batch(&mut ws, &inputs, &mut outputs).unwrap();

    let single = allocations_in(|| {
        for (input, target) in inputs.iter().zip(&targets) {
            net.train_step(&mut ws, input, target, &CrossEntropy, &mut sgd).unwrap();
        }
    });
    assert_eq!(single, 0, "single-sample steps");

    let sequence = allocations_in(|| {
        net.train_samples(&mut ws, inputs.iter().zip(&targets), &CrossEntropy, &mut sgd).unwrap();
    });
    assert_eq!(sequence, 0, "train_samples");

    let batch = allocations_in(|| {
        for _ in 0..3 {
            net.train_batch(&mut ws, &inputs, &targets, &CrossEntropy, &mut sgd).unwrap();
            net.train_batch(&mut ws, &inputs[..17], &targets[..17], &CrossEntropy, &mut sgd).unwrap();
        }
    });
    assert_eq!(batch, 0, "mini-batch steps");

    // Optimizers with state: their buffers are made on the first step, then reused.
    let mut adam = Adam::new(1e-3).with_amsgrad(true);
    let mut momentum = Sgd::new(0.01).with_momentum(0.9).with_nesterov(true);
    let mut rms_prop = RmsProp::new(1e-3).with_centered(true).with_momentum(0.5);
    let mut stateful = |net: &mut Mlp, ws: &mut Workspace| {
        net.train_batch(ws, &inputs, &targets, &CrossEntropy, &mut adam).unwrap();
        net.train_step(ws, &inputs[1], &targets[1], &CrossEntropy, &mut momentum).unwrap();
        net.train_samples(ws, inputs.iter().zip(&targets).take(20), &CrossEntropy, &mut rms_prop).unwrap();
    };
    stateful(&mut net, &mut ws); // warm-up
    let optimizers = allocations_in(|| stateful(&mut net, &mut ws));
    assert_eq!(optimizers, 0, "steps with Adam, SGD with momentum and RMSprop");

    let forward = allocations_in(|| {
        net.forward_batch(&mut ws, &inputs, &mut outputs).unwrap();
        for input in &inputs {
            std::hint::black_box(net.forward(input));
            std::hint::black_box(net.forward_with(&mut ws, input));
            std::hint::black_box(net.predict(input));
        }
    });
    assert_eq!(forward, 0, "forward calls");

    let large = Large::new(&mut nn::Pcg64Mcg::seed_from_u64(2));
    std::hint::black_box(large.forward(&[0.5; 8])); // warm-up: this thread's buffers
    let large_forward = allocations_in(|| {
        for i in 0..4 {
            std::hint::black_box(large.forward(&[i as f32; 8]));
        }
    });
    assert_eq!(large_forward, 0, "forward of a network whose activations live in the thread's buffers");

    let mut cnn = Cnn::new(&mut nn::Pcg64Mcg::seed_from_u64(3));
    let mut ws = cnn.workspace();
    let images: Vec<[f32; 144]> = (0..64).map(|i| [i as f32 / 64.0; 144]).collect();
    let mut outputs = vec![[0.0; 10]; images.len()];
    let mut every_call = || {
        cnn.train_step(&mut ws, &images[0], &targets[0], &CrossEntropy, &mut sgd).unwrap();
        cnn.train_samples(&mut ws, images.iter().zip(&targets), &CrossEntropy, &mut sgd).unwrap();
        cnn.train_batch(&mut ws, &images, &targets, &CrossEntropy, &mut sgd).unwrap();
        cnn.train_batch(&mut ws, &images[..17], &targets[..17], &CrossEntropy, &mut sgd).unwrap();
        cnn.forward_batch(&mut ws, &images, &mut outputs).unwrap();
        std::hint::black_box(cnn.forward(&images[1]));
    };
    every_call(); // warm-up
    let convolutions = allocations_in(every_call);
    assert_eq!(convolutions, 0, "steps and forward calls of a convolutional network");

    // Augmenting a batch: its scratch image grows on the first call.
    let augment = nn::data::Augment::new([1, 12, 12]).shift(2.0).rotation(10.0).scale(0.1).shear(5.0);
    let (mut batch, mut rng, mut scratch) = (images.clone(), nn::Pcg64Mcg::seed_from_u64(4), Vec::new());
    augment.apply(&mut rng, &mut batch, &mut scratch);
    let augmenting = allocations_in(|| augment.apply(&mut rng, &mut batch, &mut scratch));
    assert_eq!(augmenting, 0, "augmenting a batch");
}
