// A system library opened with dlopen when a command first needs it, instead
// of linked: libcurl for s3:// and gs://, libarchive for .tar.zst. Linked, they
// and the libraries they pull in (TLS, Kerberos, LDAP, libxml2, ICU) were
// mapped and initialised at every start, about 8 ms and 40 MB of address space
// that most commands never use. Callers take the function types from the
// library's own headers (decltype(&::name)), so calls stay type-checked.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flink_savepoint/result.h"

namespace fsp {

class SharedLibrary {
 public:
  // The first of `names` that loads; `env`, when set and not empty in the
  // environment, replaces them (a path or a name). Never closed.
  SharedLibrary(std::vector<std::string> names, const char* env);

  // Binds `fn` to the library's `symbol`; a missing one is remembered.
  template <class F>
  void bind(F*& fn, const char* symbol) {
    void* p = handle_ ? find(symbol) : nullptr;
    if (p) fn = reinterpret_cast<F*>(p);
  }

  // Why the library is unusable, or nothing: an I/O error (exit 74) whose
  // message says what `needed_for` needs and what the loader said or which
  // symbols are missing, with `hint` (how to install it).
  std::optional<Error> error(std::string_view what, std::string_view needed_for, std::string_view hint) const;

 private:
  void* find(const char* symbol);
  void* handle_ = nullptr;
  std::string tried_;    // the loader's messages, when nothing loaded
  std::string missing_;  // symbols not found
};

// The function table `Table` of one library, loaded the first time load() is
// called (thread-safe) and the same afterwards: `bind(SharedLibrary&, Table&)`
// binds its members. get() is valid once load() has returned no error.
template <class Table>
class LibraryTable {
 public:
  template <class Bind>
  static const std::optional<Error>& load(std::vector<std::string> names, const char* env, Bind bind, std::string_view what,
                                          std::string_view needed_for, std::string_view hint) {
    static const std::optional<Error> failed = [&]() -> std::optional<Error> {
      SharedLibrary so(std::move(names), env);
      bind(so, table_);
      return so.error(what, needed_for, hint);
    }();
    return failed;
  }
  static const Table& get() { return table_; }

 private:
  static inline Table table_{};
};

}  // namespace fsp

// With a list macro LIST(X) naming each function once (X(easy_init) ...):
// FSP_LIBRARY_MEMBER(prefix) declares a member `name` typed from the header's
// `prefix##name`, FSP_LIBRARY_BIND(prefix) binds it (`so` and `lib` in scope).
#define FSP_LIBRARY_MEMBER(prefix, name) decltype(&::prefix##name) name = nullptr;
#define FSP_LIBRARY_BIND(prefix, name) so.bind(lib.name, #prefix #name);
