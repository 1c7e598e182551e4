// Any bytes as a pressure file: no crash, no sanitizer report, and whatever parses obeys the
// kernel's invariants and survives a round trip through the kernel's own format.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <pressure/parse.hpp>

namespace {

std::string kernel_line(const char* kind, const pressure::Stall& s) {
  auto pct = [](pressure::Percent p) {
    std::string frac = std::to_string(p.hundredths() % 100);
    return std::to_string(p.hundredths() / 100) + "." + (frac.size() < 2 ? "0" : "") + frac;
  };
  return std::string(kind) + " avg10=" + pct(s.avg10) + " avg60=" + pct(s.avg60) +
         " avg300=" + pct(s.avg300) + " total=" + std::to_string(s.total_us) + "\n";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = pressure::parse_pressure(text, "fuzz");
  // The kernel-format fast path and the general parser agree: an ignored extra line forces
  // the general one.
  std::string general(text);
  general += "\nx\n";
  auto slow = pressure::parse_pressure(general, "fuzz");
  if (parsed.has_value() != slow.has_value() || (parsed && *parsed != *slow)) std::abort();
  if (!parsed) {
    if (parsed.error().code() != pressure::Errc::malformed || parsed.error().message().empty()) std::abort();
    return 0;
  }
  if (!parsed->some && !parsed->full) std::abort();
  std::string again;
  for (pressure::Line line : pressure::k_lines) {
    const auto& stall = (*parsed)[line];
    if (!stall) continue;
    if (stall->avg10.hundredths() > 10000 || stall->avg60.hundredths() > 10000 ||
        stall->avg300.hundredths() > 10000)
      std::abort();
    again += kernel_line(line == pressure::Line::some ? "some" : "full", *stall);
  }
  auto reparsed = pressure::parse_pressure(again, "round trip");
  if (!reparsed || *reparsed != *parsed) std::abort();
  return 0;
}
