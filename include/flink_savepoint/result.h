// Errors as values: every decoder and command returns Result<T>.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace fsp {

// Exit codes follow BSD sysexits(3); see docs/errors.md.
enum class ErrorKind : int {
  kUsage = 64,     // EX_USAGE: bad command line or job description
  kData = 65,      // EX_DATAERR: the input is not a valid Flink snapshot
  kNoInput = 66,   // EX_NOINPUT: the file or directory does not exist
  kSoftware = 70,  // EX_SOFTWARE: internal error
  kCantCreate = 73,// EX_CANTCREAT: an output file cannot be created
  kIo = 74,        // EX_IOERR: reading or writing failed
};

// Whether an error says the input ends before the data it announces. Set by
// ByteReader (its reads and count checks) so that decoders can tell a
// truncated file from a corrupt one without reading messages.
enum class Truncation : uint8_t {
  kNone,
  kReadPastEnd,   // a read needed more bytes than remain
  kCountPastEnd,  // a count read from the input needs more bytes than remain
};

struct Error {
  ErrorKind kind = ErrorKind::kData;
  std::string message;              // what was expected / what went wrong
  std::optional<uint64_t> offset;   // byte offset in the input, when known
  std::string where;                // e.g. "operator #3 (id 69f3...), subtask 0, managed keyed state"
  std::string hint;                 // optional advice
  Truncation truncation = Truncation::kNone;

  int exit_code() const { return static_cast<int>(kind); }
  // One line: "<message> at byte <offset> (<where>)".
  std::string to_string() const;

  static Error data(std::string msg, std::optional<uint64_t> off = std::nullopt, std::string where = {}) {
    return Error{ErrorKind::kData, std::move(msg), off, std::move(where), {}};
  }
  static Error usage(std::string msg) { return Error{ErrorKind::kUsage, std::move(msg), std::nullopt, {}, {}}; }
  static Error no_input(std::string msg) { return Error{ErrorKind::kNoInput, std::move(msg), std::nullopt, {}, {}}; }
  static Error io(std::string msg) { return Error{ErrorKind::kIo, std::move(msg), std::nullopt, {}, {}}; }
  static Error cant_create(std::string msg) { return Error{ErrorKind::kCantCreate, std::move(msg), std::nullopt, {}, {}}; }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}      // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const { return std::get<1>(v_); }
  Error&& take_error() { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error e) : e_(std::move(e)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return !e_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *e_; }
  Error&& take_error() { return std::move(*e_); }

 private:
  std::optional<Error> e_;
};

}  // namespace fsp
