// Errors as values: every decoder and command returns Result<T>.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace fsp {

// What went wrong, by meaning. Only the command-line tool maps kinds to its
// exit codes (src/cli/command.cc; docs/errors.md lists them).
enum class ErrorKind : uint8_t {
  kCorrupt,       // the input is not what the format says (bad value, bad structure)
  kTruncated,     // the input ends before what the format needs
  kUnsupported,   // valid, but a version/kind this tool (or Flink) no longer reads
  kMissingInput,  // a file or directory does not exist (or cannot be opened as input)
  kIo,            // reading or writing failed
  kUsage,         // bad command line or job description
  kCannotCreate,  // an output file cannot be created
  kOutOfMemory,   // the input needs more memory than is available
  kInternal,      // a bug: a check of our own failed
  // The former names, kept for existing code (same kinds).
  kData = kCorrupt,
  kNoInput = kMissingInput,
  kSoftware = kInternal,
  kCantCreate = kCannotCreate,
};

// "corrupt", "truncated", ... (as in JSON error objects).
const char* to_string(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::kCorrupt;
  std::string message;              // what was expected / what went wrong
  std::optional<uint64_t> offset;   // byte offset in the input, when known
  std::string where;                // e.g. "operator #3 (id 69f3...), subtask 0, managed keyed state"
  std::string hint;                 // optional advice

  // The input is not a valid (or not a readable) Flink file: corrupt, truncated or unsupported.
  bool is_bad_data() const {
    return kind == ErrorKind::kCorrupt || kind == ErrorKind::kTruncated || kind == ErrorKind::kUnsupported;
  }
  // One line: "<message> at byte <offset> (<where>)".
  std::string to_string() const;

  static Error make(ErrorKind kind, std::string msg, std::optional<uint64_t> off = std::nullopt, std::string where = {}) {
    return Error{kind, std::move(msg), off, std::move(where), {}};
  }
  static Error data(std::string msg, std::optional<uint64_t> off = std::nullopt, std::string where = {}) {
    return make(ErrorKind::kCorrupt, std::move(msg), off, std::move(where));
  }
  static Error corrupt(std::string msg, std::optional<uint64_t> off = std::nullopt, std::string where = {}) {
    return make(ErrorKind::kCorrupt, std::move(msg), off, std::move(where));
  }
  static Error truncated(std::string msg, std::optional<uint64_t> off = std::nullopt, std::string where = {}) {
    return make(ErrorKind::kTruncated, std::move(msg), off, std::move(where));
  }
  static Error unsupported(std::string msg, std::optional<uint64_t> off = std::nullopt, std::string where = {}) {
    return make(ErrorKind::kUnsupported, std::move(msg), off, std::move(where));
  }
  static Error usage(std::string msg) { return make(ErrorKind::kUsage, std::move(msg)); }
  static Error no_input(std::string msg) { return make(ErrorKind::kMissingInput, std::move(msg)); }
  static Error io(std::string msg) { return make(ErrorKind::kIo, std::move(msg)); }
  static Error cant_create(std::string msg) { return make(ErrorKind::kCannotCreate, std::move(msg)); }
  static Error out_of_memory(std::string msg) { return make(ErrorKind::kOutOfMemory, std::move(msg)); }
  static Error internal(std::string msg) { return make(ErrorKind::kInternal, std::move(msg)); }
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
