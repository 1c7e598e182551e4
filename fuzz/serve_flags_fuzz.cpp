// Any bytes as `pressure serve --listen` and `--cgroup` values: a parsed address round-trips
// through its own text with a port in range, a refusal always says why; a parsed glob matches
// its own literal base and never recurses without bound. The same bytes as a request's
// Accept-Encoding (never a yes without gzip or * in it), and as a name to print: the escaped
// text has no control character left and escaping it again changes nothing.
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <pressure/selector.hpp>

#include "core/printable.hpp"
#include "exporter/accept_encoding.hpp"
#include "exporter/listen.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto address = pressure::exporter::parse_listen_address(text)) {
    if (address->port < 0 || address->port > 65535) std::abort();
    auto again = pressure::exporter::parse_listen_address(address->to_string());
    if (!again || *again != *address) std::abort();
  } else if (address.error().message().empty()) {
    std::abort();
  }
  if (auto glob = pressure::parse_cgroup_selector(text)) {
    if (glob->literal() && !glob->matches(glob->base())) std::abort();
    // Walking one level at a time agrees with matching the whole path.
    pressure::CgroupSelector::State state = glob->start();
    for (const char* part : {"a", "b.slice", "c"}) state = glob->step(state, part);
    std::string walked = (glob->base() == "/" ? "" : glob->base()) + "/a/b.slice/c";
    if (glob->accepts(state) != glob->matches(walked)) std::abort();
    (void)glob->matches("/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p");
    (void)glob->matches(text);
  } else if (glob.error().message().empty()) {
    std::abort();
  }
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool named = lower.find("gzip") != std::string::npos || lower.find('*') != std::string::npos;
  if (pressure::exporter::accepts_gzip(text) && !named) std::abort();
  std::string shown = pressure::core::printable(text);
  for (unsigned char c : shown)
    if (c < 0x20 || c == 0x7f) std::abort();
  if (pressure::core::printable(shown) != shown) std::abort();
  return 0;
}
