use nn::network;

network! {
    struct Net {
        Linear(4, 4) -> LeakyReLU("steep")
    }
}

fn main() {}
