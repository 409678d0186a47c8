use nn::network;

network! {
    struct Net<T> {
        Linear(784, 10)
    }
}

fn main() {}
