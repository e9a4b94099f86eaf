//! The `rollcall` binary: runs the command its arguments name (`rollcall::cli`) and exits
//! with that command's code; the library itself never ends the process.

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let code = rollcall::cli::run(&argv);
    if code != 0 {
        std::process::exit(code);
    }
}
