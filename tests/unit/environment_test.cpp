// The service manager's pressure watch as values: base64, the variables' rules as sd-event
// reads them, the trigger text systemd writes. Pure: no environment, no files.
#include <gtest/gtest.h>

#include <pressure/environment.hpp>

namespace pressure {
namespace {

using namespace std::chrono_literals;
using State = EnvironmentWatch::State;

// What systemd 254+ sets for MemoryPressureWatch=auto with the default threshold.
constexpr std::string_view k_systemd_write = "c29tZSAyMDAwMDAgMjAwMDAwMAA=";
constexpr std::string_view k_unit_path = "/sys/fs/cgroup/system.slice/app.service/memory.pressure";

TEST(Base64, DecodesWhatSystemdWrites) {
  auto bytes = decode_base64(k_systemd_write);
  ASSERT_TRUE(bytes) << bytes.error().message();
  EXPECT_EQ(*bytes, std::string("some 200000 2000000\0", 20));
}

TEST(Base64, RoundTripsEveryPaddingAndSkipsWhitespace) {
  EXPECT_EQ(decode_base64("").value(), "");
  EXPECT_EQ(decode_base64("Zg==").value(), "f");
  EXPECT_EQ(decode_base64("Zm8=").value(), "fo");
  EXPECT_EQ(decode_base64("Zm9v").value(), "foo");
  EXPECT_EQ(decode_base64("Zm9v\nYmFy\r\n").value(), "foobar");
  EXPECT_EQ(decode_base64(" Zm 9v ").value(), "foo");
  EXPECT_EQ(decode_base64("AP8=").value(), std::string("\0\xff", 2));
  EXPECT_EQ(decode_base64("+/+/").value(), "\xfb\xff\xbf");
}

TEST(Base64, EncodesAsSystemdAndRoundTrips) {
  EXPECT_EQ(encode_base64(std::string("some 200000 2000000\0", 20)), k_systemd_write);
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    auto back = decode_base64(encode_base64(bytes));
    ASSERT_TRUE(back) << i;
    EXPECT_EQ(*back, bytes) << i;
    bytes.push_back(static_cast<char>(i * 37));
  }
}

TEST(Base64, RefusesWhatIsNotCanonicalBase64) {
  struct Case {
    std::string_view text;
    std::string_view says;
  };
  for (const Case& c : {Case{"Zm9", "ends inside a 4-character group"}, Case{"Zg", "ends inside"},
                        Case{"Zg=", "ends inside"}, Case{"Z===", "'=' where no padding can be"},
                        Case{"=Zg=", "'=' where no padding can be"}, Case{"Zg=a", "data after the '='"},
                        Case{"Zg==Zg==", "data after the '='"}, Case{"Zm9v!A==", "character 5 (!)"},
                        Case{"Zm9-", "not in the base64 alphabet"}, Case{"Zh==", "not canonical"},
                        Case{"Zm9=", "not canonical"}, Case{"Zm\x01v", "character 3 (\\x01)"}}) {
    auto bytes = decode_base64(c.text);
    ASSERT_FALSE(bytes) << c.text << " decoded to " << *bytes;
    EXPECT_EQ(bytes.error().code(), Errc::invalid_argument);
    EXPECT_NE(bytes.error().message().find(c.says), std::string::npos) << bytes.error().message();
  }
}

TEST(EnvironmentWatch, NamesTheVariablesOfEachResource) {
  EXPECT_EQ(watch_variable(Resource::memory), "MEMORY_PRESSURE_WATCH");
  EXPECT_EQ(write_variable(Resource::memory), "MEMORY_PRESSURE_WRITE");
  EXPECT_EQ(watch_variable(Resource::cpu), "CPU_PRESSURE_WATCH");
  EXPECT_EQ(write_variable(Resource::io), "IO_PRESSURE_WRITE");
  EXPECT_EQ(watch_variable(Resource::irq), "");
  auto irq = parse_environment_watch(Resource::irq, "/proc/pressure/irq", std::nullopt);
  ASSERT_FALSE(irq);
  EXPECT_NE(irq.error().message().find("no pressure watch for irq"), std::string::npos);
}

TEST(EnvironmentWatch, UnsetIsTheCallersDefault) {
  auto r = parse_environment_watch(Resource::memory, std::nullopt, k_systemd_write);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->state, State::unset);
  EXPECT_TRUE(r->write.empty());  // $..._WRITE means nothing without $..._WATCH
}

