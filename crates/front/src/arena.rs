//! The front binary's allocator: a bump region in `.bss`, and the system's allocator past it.
//!
//! A cache hit is a few hundred small allocations in a process that lives a fraction of a
//! millisecond. musl's allocator served them from a group of pages per size class, mapping
//! and unmapping as it went: a fifth of a hit's instructions, 18 `brk`/`mmap`/`munmap`
//! calls and a fresh page for each group (benches/README.md). Here an allocation is an add
//! to one offset in one static region, so the pages a hit touches are the ones it fills, in
//! a row, and no system call is made for them. A block is given back when it is the last
//! one (a temporary string, a `Vec` growing in place), else left where it is until the
//! process ends. Whatever does not fit in the region goes to the system's allocator, so a
//! long `list` or a large file is served as before, only without the region's speed.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `N` bytes handed out from the front; the region's pages are not touched (so not
/// resident) until an allocation writes them.
#[repr(C)]
pub struct Arena<const N: usize> {
    /// Offset of the first free byte. Before the region: after it, it had a page of its own.
    next: AtomicUsize,
    region: UnsafeCell<[u8; N]>,
}

// SAFETY: the region is handed out in disjoint blocks, each claimed by one successful
// compare-and-swap of `next`; nothing else reads or writes it.
unsafe impl<const N: usize> Sync for Arena<N> {}

impl<const N: usize> Arena<N> {
    pub const fn new() -> Self {
        Arena {
            next: AtomicUsize::new(0),
            region: UnsafeCell::new([0; N]),
        }
    }

    fn base(&self) -> usize {
        self.region.get() as usize
    }

    /// The block's offset in the region, if it is one of ours.
    fn offset(&self, ptr: *mut u8) -> Option<usize> {
        (ptr as usize)
            .checked_sub(self.base())
            .filter(|&offset| offset < N)
    }

    /// A block for `layout` from the region, or `None` when it does not fit.
    fn bump(&self, layout: Layout) -> Option<*mut u8> {
        let base = self.base();
        let mut next = self.next.load(Ordering::Relaxed);
        loop {
            let start = (base + next).checked_next_multiple_of(layout.align())? - base;
            let end = start.checked_add(layout.size()).filter(|&end| end <= N)?;
            match self
                .next
                .compare_exchange_weak(next, end, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Some(self.region.get().cast::<u8>().wrapping_add(start)),
                Err(now) => next = now,
            }
        }
    }
}

impl<const N: usize> Default for Arena<N> {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every block handed out is `layout.size()` bytes at an address aligned to
// `layout.align()`, inside the region and disjoint from every other live block (see
// `bump`), or comes from `System`; blocks go back to whichever gave them.
unsafe impl<const N: usize> GlobalAlloc for Arena<N> {
    // Out of line: inlined at every allocation, it was a tenth of the binary's code.
    #[inline(never)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match self.bump(layout) {
            Some(ptr) => ptr,
            // SAFETY: the caller's layout, as `GlobalAlloc::alloc` requires it.
            None => unsafe { System.alloc(layout) },
        }
    }

    // Out of line: inlined at every allocation, it was a tenth of the binary's code.
    #[inline(never)]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match self.offset(ptr) {
            // The last block: its bytes are free again. Any other stays until exit.
            Some(start) => {
                let end = start + layout.size();
                let _ =
                    self.next
                        .compare_exchange(end, start, Ordering::Relaxed, Ordering::Relaxed);
            }
            // SAFETY: not ours, so `System` gave it, with this layout.
            None => unsafe { System.dealloc(ptr, layout) },
        }
    }

    // Out of line: inlined at every allocation, it was a tenth of the binary's code.
    #[inline(never)]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Some(start) = self.offset(ptr) else {
            // SAFETY: `System` gave it, with this layout; the caller vouches for `new_size`.
            return unsafe { System.realloc(ptr, layout, new_size) };
        };
        // The last block grows or shrinks where it is, while it fits.
        let end = start + layout.size();
        if let Some(new_end) = start.checked_add(new_size).filter(|&e| e <= N)
            && self
                .next
                .compare_exchange(end, new_end, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return ptr;
        }
        if new_size <= layout.size() {
            return ptr;
        }
        // SAFETY: the caller guarantees `new_size`, rounded up to the alignment, does not
        // overflow `isize` (`GlobalAlloc::realloc`).
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: a non-zero size, as above.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are valid for the old size, and distinct.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size());
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    /// Blocks are aligned, disjoint, inside the region while they fit, and from the
    /// system past it; the last one freed is reused, an earlier one is not.
    #[test]
    fn bumps_reuses_the_last_block_and_falls_back() {
        let arena = Box::new(Arena::<4096>::new());
        let inside = |p: *mut u8| arena.offset(p).is_some();
        // SAFETY: non-zero layouts; every block is freed with the layout it was made with.
        unsafe {
            let a = arena.alloc(layout(3, 1));
            let b = arena.alloc(layout(8, 8));
            assert!(inside(a) && inside(b));
            assert_eq!(b as usize % 8, 0);
            assert!(b as usize >= a as usize + 3, "disjoint");
            // Not the last: stays taken.
            arena.dealloc(a, layout(3, 1));
            let c = arena.alloc(layout(1, 1));
            assert!(c as usize > b as usize);
            // The last: reused at once.
            arena.dealloc(c, layout(1, 1));
            assert_eq!(arena.alloc(layout(1, 1)), c);
            // Aligned wherever it comes from (here, past the end: the system).
            let page = arena.alloc(layout(16, 4096));
            assert_eq!(page as usize % 4096, 0);
            arena.dealloc(page, layout(16, 4096));
            // Too large for what is left: the system's.
            let big = arena.alloc(layout(8192, 8));
            assert!(!big.is_null() && !inside(big));
            big.write_bytes(7, 8192);
            arena.dealloc(big, layout(8192, 8));
        }
    }

    /// The last block grows in place; another one moves, its bytes with it, and so does
    /// one that outgrows the region.
    #[test]
    fn realloc_grows_in_place_or_moves_with_the_bytes() {
        let arena = Box::new(Arena::<4096>::new());
        // SAFETY: as above; every pointer is used with the size it has at that point.
        unsafe {
            let a = arena.alloc(layout(4, 1));
            a.copy_from_nonoverlapping(b"abcd".as_ptr(), 4);
            let grown = arena.realloc(a, layout(4, 1), 100);
            assert_eq!(grown, a, "the last block grows where it is");
            let b = arena.alloc(layout(4, 1));
            let moved = arena.realloc(a, layout(100, 1), 200);
            assert_ne!(moved, a);
            assert!(moved as usize > b as usize);
            assert_eq!(std::slice::from_raw_parts(moved, 4), b"abcd");
            let out = arena.realloc(moved, layout(200, 1), 10_000);
            assert!(arena.offset(out).is_none());
            assert_eq!(std::slice::from_raw_parts(out, 4), b"abcd");
            let back = arena.realloc(out, layout(10_000, 1), 20_000);
            assert_eq!(std::slice::from_raw_parts(back, 4), b"abcd");
            arena.dealloc(back, layout(20_000, 1));
            arena.dealloc(b, layout(4, 1));
        }
    }
}
