use nn::network;

network! {
    struct Net {
        Linear(0, 10)
    }
}

fn main() {}
