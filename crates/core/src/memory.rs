//! The process's memory footprint: handing freed heap memory back to the system between the
//! phases of a long run (load and evaluate, then render), so that a 200 MB snapshot's phases
//! do not add up. glibc keeps memory freed in its per-thread arenas unless asked; elsewhere
//! this does nothing.

/// Returns free heap pages to the system (glibc's `malloc_trim`).
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of the heap to the system; it takes no
    // pointer and has no precondition.
    unsafe {
        libc::malloc_trim(0);
    }
}
