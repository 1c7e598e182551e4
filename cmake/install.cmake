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

# The daemon's systemd unit, with ExecStart and the configuration path of this install, and
# for systemd 252 (Debian 12), which has no Type=notify-reload, the drop-in that makes it
# Type=notify. Relative directories are under the prefix; systemd also reads
# /usr/local/lib/systemd/system.
set(PRESSURE_SYSTEMD_UNIT_DIR lib/systemd/system CACHE STRING "Where the systemd unit is installed")
set(pressure_systemd_252 OFF)
execute_process(COMMAND systemctl --version OUTPUT_VARIABLE pressure_systemctl ERROR_QUIET RESULT_VARIABLE pressure_rc)
if(pressure_rc EQUAL 0 AND pressure_systemctl MATCHES "^systemd ([0-9]+)" AND CMAKE_MATCH_1 LESS 253)
  set(pressure_systemd_252 ON)
endif()
option(PRESSURE_SYSTEMD_252_DROPIN "Install the unit's drop-in for systemd 252 (default: when systemd here is older than 253)"
  ${pressure_systemd_252})
set(pressure_unit_source ${PROJECT_SOURCE_DIR}/packaging/systemd/pressure-daemon.service)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${pressure_unit_source})
file(READ ${pressure_unit_source} pressure_unit)
string(REPLACE "/usr/bin/pressure" "${CMAKE_INSTALL_FULL_BINDIR}/pressure" pressure_unit "${pressure_unit}")
string(REPLACE "/etc/pressure/" "${CMAKE_INSTALL_FULL_SYSCONFDIR}/pressure/" pressure_unit "${pressure_unit}")
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/packaging/pressure-daemon.service "${pressure_unit}")
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/packaging/pressure-daemon.service DESTINATION ${PRESSURE_SYSTEMD_UNIT_DIR})
if(PRESSURE_SYSTEMD_252_DROPIN)
  install(FILES packaging/systemd/pressure-daemon.service.d/systemd-252.conf
          DESTINATION ${PRESSURE_SYSTEMD_UNIT_DIR}/pressure-daemon.service.d)
endif()

# The example rules as the unit's configuration, never over a file that is already there (an
# edited configuration survives a reinstall); and beside the documentation, always. An absolute
# sysconfdir (Debian's /etc) is kept; a relative one follows `cmake --install --prefix`.
if(IS_ABSOLUTE ${CMAKE_INSTALL_SYSCONFDIR})
  set(pressure_config_dir ${CMAKE_INSTALL_SYSCONFDIR}/pressure)
else()
  set(pressure_config_dir "\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_SYSCONFDIR}/pressure")
endif()
# (file(INSTALL) adds DESTDIR itself.)
install(CODE "
  set(config \"\$ENV{DESTDIR}${pressure_config_dir}/daemon.toml\")
  if(EXISTS \"\${config}\")
    message(STATUS \"Kept: \${config} (the example is in share/doc/pressure/examples)\")
  else()
    file(INSTALL \"${PROJECT_SOURCE_DIR}/packaging/daemon.toml\" DESTINATION \"${pressure_config_dir}\")
  endif()")
install(FILES packaging/daemon.toml packaging/systemd/examples/pressure-watch-example.service
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
