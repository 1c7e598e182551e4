#include <pressure/error.hpp>
#include <pressure/levels.hpp>
