// Reader and writer of canonical keyed-state streams (see keyed_state_stream.h).
#include <snappy.h>

#include "flink_savepoint/byte_reader.h"
#include "flink_savepoint/byte_writer.h"
#include "flink_savepoint/keyed_state_stream.h"

namespace fsp::state {
namespace {

constexpr uint16_t kEndOfKeyGroup = 0xFFFF;
constexpr size_t kChunk = 65536;

void put_le24(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v >> 16));
}

void put_le32(std::string& out, uint32_t v) {
  put_le24(out, v);
  out.push_back(static_cast<char>(v >> 24));
}

}  // namespace

std::string encode_snappy_framed(std::string_view data) {
  std::string out("\xFF\x06\x00\x00sNaPpY", 10);
  std::string compressed;
  for (size_t at = 0; at < data.size(); at += kChunk) {
    std::string_view chunk = data.substr(at, kChunk);
    uint32_t crc = mask_crc32c(crc32c(reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size()));
    compressed.clear();
    snappy::Compress(chunk.data(), chunk.size(), &compressed);
    bool use = static_cast<double>(compressed.size()) <= 0.85 * static_cast<double>(chunk.size());
    std::string_view body = use ? std::string_view(compressed) : chunk;
    out.push_back(use ? '\x00' : '\x01');
    put_le24(out, static_cast<uint32_t>(body.size() + 4));
    put_le32(out, crc);
    out.append(body);
  }
  return out;
}

Result<CanonicalKeyedStream> read_canonical_keyed_stream(std::string_view bytes, const KeyGroupRange& range,
                                                         const BeLongs& offsets, int prefix_bytes,
                                                         const ErrorContext* ctx) {
  auto fail = [&](std::string msg, std::optional<uint64_t> at = std::nullopt) {
    return Error::data("canonical keyed state: " + msg, at, ctx ? ctx->describe() : std::string());
  };
  if (range.count < 0 || offsets.size() != static_cast<size_t>(range.count))
    return fail("the handle lists " + std::to_string(offsets.size()) + " offsets for " +
                std::to_string(range.count) + " key groups");
  CanonicalKeyedStream out;
  for (size_t i = 0; i < offsets.size(); ++i) {
    int64_t o = offsets[i];
    if (o < 0 || static_cast<uint64_t>(o) > bytes.size())
      return fail("key-group offset " + std::to_string(o) + " outside the stream of " + std::to_string(bytes.size()) +
                  " bytes");
  }
  auto proxy = decode_keyed_proxy(bytes, keyed_proxy_bound(bytes.size(), offsets), 0, ctx);
  if (!proxy) return proxy.take_error();
  // Pre-1.8 proxies are read for inspection, not rewritten: what is written
  // must be restorable, and Flink 1.17+ cannot restore them.
  if (proxy->version < 6)
    return Error::unsupported("unsupported: keyed backend serialization proxy version " + std::to_string(proxy->version) +
                           " (written by Flink before 1.8); Flink 1.17+ cannot restore pre-1.8 savepoints "
                           "(migrate through Flink 1.16 first)",
                       0, ctx ? ctx->describe() : std::string());
  if (!proxy->complete) return fail("the serialization proxy is incomplete: " + proxy->incomplete_reason);
  out.proxy = std::move(*proxy);
  out.compressed = out.proxy.compression;
  out.proxy_bytes = bytes.substr(0, out.proxy.end);
  const size_t nstates = out.proxy.states.size();
  for (size_t i = 0; i < offsets.size(); ++i) {
    int64_t o = offsets[i];
    if (o == 0) continue;
    int64_t e = full_key_group_end(offsets, i, bytes.size());
    int32_t kg = range.start + static_cast<int32_t>(i);
    std::string_view region = bytes.substr(static_cast<size_t>(o), static_cast<size_t>(e - o));
    uint64_t base = static_cast<uint64_t>(o);
    if (out.compressed) {
      // Snappy expands at most ~21x on real data (runs of one byte): a region
      // that claims more is hostile, and memory stays bounded by the input.
      const size_t cap = region.size() * 32 + 2 * kChunk;
      auto d = decode_snappy_framed(region, true, cap, base);
      if (!d) return d.take_error();
      if (d->consumed < region.size())
        return fail("key group " + std::to_string(kg) + " decompresses to more than " + std::to_string(cap) +
                        " bytes (32 times its " + std::to_string(region.size()) + " compressed bytes)",
                    base);
      out.owned.push_back(std::move(d->data));
      region = out.owned.back();
      base = 0;
    }
    ByteReader r(region, base);
    r.set_context(ctx);
    int32_t bad = 0;
    FullGroupEnd end = walk_full_key_group(
        r, nstates,
        [&](int32_t sid, std::string_view key, std::string_view value) {
          const auto* k = reinterpret_cast<const uint8_t*>(key.data());
          int32_t pg = k[0] & 0x7F;
          if (prefix_bytes == 2) pg = (pg << 8) | k[1];
          out.entries.push_back(
              {static_cast<uint16_t>(sid), kg, pg, key.substr(static_cast<size_t>(prefix_bytes)), value});
          return true;
        },
        &bad, prefix_bytes);
    switch (end) {
      case FullGroupEnd::kEndMark:
      case FullGroupEnd::kStopped:
        break;
      case FullGroupEnd::kBadStateId:
        return fail("state id " + std::to_string(static_cast<uint16_t>(bad)) + " of " + std::to_string(nstates) +
                        " states in key group " + std::to_string(kg),
                    out.compressed ? std::nullopt : std::optional<uint64_t>(r.file_offset()));
      case FullGroupEnd::kShortKey:
        return fail("key of " + std::to_string(bad) + " bytes has no key-group prefix");
      case FullGroupEnd::kTruncated:
        return r.take_error();
      case FullGroupEnd::kTrailing:
        return fail("key group " + std::to_string(kg) + " has " + std::to_string(r.remaining()) +
                    " bytes after its end mark");
    }
  }
  return out;
}