TEST(EnvironmentWatch, DevNullOrEmptyMeansDoNotWatch) {
  for (std::string_view off : {"/dev/null", "//dev//null/", ""}) {
    auto r = parse_environment_watch(Resource::cpu, off, "not base64 at all!");
    ASSERT_TRUE(r) << off << ": " << r.error().message();
    EXPECT_EQ(r->state, State::disabled) << off;
  }
}

TEST(EnvironmentWatch, ReadsAWatchAsSystemdSetsIt) {
  auto r = parse_environment_watch(Resource::memory, k_unit_path, k_systemd_write);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->state, State::watch);
  EXPECT_EQ(r->resource, Resource::memory);
  EXPECT_EQ(r->path, k_unit_path);
  EXPECT_EQ(r->write, std::string("some 200000 2000000\0", 20));
  ASSERT_TRUE(r->trigger);
  EXPECT_EQ(r->trigger->to_string(), "memory some 200ms/2s");
}

TEST(EnvironmentWatch, KnowsTheKernelTriggerOnlyWhenTheWriteIsOne) {
  auto full = parse_environment_watch(Resource::io, "/run/io.sock", "ZnVsbCAxNTAwMDAgMTAwMDAwMAo=");
  ASSERT_TRUE(full && full->trigger);  // "full 150000 1000000\n"
  EXPECT_EQ(full->trigger->to_string(), "io full 150ms/1s");
  for (std::string_view text : {"aGVsbG8=" /* hello */, "c29tZSAxIDI=" /* "some 1 2" is one */}) {
    auto r = parse_environment_watch(Resource::io, "/run/io.sock", text);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->trigger.has_value(), text == "c29tZSAxIDI=") << text;
  }
  auto none = parse_environment_watch(Resource::io, "/run/io.sock", std::nullopt);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->write.empty());
  EXPECT_FALSE(none->trigger);
}

TEST(EnvironmentWatch, BadValuesAreErrorsNamingTheVariable) {
  struct Case {
    std::optional<std::string_view> watch, write;
    std::string_view says;
  };
  std::string long_path = "/" + std::string(k_max_watch_path, 'a');
  std::string long_write(4 * k_max_watch_write + 4, 'A');
  std::string big_write(4 * ((k_max_watch_write + 3) / 3), 'A');  // decodes past the limit
  for (const Case& c : {
           Case{"memory.pressure", std::nullopt,
                "$MEMORY_PRESSURE_WATCH='memory.pressure': not an absolute path"},
           Case{"./memory.pressure", std::nullopt, "not an absolute path"},
           Case{"/sys/fs/cgroup/../etc/passwd", std::nullopt, "not normalised ('..')"},
           Case{"/sys/fs/cgroup/./a", std::nullopt, "not normalised ('.')"},
           Case{"/sys//fs", std::nullopt, "not normalised ('//')"},
           Case{"/a/.", std::nullopt, "not normalised ('.')"},
           Case{"rel\x1b[2J", std::nullopt, "'rel\\x1b[2J'"},
           Case{long_path, std::nullopt, "longer than 4095 bytes"},
           Case{k_unit_path, "c29tZQ=", "$MEMORY_PRESSURE_WRITE='c29tZQ=': not base64: the text ends inside"},
           Case{k_unit_path, "some 200000 2000000",
                "$MEMORY_PRESSURE_WRITE='some 200000 2000000': not base64"},
           Case{k_unit_path, long_write, "bytes can be"},
           Case{k_unit_path, big_write, "more than the 4096 written at once"},
       }) {
    auto r = parse_environment_watch(Resource::memory, c.watch, c.write);
    ASSERT_FALSE(r) << c.says;
    EXPECT_EQ(r.error().code(), Errc::invalid_argument);
    EXPECT_NE(r.error().message().find(c.says), std::string::npos) << r.error().message();
  }
}

TEST(EnvironmentWatch, AcceptsATrailingSlashAndTheLongestPath) {
  EXPECT_TRUE(parse_environment_watch(Resource::memory, "/run/pressure/", std::nullopt));
  EXPECT_TRUE(
      parse_environment_watch(Resource::memory, "/" + std::string(k_max_watch_path - 1, 'a'), std::nullopt));
  EXPECT_TRUE(
      parse_environment_watch(Resource::memory, k_unit_path, std::string(4 * (k_max_watch_write / 3), 'A')));
}

}  // namespace
}  // namespace pressure
