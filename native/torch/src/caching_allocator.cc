#include "caching_allocator.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>

#include <mutex>
#include <unordered_map>
#include <vector>

namespace xp {
namespace {

constexpr size_t kHeader = 64;          // keeps the 64-byte alignment of c10::alloc_cpu
constexpr size_t kMinCached = 4096;     // smaller blocks: plain c10::alloc_cpu (glibc handles them well)

struct State {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> free;  // block size -> bases
  size_t cached = 0, live = 0, limit = 0;
  uint64_t hits = 0, misses = 0;
};

State& state() {
  static State* s = new State();  // never destroyed: tensors may be freed during static destruction
  return *s;
}

void cachedDelete(void* ptr) {
  if (!ptr) return;
  char* base = static_cast<char*>(ptr) - kHeader;
  size_t size = *reinterpret_cast<size_t*>(base);
  if (size < kMinCached) {
    c10::free_cpu(base);
    return;
  }
  State& s = state();
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.live -= size;
    if (s.cached + size <= s.limit) {
      s.free[size].push_back(base);
      s.cached += size;
      return;
    }
  }
  c10::free_cpu(base);
}

struct CachingAllocator final : public c10::Allocator {
  c10::DataPtr allocate(size_t n) const override {
    const c10::Device dev(c10::DeviceType::CPU);
    if (n < kMinCached) {  // small: header only, never cached
      char* base = static_cast<char*>(c10::alloc_cpu(n + kHeader));
      *reinterpret_cast<size_t*>(base) = n;
      void* p = base + kHeader;
      return {p, p, &cachedDelete, dev};
    }
    size_t size = (n + 4095) & ~static_cast<size_t>(4095);
    State& s = state();
    void* base = nullptr;
    {
      std::lock_guard<std::mutex> lock(s.mu);
      auto it = s.free.find(size);
      if (it != s.free.end() && !it->second.empty()) {
        base = it->second.back();
        it->second.pop_back();
        s.cached -= size;
        s.hits++;
      } else {
        s.misses++;
      }
      s.live += size;
    }
    if (!base) {
      try {
        base = c10::alloc_cpu(size + kHeader);
      } catch (...) {
        releaseCachedBlocks();  // out of memory: give the cache back and retry once
        try {
          base = c10::alloc_cpu(size + kHeader);
        } catch (...) {
          std::lock_guard<std::mutex> lock(s.mu);
          s.live -= size;
          throw;
        }
      }
      *static_cast<size_t*>(base) = size;
    }
    void* p = static_cast<char*>(base) + kHeader;
    return {p, p, &cachedDelete, dev};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &cachedDelete; }
};

CachingAllocator* g_allocator = nullptr;

}  // namespace

void installCachingAllocator(size_t limitBytes) {
  State& s = state();
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.limit = limitBytes;
  }
  if (!g_allocator) {
    g_allocator = new CachingAllocator();
    c10::SetCPUAllocator(g_allocator, /*priority=*/100);
  }
}

CacheStats cachingAllocatorStats() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  return {s.cached, s.live, s.hits, s.misses};
}

void releaseCachedBlocks() {
  State& s = state();
  std::vector<void*> bases;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    for (auto& kv : s.free)
      for (void* b : kv.second) bases.push_back(b);
    s.free.clear();
    s.cached = 0;
  }
  for (void* b : bases) c10::free_cpu(b);
}

}  // namespace xp
