// Sizes and durations in the forms Flink's MemorySize and TimeUtils accept.
#include <gtest/gtest.h>

#include "flink_savepoint/units.h"
#include "test_support.h"

namespace fsp {
namespace {

TEST(Units, MemorySizes) {
  EXPECT_EQ(*parse_memory_size("1073741824"), 1073741824u);
  EXPECT_EQ(*parse_memory_size("1g"), 1ull << 30);
  EXPECT_EQ(*parse_memory_size("1G"), 1ull << 30);
  EXPECT_EQ(*parse_memory_size("256mb"), 256ull << 20);
  EXPECT_EQ(*parse_memory_size("64 kb"), 64ull << 10);
  EXPECT_EQ(*parse_memory_size(" 3 tebibytes "), 3ull << 40);
  EXPECT_EQ(*parse_memory_size("12b"), 12u);
  EXPECT_EQ(*parse_memory_size("7 bytes"), 7u);
  EXPECT_EQ(*parse_memory_size("2 mebibytes"), 2ull << 20);
}

TEST(Units, MemorySizeErrors) {
  auto unit = parse_memory_size("5 parsecs");
  ASSERT_FALSE(unit.ok());
  EXPECT_EQ(unit.error().kind, ErrorKind::kUsage);
  EXPECT_NE(unit.error().message.find("unknown unit 'parsecs'"), std::string::npos) << unit.error().message;
  auto nonum = parse_memory_size("mb");
  ASSERT_FALSE(nonum.ok());
  EXPECT_NE(nonum.error().message.find("does not start with a number"), std::string::npos);
  EXPECT_FALSE(parse_memory_size("").ok());
  EXPECT_FALSE(parse_memory_size("-1g").ok());
  EXPECT_FALSE(parse_memory_size("1.5g").ok());  // MemorySize takes integers only
  for (const char* bad : {"", "-1g", "1.5g", "99999999999999999999999"})
    EXPECT_TRUE(test::is_error(parse_memory_size(bad), ErrorKind::kUsage, {})) << "'" << bad << "'";
  auto big = parse_memory_size("20000000t");
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("too large"), std::string::npos);
  EXPECT_FALSE(parse_memory_size("99999999999999999999999").ok());
}

TEST(Units, Durations) {
  EXPECT_EQ(*parse_duration_ms("1500"), 1500);
  EXPECT_EQ(*parse_duration_ms("500ms"), 500);
  EXPECT_EQ(*parse_duration_ms("1 s"), 1000);
  EXPECT_EQ(*parse_duration_ms("0 ms"), 0);
  EXPECT_EQ(*parse_duration_ms("2 min"), 120000);
  EXPECT_EQ(*parse_duration_ms("2m"), 120000);
  EXPECT_EQ(*parse_duration_ms("1h"), 3600000);
  EXPECT_EQ(*parse_duration_ms("7 d"), 7LL * 24 * 3600 * 1000);
  EXPECT_EQ(*parse_duration_ms("3 days"), 3LL * 24 * 3600 * 1000);
  EXPECT_EQ(*parse_duration_ms("10 seconds"), 10000);
  EXPECT_EQ(*parse_duration_ms("2500 us"), 2);
  EXPECT_EQ(*parse_duration_ms("999999 ns"), 0);
  EXPECT_EQ(*parse_duration_ms("1 HOURS"), 3600000);
}

TEST(Units, DurationErrors) {
  auto u = parse_duration_ms("3 fortnights");
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.error().message.find("unknown unit 'fortnights'"), std::string::npos);
  EXPECT_NE(u.error().hint.find("min"), std::string::npos);
  EXPECT_FALSE(parse_duration_ms("s").ok());
  EXPECT_TRUE(test::is_error(parse_duration_ms("s"), ErrorKind::kUsage, {"does not start with a number"}));
  auto big = parse_duration_ms("9999999999999999 d");
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("too large"), std::string::npos);
}

}  // namespace
}  // namespace fsp
