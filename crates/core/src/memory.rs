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

/// Caps glibc's malloc arenas at two. By default each thread that allocates gets an arena of
/// its own (up to eight per core), and memory freed in one is not reused by another: with the
/// PDF, the HTML and the other formats rendered on three threads beside a model built on a
/// fourth, verify's peak grew by about 200 MB of freed but unreusable memory. Two arenas keep
/// the threads from contending on one lock and let them reuse each other's freed memory.
/// Call it once, before any thread starts.
pub fn share_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes an allocator setting; M_ARENA_MAX takes any positive count.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
