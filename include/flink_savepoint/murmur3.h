// MurmurHash3. uid -> OperatorID: MurmurHash3_x64_128 with seed 0 over the
// uid's UTF-8 bytes, as Flink's StreamGraphHasherV2 does (Guava murmur3_128(0)).
// Key groups: MurmurHash3_x86_32, which Flink's MathUtils.murmurHash (one int)
// and MurmurHashUtil.hashBytesByWords (BinaryRowData keys) compute.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace fsp {

// The 16 hash bytes: little-endian h1 then little-endian h2 (Guava's asBytes()).
std::array<uint8_t, 16> murmur3_x64_128(std::string_view data, uint32_t seed = 0);

// MurmurHash3_x86_32, the 4-byte blocks read little-endian.
uint32_t murmur3_x86_32(std::string_view data, uint32_t seed);

// The OperatorID Flink derives from a user uid (an OperatorId of model.h).
std::array<uint8_t, 16> operator_id_from_uid(std::string_view uid);

}  // namespace fsp
