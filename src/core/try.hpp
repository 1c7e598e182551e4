// Propagating errors of Result (as ccache's TRY): internal to the project, not installed (a
// macro in a public header would reach every consumer).
//
//   Result<Config> parse(...) {
//     PRESSURE_TRY(check_keys(table));            // returns its error, if it has one
//     ...
//   }
#pragma once

#include <utility>

#include <pressure/error.hpp>

// Returns the error of `expr`, a Result, from the enclosing function (which returns a Result).
#define PRESSURE_TRY(expr)                                                                              \
  do {                                                                                                  \
    if (auto try_result_ = (expr); !try_result_) return tl::unexpected(std::move(try_result_).error()); \
  } while (0)
