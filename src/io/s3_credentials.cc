// Credentials, region and endpoint for s3:// and gs://, resolved the way the
// AWS CLI resolves them (docs/stores.md): environment first, then the profile
// in the shared credentials and config files.
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "flink_savepoint/s3_file_system.h"

namespace fsp::io {
namespace {

using Section = std::map<std::string, std::string>;

std::string trim(std::string s) {
  size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return {};
  size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

// An INI file as the AWS tools write it: [section], key = value, '#'/';'
// comments, and nested blocks ("s3 =" followed by indented "key = value"
// lines, stored as "s3.key").
std::map<std::string, Section> read_ini(const std::string& path) {
  std::map<std::string, Section> out;
  std::ifstream in(path);
  if (!in) return out;
  std::string line, section, parent;
  while (std::getline(in, line)) {
    if (line.size() > 65536) continue;
    bool indented = !line.empty() && (line[0] == ' ' || line[0] == '\t');
    std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      section = trim(t.substr(1, t.size() - 2));
      parent.clear();
      out[section];
      continue;
    }
    size_t eq = t.find('=');
    if (eq == std::string::npos || section.empty()) continue;
    std::string key = trim(t.substr(0, eq)), value = trim(t.substr(eq + 1));
    if (indented && !parent.empty()) {
      out[section][parent + "." + key] = value;
      continue;
    }
    parent = value.empty() ? key : std::string();
    out[section][key] = value;
  }
  return out;
}

std::string home_file(const EnvLookup& env, const char* var, const char* relative) {
  if (const char* p = env(var); p && *p) return p;
  const char* home = env("HOME");
  return std::string(home && *home ? home : ".") + "/" + relative;
}

int int_or(const char* v, int fallback, int lo, int hi) {
  if (!v || !*v) return fallback;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  if (*end || n < lo || n > hi) return fallback;
  return static_cast<int>(n);
}

}  // namespace

S3Settings s3_settings_from_environment(std::string_view store, const EnvLookup& lookup) {
  EnvLookup env = lookup ? lookup : EnvLookup([](const char* n) -> const char* { return std::getenv(n); });
  auto var = [&](const char* n) -> std::string {
    const char* v = env(n);
    return v ? std::string(v) : std::string();
  };
  S3Settings s;
  s.store = std::string(store);
  s.max_connections = int_or(env("FSP_S3_MAX_CONNECTIONS"), 8, 1, 64);
  s.max_attempts = int_or(env("AWS_MAX_ATTEMPTS"), 5, 1, 20);
  // S3 wants parts of 5 MiB at least (but the last); one PUT takes up to 5 GiB.
  s.multipart_threshold = static_cast<uint64_t>(int_or(env("FSP_S3_MULTIPART_THRESHOLD_MIB"), 16, 5, 5120)) << 20;
  s.part_size = static_cast<uint64_t>(int_or(env("FSP_S3_PART_SIZE_MIB"), 8, 5, 5120)) << 20;

  if (store == "gs") {
    // Cloud Storage's XML API with HMAC keys; SigV4 with region "auto".
    s.access_key_id = var("GS_ACCESS_KEY_ID");
    s.secret_access_key = var("GS_SECRET_ACCESS_KEY");
    s.credentials_source = "GS_ACCESS_KEY_ID";
    s.region = "auto";
    s.region_source = "Cloud Storage";
    s.endpoint = var("GS_ENDPOINT_URL");
    if (s.endpoint.empty()) s.endpoint = "https://storage.googleapis.com";
    if (s.access_key_id.empty() || s.secret_access_key.empty())
      s.credentials_error =
          "no HMAC key for gs://: set GS_ACCESS_KEY_ID and GS_SECRET_ACCESS_KEY (create one with `gcloud storage "
          "hmac create SERVICE_ACCOUNT_EMAIL`)";
    return s;
  }

  std::string profile = var("AWS_PROFILE");
  if (profile.empty()) profile = var("AWS_DEFAULT_PROFILE");
  const bool profile_given = !profile.empty();
  if (profile.empty()) profile = "default";
  const std::string cred_path = home_file(env, "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
  const std::string conf_path = home_file(env, "AWS_CONFIG_FILE", ".aws/config");
  auto creds = read_ini(cred_path);
  auto conf = read_ini(conf_path);
  Section cred_section = creds.count(profile) ? creds[profile] : Section{};
  Section conf_section = profile == "default" && conf.count("default") ? conf["default"]
                         : conf.count("profile " + profile)            ? conf["profile " + profile]
                                                                       : Section{};
  auto setting = [&](const std::string& key) -> std::string {
    if (auto it = cred_section.find(key); it != cred_section.end()) return it->second;
    if (auto it = conf_section.find(key); it != conf_section.end()) return it->second;
    return {};
  };

  // Credentials: the environment wins over the profile (as for the AWS CLI).
  if (!var("AWS_ACCESS_KEY_ID").empty() && !var("AWS_SECRET_ACCESS_KEY").empty()) {
    s.access_key_id = var("AWS_ACCESS_KEY_ID");
    s.secret_access_key = var("AWS_SECRET_ACCESS_KEY");
    s.session_token = var("AWS_SESSION_TOKEN");
    s.credentials_source = "AWS_ACCESS_KEY_ID";
  } else if (!setting("aws_access_key_id").empty() && !setting("aws_secret_access_key").empty()) {
    s.access_key_id = setting("aws_access_key_id");
    s.secret_access_key = setting("aws_secret_access_key");
    s.session_token = setting("aws_session_token");
    s.credentials_source = "profile " + profile + " (" + (cred_section.count("aws_access_key_id") ? cred_path : conf_path) + ")";
  } else {
    std::string what;
    if (!var("AWS_WEB_IDENTITY_TOKEN_FILE").empty()) what = "web-identity credentials (AWS_WEB_IDENTITY_TOKEN_FILE)";
    for (const char* k : {"role_arn", "credential_process", "sso_session", "sso_start_url", "web_identity_token_file"})
      if (what.empty() && !setting(k).empty()) what = std::string("profile ") + profile + "'s " + k;
    std::string msg = "no credentials for s3://: ";
    if (!what.empty())
      msg += what + " is not supported yet; export static credentials first, e.g. `eval \"$(aws configure "
             "export-credentials --format env)\"`";
    else if (profile_given && !creds.count(profile) && !conf.count("profile " + profile))
      msg += "AWS_PROFILE=" + profile + " names no profile in " + cred_path + " or " + conf_path;
    else
      msg += "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with a profile in " + cred_path +
             " (instance-metadata credentials are not supported)";
    s.credentials_error = msg;
  }

  if (!var("AWS_REGION").empty()) s.region = var("AWS_REGION"), s.region_source = "AWS_REGION";
  else if (!var("AWS_DEFAULT_REGION").empty()) s.region = var("AWS_DEFAULT_REGION"), s.region_source = "AWS_DEFAULT_REGION";
  else if (!setting("region").empty()) s.region = setting("region"), s.region_source = "profile " + profile;
  else s.region_source = "default";

  if (!var("AWS_ENDPOINT_URL_S3").empty()) s.endpoint = var("AWS_ENDPOINT_URL_S3");
  else if (!var("AWS_ENDPOINT_URL").empty()) s.endpoint = var("AWS_ENDPOINT_URL");
  else if (!setting("s3.endpoint_url").empty()) s.endpoint = setting("s3.endpoint_url");
  else if (!setting("endpoint_url").empty()) s.endpoint = setting("endpoint_url");
  s.virtual_hosted = setting("s3.addressing_style") == "virtual";
  while (!s.endpoint.empty() && s.endpoint.back() == '/') s.endpoint.pop_back();
  return s;
}

}  // namespace fsp::io
