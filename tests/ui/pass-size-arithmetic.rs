use nn::prelude::*;

network! {
    struct Net {
        Linear(28 * 28, 4 * 32) -> SiLU -> Linear((130 - 2) / 1, 10)
    }
}

fn main() {
    assert_eq!(Net::INPUTS, 784);
    assert_eq!(Net::ARCHITECTURE, "Linear(784, 128) -> SiLU -> Linear(128, 10)");
}
