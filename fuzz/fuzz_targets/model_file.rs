//! Any bytes given to `Net::load` are an error or a network, never a panic, a hang or a huge
//! allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nn::Network;

mod scratch;

nn::network! {
    /// Every kind of tensor a file can hold: convolution, dense layers, batch-norm buffers.
    struct Fuzzed: [1, 6, 6] {
        Conv2d(1, 2, 3) -> ReLU -> MaxPool2d(2) -> Flatten -> Linear(8, 3) -> BatchNorm1d(3)
    }
}

fuzz_target!(|bytes: &[u8]| {
    let path = scratch::scratch_file(bytes);
    if let Ok(network) = Fuzzed::load(&path) {
        // A file that loads holds exactly the network's tensors.
        let mut values = 0;
        network.visit_tensors(&mut |tensor| values += tensor.values.len());
        assert!(values >= Fuzzed::PARAMETERS);
    }
});
