use nn::network;

network! {
    struct Net: [1, 4, 4] {
        Normalize(15) -> Flatten -> Linear(16, 2)
    }
}

fn main() {}
