// The smallest program a user writes against the installed library.
#include <iostream>

#include <pressure/pressure.hpp>

int main(int argc, char** argv) {
  // The installed header and library are one version.
  if (pressure::version().text != PRESSURE_VERSION_STRING) return 1;
  pressure::ReaderOptions options;
  if (argc > 1) options.proc_root = argv[1];
  pressure::Reader reader{pressure::Target::system(), options};
  pressure::Result<pressure::Snapshot> s = reader.snapshot();
  if (!s) {
    std::cerr << s.error().message() << '\n';
    return 1;
  }
  const auto& cpu = (*s)[pressure::Resource::cpu];
  if (!cpu || !cpu->some || cpu->some->total_us != 1212742) return 1;
  std::cout << "pressure " << PRESSURE_VERSION_STRING << ": cpu some avg10=" << cpu->some->avg10
            << " total=" << cpu->some->total_us << '\n';
  return 0;
}
