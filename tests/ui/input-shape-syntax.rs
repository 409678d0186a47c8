use nn::network;

network! {
    struct Net: 784 {
        Linear(784, 10)
    }
}

fn main() {}
