// Fuzz target: the keyed and operator backend serialization proxies
// (formats/serialization_proxy.cc), including the resync search over unknown
// serializer snapshot classes. The first input byte selects the proxy kind
// and where the proxy must end (`bound`); the rest is the state stream.
#include <cstdlib>
#include <string_view>

#include "flink_savepoint/state_internal.h"
#include "fuzz/fuzz_common.h"

namespace {
struct Where : fsp::ErrorContext {
  std::string describe() const override { return "fuzz stream"; }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fsp;
  if (size < 1) return 0;
  uint8_t sel = data[0];
  std::string_view bytes = fuzz::as_view(data + 1, size - 1);
  // bound: the stream size (bit 1 clear) or a point inside it.
  size_t bound = bytes.size();
  if ((sel & 2) && !bytes.empty()) bound = (static_cast<size_t>(sel >> 2) * bytes.size()) / 63;
  Where where;
  constexpr uint64_t kBase = 4096;
  // The resync search's budget, as a command shares one (docs/errors.md), but
  // small: the target explores new inputs instead of spending each execution
  // on re-parsing one (the search's logic is the same at any budget).
  // FSP_FUZZ_PROXY_BUDGET=off runs without it (each proxy's own bound only,
  // as before), =N with a budget of N bytes, to compare executions per second.
  static const uint64_t base = []() -> uint64_t {
    const char* e = std::getenv("FSP_FUZZ_PROXY_BUDGET");
    if (e && std::string_view(e) == "off") return UINT64_MAX;
    return e ? std::strtoull(e, nullptr, 10) : uint64_t{4} << 10;
  }();
  state::ResyncBudget budget;
  if (base != UINT64_MAX) budget.limit = base + 4 * static_cast<uint64_t>(bytes.size());
  if (sel & 1) {
    auto p = state::decode_operator_proxy(bytes, bound, kBase, &where, &budget);
    if (!p.ok()) {
      fuzz::check_data_error(p.error(), kBase, bytes.size());
      return 0;
    }
    FSP_FUZZ_CHECK(p->end <= bytes.size(), std::to_string(p->end));
    for (const auto& s : p->operator_states)
      for (const auto& [k, n] : s.serializers) (void)n.readable();
    for (const auto& s : p->broadcast_states)
      for (const auto& [k, n] : s.serializers) (void)n.readable();
  } else {
    auto p = state::decode_keyed_proxy(bytes, bound, kBase, &where, &budget);
    if (!p.ok()) {
      // Pre-1.8 proxies are refused with "unsupported:", still a data error with an offset.
      fuzz::check_data_error(p.error(), kBase, bytes.size());
      return 0;
    }
    FSP_FUZZ_CHECK(p->end <= bytes.size(), std::to_string(p->end));
    (void)p->key_serializer.readable();
    for (const auto& s : p->states) {
      (void)s.fully_decoded();
      for (const auto& [k, n] : s.serializers) (void)n.readable();
    }
  }
  return 0;
}
