//! The executable side: prints through std (stdout, formatting, a heap allocation).

fn main() {
    let numbers: Vec<i32> = (1..=6).collect();
    println!("ct: answer = {}", numbers.iter().sum::<i32>() * 2);
}
