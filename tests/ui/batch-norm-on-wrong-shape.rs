use nn::network;

network! {
    struct Net {
        Linear(784, 100) -> BatchNorm2d(100)
    }
}

fn main() {}
