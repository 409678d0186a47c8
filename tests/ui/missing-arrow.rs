use nn::network;

network! {
    struct Net {
        Linear(784, 100) Sigmoid -> Linear(100, 10)
    }
}

fn main() {}