Result<WrittenKeyedStream> write_canonical_keyed_stream(std::string_view proxy_bytes, bool compressed,
                                                        const KeyGroupRange& range, int prefix_bytes,
                                                        const std::vector<std::vector<CanonicalEntryRef>>& per_group) {
  if (per_group.size() != static_cast<size_t>(range.count))
    return Error{ErrorKind::kSoftware, "write_canonical_keyed_stream: entries for " + std::to_string(per_group.size()) +
                                           " key groups, range of " + std::to_string(range.count), {}, {}, {}};
  WrittenKeyedStream out;
  out.bytes.assign(proxy_bytes);
  out.offsets.assign(per_group.size(), 0);
  std::string plain;
  for (size_t i = 0; i < per_group.size(); ++i) {
    const auto& entries = per_group[i];
    if (entries.empty()) continue;
    int32_t kg = range.start + static_cast<int32_t>(i);
    out.offsets[i] = static_cast<int64_t>(out.bytes.size());
    std::string& dst = compressed ? plain : out.bytes;
    plain.clear();
    ByteWriter w(dst);
    w.u16(entries[0].state_id);
    for (size_t j = 0; j < entries.size(); ++j) {
      const CanonicalEntryRef& e = entries[j];
      bool last = j + 1 == entries.size() || entries[j + 1].state_id != e.state_id;
      size_t klen = e.key.size() + static_cast<size_t>(prefix_bytes);
      if (klen > INT32_MAX || e.value.size() > INT32_MAX)
        return Error::data("an entry of key group " + std::to_string(kg) + " is over 2 GiB");
      w.i32(static_cast<int32_t>(klen));
      uint8_t first = prefix_bytes == 2 ? static_cast<uint8_t>(kg >> 8) : static_cast<uint8_t>(kg);
      if (last) first |= 0x80;
      w.u8(first);
      if (prefix_bytes == 2) w.u8(static_cast<uint8_t>(kg));
      w.bytes(e.key);
      w.i32(static_cast<int32_t>(e.value.size()));
      w.bytes(e.value);
      if (last) w.u16(j + 1 == entries.size() ? kEndOfKeyGroup : entries[j + 1].state_id);
    }
    if (compressed) out.bytes += encode_snappy_framed(plain);
  }
  return out;
}

}  // namespace fsp::state
