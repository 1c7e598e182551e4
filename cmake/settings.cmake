# Compiler settings every target of this project shares, as INTERFACE targets.
add_library(pressure_warnings INTERFACE)
target_compile_options(pressure_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough)

add_library(pressure_sanitizers INTERFACE)
if(PRESSURE_SANITIZE)
  target_compile_options(pressure_sanitizers INTERFACE
    -fsanitize=${PRESSURE_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(pressure_sanitizers INTERFACE -fsanitize=${PRESSURE_SANITIZE})
endif()

add_library(pressure_settings INTERFACE)
target_link_libraries(pressure_settings INTERFACE
  $<BUILD_INTERFACE:pressure_warnings> $<BUILD_INTERFACE:pressure_sanitizers>)
