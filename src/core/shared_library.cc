#include "flink_savepoint/shared_library_internal.h"

#include <dlfcn.h>

#include <cstdlib>

namespace fsp {

SharedLibrary::SharedLibrary(std::vector<std::string> names, const char* env) {
  if (const char* e = env ? std::getenv(env) : nullptr; e && *e) names = {e};
  for (const auto& name : names) {
    handle_ = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle_) return;
    const char* why = ::dlerror();
    tried_ += (tried_.empty() ? "" : "; ") + (why ? std::string(why) : name + ": not loaded");
  }
}

void* SharedLibrary::find(const char* symbol) {
  void* p = ::dlsym(handle_, symbol);
  if (!p) missing_ += (missing_.empty() ? "" : ", ") + std::string(symbol);
  return p;
}

std::optional<Error> SharedLibrary::error(std::string_view what, std::string_view needed_for, std::string_view hint) const {
  std::string msg;
  if (!handle_) msg = std::string(needed_for) + " need " + std::string(what) + ", which could not be loaded: " + tried_;
  else if (!missing_.empty())
    msg = "the " + std::string(what) + " loaded for " + std::string(needed_for) + " is too old or not " + std::string(what) +
          ": it lacks " + missing_;
  else return std::nullopt;
  Error e = Error::io(std::move(msg));
  e.hint = std::string(hint);
  return e;
}

}  // namespace fsp
