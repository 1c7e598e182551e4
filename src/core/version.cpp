#include <pressure/version.hpp>

#ifndef PRESSURE_LIBRARY_PLATFORM
#error "PRESSURE_LIBRARY_PLATFORM comes from src/CMakeLists.txt"
#endif

namespace pressure {

// The header's numbers as compiled into the library, so a program can tell the two apart.
Version version() noexcept {
  return {PRESSURE_VERSION_MAJOR, PRESSURE_VERSION_MINOR, PRESSURE_VERSION_PATCH, PRESSURE_VERSION_STRING,
          PRESSURE_LIBRARY_PLATFORM};
}

}  // namespace pressure
