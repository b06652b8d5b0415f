fn main() -> std::process::ExitCode {
    iris_freeze::run(std::env::args_os().collect()).into()
}
