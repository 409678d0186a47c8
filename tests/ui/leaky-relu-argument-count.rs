use nn::network;

network! {
    struct Net {
        Linear(4, 4) -> LeakyReLU(0.1, 0.2)
    }
}

fn main() {}
