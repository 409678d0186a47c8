use nn::network;

network! {
    struct Net {
        ReLU -> Linear(784, 10)
    }
}

fn main() {}
