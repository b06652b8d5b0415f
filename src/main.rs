//! The entry point, without std's runtime start-up (`no_main`): it reads /proc/self/maps to
//! place a stack guard and sets up an alternate signal stack, about 0.1 ms that is freeze window
//! at every thaw. `startup::prepare` does the part a hook needs.
// (The test harness brings its own main.)
#![cfg_attr(not(test), no_main)]

#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    iris_freeze::startup::prepare();
    // std still reads the arguments itself (glibc hands them to it at load time).
    let exit = iris_freeze::run(std::env::args_os().collect());
    iris_freeze::startup::finish();
    exit.code().into()
}
