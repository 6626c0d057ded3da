//! The `disco` command.

mod cli;

fn main() -> std::process::ExitCode {
    // Memory stays flat over a long stream of batches: glibc raises its mmap threshold each
    // time a large block is freed, after which batch-sized buffers come from the heap and
    // fragment it; a fixed threshold keeps them in mmap, returned to the system when freed.
    // SAFETY: mallopt only sets allocator parameters, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    cli::main()
}
