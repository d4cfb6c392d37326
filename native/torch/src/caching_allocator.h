// A size-keyed caching CPU allocator for libtorch (installed process-wide by the addon).
//
// Why: a training step allocates the same tensor sizes every step. With glibc's default policy the
// large ones are returned to the OS and faulted in again on the next step; in this VM that cost
// 4k-16k page faults and 40-140 ms of system time per step (cnn-lstm, lstm-cnn). Caching freed
// blocks by size makes steady-state steps allocation- and fault-free.
#pragma once

#include <cstddef>
#include <cstdint>

namespace xp {

// Installs the allocator as libtorch's CPU allocator (idempotent). `limitBytes` caps the bytes held
// in the free lists; blocks freed beyond it go back to the system.
void installCachingAllocator(size_t limitBytes);

struct CacheStats {
  size_t cachedBytes;   // bytes in free lists
  size_t liveBytes;     // bytes handed out and not yet freed (cached-size blocks only)
  uint64_t hits, misses;
};
CacheStats cachingAllocatorStats();
// Frees every cached (unused) block.
void releaseCachedBlocks();

}  // namespace xp
