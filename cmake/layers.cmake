# The layers of docs/ARCHITECTURE.md, held by the build. Internal headers are included as
# "LAYER/file.hpp" and public ones as <pressure/file.hpp>; a target that had src/ and include/
# on its include path could include any of them. Instead each layer has a view, a directory in
# the build tree of symbolic links to its own folders of src/ and to its own public headers,
# and an INTERFACE target pressure_layer_NAME that puts its view and the views of the layers
# below it on the include path. A target links the view of its layer, so including a header of
# a layer above it (or beside it) fails to compile. Relative includes ("../x.hpp") get around
# any include path; tests/layers.sh refuses them.

# pressure_layer(NAME [DIRS folder...] [HEADERS public-header...] [BELOW layer...])
#   DIRS     folders of src/ this layer owns (their headers are "folder/x.hpp")
#   HEADERS  headers of include/pressure/ (or of the build's generated include/pressure/) it owns
#   BELOW    the layers it may include
function(pressure_layer name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "DIRS;HEADERS;BELOW")
  set(view ${PROJECT_BINARY_DIR}/layers/${name})
  file(REMOVE_RECURSE ${view})
  file(MAKE_DIRECTORY ${view})
  foreach(dir IN LISTS arg_DIRS)
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${dir} ${view}/${dir} SYMBOLIC)
  endforeach()
  foreach(header IN LISTS arg_HEADERS)
    set(source ${PROJECT_SOURCE_DIR}/include/pressure/${header})
    if(NOT EXISTS ${source})
      set(source ${PROJECT_BINARY_DIR}/include/pressure/${header})  # generated (version.hpp)
    endif()
    file(MAKE_DIRECTORY ${view}/pressure)
    file(CREATE_LINK ${source} ${view}/pressure/${header} SYMBOLIC)
    set_property(GLOBAL APPEND PROPERTY PRESSURE_LAYERED_HEADERS ${header})
  endforeach()
  add_library(pressure_layer_${name} INTERFACE)
  target_include_directories(pressure_layer_${name} INTERFACE ${view})
  foreach(below IN LISTS arg_BELOW)
    target_link_libraries(pressure_layer_${name} INTERFACE pressure_layer_${below})
  endforeach()
endfunction()

# Every public header belongs to exactly one layer (a new header must be placed in one).
# UNLAYERED lists the headers above every layer (the umbrella header).
function(pressure_check_layered_headers)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "" "UNLAYERED")
  get_property(layered GLOBAL PROPERTY PRESSURE_LAYERED_HEADERS)
  file(GLOB headers RELATIVE ${PROJECT_SOURCE_DIR}/include/pressure ${PROJECT_SOURCE_DIR}/include/pressure/*.hpp)
  foreach(header IN LISTS headers)
    list(FIND layered ${header} at)
    list(FIND arg_UNLAYERED ${header} above)
    if(at EQUAL -1 AND above EQUAL -1)
      message(FATAL_ERROR "include/pressure/${header} belongs to no layer: add it to the HEADERS of one "
                          "pressure_layer() in src/CMakeLists.txt")
    endif()
  endforeach()
  set(seen)
  foreach(header IN LISTS layered)
    list(FIND seen ${header} at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "include/pressure/${header} is in the HEADERS of two layers")
    endif()
    list(APPEND seen ${header})
  endforeach()
endfunction()

# pressure_layer_library(TARGET LAYER TYPE sources...): a library of one layer, compiled
# against that layer's view only. Its dependencies on the pressure library are link-only, so
# they add no include path.
function(pressure_layer_library target layer type)
  add_library(${target} ${type} ${ARGN})
  target_link_libraries(${target} PUBLIC pressure_layer_${layer} PRIVATE pressure_settings)
  if(type STREQUAL "OBJECT")  # pressure_lib is position-independent (the Python module links it)
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  endif()
endfunction()
