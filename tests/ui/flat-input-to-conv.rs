use nn::network;

network! {
    struct Net {
        Linear(784, 100) -> ReLU -> Conv2d(1, 4, 3)
    }
}

fn main() {}
