//! What dojang's binaries share around their own work: a quiet window-system layer, logs
//! through `RUST_LOG`, and the exit codes (0 done, 1 a check failed, 2 usage or environment).
//! Each binary includes this file as its `app` module.

use std::process::ExitCode;

/// Runs a binary's `run` (Ok(true) done, Ok(false) a check failed, Err a message for the
/// user) and turns it into the exit code, after pointing Mesa's window-system layer at a
/// runtime folder where headless Linux machines have none (it otherwise prints an error at
/// every instance although dojang draws nothing) and starting the logger.
///
/// # Safety
/// It may set an environment variable: call it first thing in `main`, before any other
/// thread exists (as `std::env::set_var` requires).
pub unsafe fn main(name: &str, run: impl FnOnce() -> Result<bool, String>) -> ExitCode {
    if cfg!(target_os = "linux") && std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        // SAFETY: the caller runs this before any other thread exists.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir()) };
    }
    start_logger();
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("{name}: {message}");
            ExitCode::from(2)
        }
    }
}

/// Starts the logger (`RUST_LOG`, warnings by default), unless the process has one already.
fn start_logger() {
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).try_init();
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_logger_already_installed_is_kept() {
        super::start_logger();
        super::start_logger();
        log::warn!("both starts returned");
    }
}
