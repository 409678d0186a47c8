use nn::network;

network! {
    enum Net {
        Linear(784, 10)
    }
}

fn main() {}
