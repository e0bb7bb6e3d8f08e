// An LD_PRELOAD library for the CLI tests of the last-resort handlers in
// src/cli/main.cc: with FSP_FAULT=oom, every allocation of at least
// FSP_FAULT_MIN_BYTES (default 4 MiB) throws std::bad_alloc (exit 74); with
// FSP_FAULT=throw it throws std::runtime_error (an internal error: exit 70).
// Smaller allocations, and every allocation without FSP_FAULT, are malloc's.
// Not linked into anything: tests/cli_paths_test.cc preloads it.
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>

namespace {
void* allocate(std::size_t n) {
  static const char* kind = std::getenv("FSP_FAULT");
  static const std::size_t min_bytes = [] {
    const char* e = std::getenv("FSP_FAULT_MIN_BYTES");
    return e ? static_cast<std::size_t>(std::strtoull(e, nullptr, 10)) : std::size_t{4} << 20;
  }();
  if (kind && n >= min_bytes) {
    if (std::string(kind) == "oom") throw std::bad_alloc();
    throw std::runtime_error("fault injected: allocation of " + std::to_string(n) + " bytes");
  }
  void* p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t n) { return allocate(n); }
void* operator new[](std::size_t n) { return allocate(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
