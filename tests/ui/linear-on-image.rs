use nn::network;

network! {
    struct Net: [1, 28, 28] {
        Linear(784, 10)
    }
}

fn main() {}
