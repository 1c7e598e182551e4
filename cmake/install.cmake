# Library, headers, CMake package (find_package(pressure) -> pressure::pressure), pressure.pc.
include(CMakePackageConfigHelpers)

install(TARGETS pressure_lib EXPORT pressure-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS pressure_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The HTTP module `serve` and the daemon's `listen` load (src/exporter/CMakeLists.txt).
install(TARGETS pressure_http LIBRARY DESTINATION ${PRESSURE_HTTP_MODULE_DIR})
install(DIRECTORY include/pressure DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/include/pressure/version.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/pressure)

set(PRESSURE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/pressure)
install(EXPORT pressure-targets NAMESPACE pressure:: DESTINATION ${PRESSURE_CMAKE_DIR})
configure_package_config_file(cmake/pressureConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/pressureConfig.cmake INSTALL_DESTINATION ${PRESSURE_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/pressureConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/pressureConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/pressureConfigVersion.cmake
        DESTINATION ${PRESSURE_CMAKE_DIR})

# Relative to the .pc file, so the installed tree can be moved (or installed with --prefix).
file(RELATIVE_PATH PRESSURE_PC_TO_PREFIX "/root/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/root")
configure_file(cmake/pressure.pc.in ${CMAKE_CURRENT_BINARY_DIR}/pressure.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/pressure.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
